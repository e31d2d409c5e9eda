import { describe, expect, it } from 'vitest';
import { ComfyExecutionError, describeValidation } from '../../src/comfy/errors.js';
import { memberSafeText } from '../../src/comfy/member-text.js';
import { PromptRejectedSchema, type NodeErrors } from '../../src/comfy/schemas.js';
import { recording } from './fixtures/recordings.js';

interface RecordedAnswer {
  readonly status: number;
  readonly body: unknown;
}

interface RecordedFailure {
  readonly node_id: string;
  readonly node_type: string;
  readonly exception_type: string;
  readonly exception_message: string;
  readonly traceback: string[];
}

const invalid = recording<Record<string, RecordedAnswer>>('invalid_prompts');
const executionError = recording<{ events: { type: string; data: unknown }[] }>('execution_error');

/** The member's sentence for a recorded rejection, as the client builds it from the parsed body. */
function sentenceOf(body: unknown): string {
  const parsed = PromptRejectedSchema.parse(body);
  return describeValidation(parsed.error?.message ?? '', parsed.node_errors);
}

/** The recorded `value_not_in_list` answer with its input and list swapped, as a server with many models writes it. */
function notInList(input: string, value: string, list: readonly string[]): unknown {
  const body = structuredClone(invalid['value_not_in_list']!.body) as { node_errors: NodeErrors };
  const nodeError = body.node_errors['2']!;
  const error = { ...nodeError.errors[0]!, details: `${input}: '${value}' not in ${pythonList(list)}` };
  body.node_errors = { '4': { ...nodeError, class_type: 'CheckpointLoaderSimple', errors: [error] } };
  return body;
}

const pythonList = (items: readonly string[]) => `[${items.map((item) => `'${item}'`).join(', ')}]`;

/** What must never reach a member, whatever the error. */
const LEAKS = /\/(home|opt|root|Users|mnt|srv|var)\b|[a-z]:\\|\\\\|\b\w+\.(lan|internal|local)\b|:\d{4,5}\b/i;

describe("memberSafeText on the real server's validation errors", () => {
  it('turns every recorded rejection into a sentence with no server listing, path or address', () => {
    for (const [name, answer] of Object.entries(invalid)) {
      if (name.startsWith('_') || typeof answer.body !== 'object') continue;
      const sentence = sentenceOf(answer.body);
      expect(sentence, name).toMatch(/^The image server rejected the workflow: .+\.$/);
      expect(sentence, name).not.toMatch(LEAKS);
      expect(sentence, name).not.toMatch(/\[\s*'/);
    }
  });

  it('says which value is not offered without listing what the server offers', () => {
    const sentence = sentenceOf(invalid['value_not_in_list']!.body);
    expect(sentence).toBe(
      "The image server rejected the workflow: node 2 (ImageScale): Value not in list: upscale_method: 'nope' is " +
        'not one of the choices on this server.',
    );
    expect(sentence).not.toMatch(/bilinear|lanczos|bicubic/);
  });

  it("never lists the server's model files, however long the list", () => {
    const models = Array.from({ length: 300 }, (_, index) => `private/client-${index}_v${index}.safetensors`);
    const sentence = sentenceOf(notInList('ckpt_name', 'sd_xl_base_1.0.safetensors', models));
    expect(sentence).toBe(
      'The image server rejected the workflow: node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name: ' +
        "'sd_xl_base_1.0.safetensors' is not one of the choices on this server.",
    );
    expect(sentence).not.toContain('client-');
  });

  it('reads the newer servers\' "(list of length N)" the same way', () => {
    const body = notInList('lora_name', 'detail.safetensors', []);
    const nodeError = (body as { node_errors: NodeErrors }).node_errors['4']!;
    const details = "lora_name: 'detail.safetensors' not in (list of length 42)";
    const changed = {
      ...(body as object),
      node_errors: { '4': { ...nodeError, errors: [{ ...nodeError.errors[0]!, details }] } },
    };
    expect(sentenceOf(changed)).toMatch(/lora_name: 'detail\.safetensors' is not one of the choices on this server\.$/);
  });

  it('keeps what the member can act on: the node, the input, the value and the limit', () => {
    expect(sentenceOf(invalid['value_bigger_than_max']!.body)).toBe(
      'The image server rejected the workflow: node 1 (EmptyImage): Value 999999 bigger than max of 16384: width.',
    );
    expect(sentenceOf(invalid['loadimage_missing_file']!.body)).toBe(
      'The image server rejected the workflow: node 1 (LoadImage): Custom validation failed for node: image - ' +
        'Invalid image file: nope.png.',
    );
  });
});

describe("memberSafeText on the real server's execution errors", () => {
  const recorded = executionError.events.find((event) => event.type === 'execution_error')!.data as RecordedFailure;

  function failureOf(exceptionMessage: string): ComfyExecutionError {
    return new ComfyExecutionError('gpu1', 'p', {
      nodeId: recorded.node_id,
      nodeType: recorded.node_type,
      exceptionType: recorded.exception_type,
      exceptionMessage,
      traceback: recorded.traceback,
    });
  }

  it("keeps the first line of the recorded exception and none of the server's folders", () => {
    const error = failureOf(recorded.exception_message);
    expect(error.userMessage).toBe(
      'Node 2 (SaveImage) failed: **** ERROR: Saving image outside the output folder is not allowed.',
    );
    expect(error.message).toContain('/opt/ComfyUI/output');
  });

  it('removes the folders when a node writes them on the same line', () => {
    const oneLine = recorded.exception_message.replace(/\s*\n\s*/g, ' ');
    expect(oneLine).toContain('/opt/ComfyUI');
    const message = failureOf(oneLine).userMessage;
    expect(message).toBe(
      'Node 2 (SaveImage) failed: **** ERROR: Saving image outside the output folder is not allowed. ' +
        'full_output_folder: [path] output_dir: [path] commonpath: [path]',
    );
  });
});

describe('memberSafeText', () => {
  it('keeps the first line, removes addresses and cuts long text', () => {
    expect(memberSafeText('\n  first   line  \nsecond')).toBe('first line');
    expect(memberSafeText('see 192.168.1.20:8188 now')).toBe('see [address] now');
    expect(memberSafeText('x'.repeat(500))).toHaveLength(200);
  });

  it.each([
    [
      "[Errno 2] No such file or directory: '/home/alice/ComfyUI/models/checkpoints/x.safetensors'",
      "[Errno 2] No such file or directory: 'x.safetensors'",
    ],
    ['C:\\Users\\bob\\ComfyUI\\models\\loras\\detail.safetensors was not found', 'detail.safetensors was not found'],
    ['cannot read \\\\nas\\models\\sdxl.safetensors', 'cannot read sdxl.safetensors'],
    ['see ~/ComfyUI/custom_nodes/pack/__init__.py, line 4', 'see __init__.py, line 4'],
    ['missing folder /opt/ComfyUI/models/upscale_models', 'missing folder [path]'],
    ['fullpath: models/x/y.bin is broken', 'fullpath: [path] is broken'],
  ])('removes file paths, keeping the file name: %s', (text, expected) => {
    expect(memberSafeText(text)).toBe(expected);
  });

  it.each([
    ['Could not connect to gpu1.lan:8188, retrying', 'Could not connect to [address], retrying'],
    ['Could not resolve comfy.internal', 'Could not resolve [address]'],
    ['Failed to download from huggingface.co after 3 tries', 'Failed to download from [address] after 3 tries'],
    ['no route to comfy-0.comfy.svc.cluster.local', 'no route to [address]'],
    ['Connection to localhost:8188 refused', 'Connection to [address] refused'],
    ['connect to [::1]:8188 failed', 'connect to [address] failed'],
    ['fetching https://user:secret@models.example/a.bin', 'fetching [address]'],
  ])('removes host names, with or without a scheme: %s', (text, expected) => {
    expect(memberSafeText(text)).toBe(expected);
  });

  it.each([
    'torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB',
    'c10::Error on cuda:0 at 12:30:45',
    'width / height must be a multiple of 8, and/or use sd_xl_base_1.0.safetensors',
    "Value 0 smaller than min of 1: width, e.g. 'abc'",
  ])('leaves ordinary error text alone: %s', (text) => {
    expect(memberSafeText(text)).toBe(text);
  });
});
