/**
 * What current ComfyUI sends that 0.3.64 did not (PROTOCOL-current.md), read by the client: the new validation error
 * types as sentences, jobs API answers in history's shape, a loop's repeated `executed`, and output items with extra
 * keys.
 */
import { describe, expect, it } from 'vitest';
import { ComfyValidationError } from '../../src/comfy/errors.js';
import { JobState, type JobEvent } from '../../src/comfy/job-state.js';
import { historyOfJob, JobDetailSchema, queueOfJobs } from '../../src/comfy/jobs-api.js';
import { filesOfNodeOutput } from '../../src/comfy/outputs.js';
import { NodeErrorsSchema, type HistoryEntry } from '../../src/comfy/schemas.js';
import { parseComfyMessage } from '../../src/comfy/ws-messages.js';

const ID = '8e3b3a1c-6f2d-4b8e-9c1a-2d3e4f5a6b7c';

/** The sentence a member sees for a refusal with this top-level error and these node errors. */
function sentence(error: Record<string, unknown>, nodeErrors: unknown = {}): string {
  const {
    type,
    message,
    details,
    extra_info: extraInfo,
  } = error as {
    type: string;
    message: string;
    details?: unknown;
    extra_info?: Record<string, unknown>;
  };
  const parsed = NodeErrorsSchema.parse(nodeErrors);
  return new ComfyValidationError('gpu1', 400, type, message, parsed, { details, extraInfo }).userMessage;
}

describe('the new validation errors, as members read them', () => {
  it('names the missing node type of missing_node_type, and of 0.3.x invalid_prompt', () => {
    const current = {
      type: 'missing_node_type',
      message: "Node 'My Upscaler' not found. The custom node may not be installed.",
      details: "Node ID '#2'",
      extra_info: { node_id: '2', class_type: 'UltimateSDUpscale', node_title: 'My Upscaler' },
    };
    expect(sentence(current)).toBe('The workflow uses a node type the image server does not have: UltimateSDUpscale.');
    const old = {
      type: 'invalid_prompt',
      message: 'Cannot execute because node NoSuchNode does not exist.',
      details: "Node ID '#2'",
      extra_info: {},
    };
    expect(sentence(old)).toBe('The workflow uses a node type the image server does not have: NoSuchNode.');
  });

  it('says a node has no type, for both versions', () => {
    const current = {
      type: 'missing_node_type',
      message: "Node 'ID #2' has no class_type. The workflow may be corrupted or a custom node is missing.",
      details: "Node ID '#2'",
      extra_info: { node_id: '2', class_type: null, node_title: null },
    };
    const expected = 'The workflow has a node without a type (node 2); the workflow file may be damaged.';
    expect(sentence(current)).toBe(expected);
    const old = {
      type: 'invalid_prompt',
      message: 'Cannot execute because a node is missing the class_type property.',
      details: "Node ID '#2'",
      extra_info: {},
    };
    expect(sentence(old)).toBe(expected);
  });

  it('explains a dependency cycle, an invalid dynamic input and a badly wired loop', () => {
    const failed = { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation' };
    const cycle = {
      '1': {
        errors: [
          {
            type: 'dependency_cycle',
            message: 'Dependency cycle detected',
            details: '1 (ImageInvert) -> 2 (ImageBlur) -> 1 (ImageInvert)',
            extra_info: { node_id: '1', cycle_nodes: ['1', '2'] },
          },
        ],
        dependent_outputs: ['3'],
        class_type: 'ImageInvert',
      },
    };
    expect(sentence(failed, cycle)).toBe(
      "The workflow's nodes are linked in a circle (1 (ImageInvert) -> 2 (ImageBlur) -> 1 (ImageInvert)): a node " +
        'cannot depend on its own result.',
    );
    const dynamic = {
      '5': {
        errors: [
          {
            type: 'invalid_dynamic_input',
            message: 'Invalid dynamic input',
            details: 'images.image7',
            extra_info: { input_name: 'images.image7' },
          },
        ],
        dependent_outputs: ['9'],
        class_type: 'BatchImagesNode',
      },
    };
    expect(sentence(failed, dynamic)).toBe(
      'In the workflow, node 5 (BatchImagesNode) has an input the image server does not accept: images.image7.',
    );
    const loop = {
      '7': {
        errors: [
          {
            type: 'custom_validation_failed',
            message: 'Custom validation failed for node',
            details: 'loop boundary - loop end without start',
            extra_info: {
              input_name: 'loop boundary',
              loop_error_type: 'loop_end_without_start',
              node_ids: ['7'],
              output_ids: ['9'],
            },
          },
        ],
        dependent_outputs: ['9'],
        class_type: 'ForLoopEnd',
      },
    };
    expect(sentence(failed, loop)).toBe(
      "The workflow's loop at node 7 (ForLoopEnd) is not wired correctly: a loop end has no matching loop start.",
    );
  });

  it('keeps internals out of the sentence and in the log', () => {
    const error = {
      type: 'missing_node_type',
      message: "Node 'X' not found. The custom node may not be installed.",
      details: "Node ID '#2'",
      extra_info: { node_id: '2', class_type: 'Pack http://10.0.0.5:8188/x', node_title: 'X' },
    };
    const refused = new ComfyValidationError(
      'gpu1',
      400,
      error.type,
      error.message,
      {},
      { extraInfo: error.extra_info },
    );
    expect(refused.userMessage).not.toMatch(/10\.0\.0\.5|8188|http/);
    expect(refused.message).toContain('missing_node_type');
  });
});

describe('jobs API answers in the shape of history', () => {
  it('reads a completed job with its outputs, extra item keys included', () => {
    const outputs = {
      '9': {
        images: [
          { filename: 'a.png', subfolder: '', type: 'output', id: 'asset-1', preview_id: 'asset-1', metadata: {} },
        ],
      },
    };
    const status = { status_str: 'success', completed: true, messages: [['execution_success', { prompt_id: ID }]] };
    const entry = historyOfJob(
      JobDetailSchema.parse({ id: ID, status: 'completed', outputs, execution_status: status, workflow: {} }),
    );
    expect(entry?.outputs).toEqual(outputs);
    expect(entry?.status?.status_str).toBe('success');
  });

  it('says how a failed or cancelled job ended when execution_status is missing', () => {
    const failed = historyOfJob(
      JobDetailSchema.parse({
        id: ID,
        status: 'failed',
        execution_error: { prompt_id: ID, node_id: '8', node_type: 'VAEDecode', exception_message: 'boom' },
      }),
    );
    const state = new JobState('gpu1', ID, true);
    expect(state.onHistory(failed)).toMatchObject([{ type: 'failed', error: { failure: { nodeId: '8' } } }]);
    const cancelled = historyOfJob(JobDetailSchema.parse({ id: ID, status: 'cancelled', execution_status: null }));
    expect(new JobState('gpu1', ID, true).onHistory(cancelled)).toMatchObject([{ type: 'interrupted' }]);
    const completed = historyOfJob(JobDetailSchema.parse({ id: ID, status: 'completed', execution_status: null }));
    expect(new JobState('gpu1', ID, true).onHistory(completed)).toMatchObject([{ type: 'succeeded', outputs: [] }]);
  });

  it('treats a job still queued or running as not finished', () => {
    for (const status of ['pending', 'in_progress', 'some_future_status']) {
      expect(historyOfJob(JobDetailSchema.parse({ id: ID, status }))).toBeUndefined();
    }
  });

  it('orders pending jobs as the server will run them, and skips entries it cannot read', () => {
    const queue = queueOfJobs([
      { id: 'b', status: 'pending', priority: 3 },
      { id: 'run', status: 'in_progress', priority: 1 },
      { id: 'a', status: 'pending', priority: 2 },
      { id: 'c', status: 'pending', priority: 2 },
      { status: 'pending' },
      'nonsense',
      { id: 'done', status: 'completed' },
    ]);
    expect(queue).toEqual({ running: ['run'], pending: ['a', 'c', 'b'] });
  });
});

/** Feeds WebSocket messages (type, data) to a job's state. */
function feed(state: JobState, messages: ReadonlyArray<[string, Record<string, unknown>]>): JobEvent[] {
  return messages.flatMap(([type, data]) => {
    const parsed = parseComfyMessage(JSON.stringify({ type, data }));
    if (!parsed.ok) throw new Error(`unreadable ${type}`);
    return state.onMessage(parsed.message);
  });
}

const image = (filename: string) => ({ filename, subfolder: '', type: 'output', id: `asset-${filename}` });

describe('a node inside a loop', () => {
  it('reports the files of each iteration as they come, and takes history as the truth at the end', () => {
    const state = new JobState('gpu1', ID, true);
    const events = feed(state, [
      ['execution_start', { prompt_id: ID }],
      ['executed', { node: '9', display_node: '9', output: { images: [image('a.png')] }, prompt_id: ID }],
      ['executed', { node: '9', display_node: '9', output: { images: [image('b.png')] }, prompt_id: ID }],
      ['executed', { node: '9', display_node: '9', output: { images: [image('b.png')] }, prompt_id: ID }],
      ['execution_success', { prompt_id: ID }],
    ]);
    const outputs = events.filter((event) => event.type === 'output');
    expect(outputs.map((event) => event.type === 'output' && event.files.map((file) => file.filename))).toEqual([
      ['a.png'],
      ['b.png'],
    ]);
    const history: HistoryEntry = {
      outputs: { '9': { images: [image('a.png'), image('b.png'), image('c.png')] } },
      status: undefined,
    };
    const end = state.onHistory(history);
    expect(end).toMatchObject([{ type: 'succeeded' }]);
    const done = end[0]!;
    if (done.type !== 'succeeded') return;
    expect(done.outputs.map((file) => file.filename)).toEqual(['a.png', 'b.png', 'c.png']);
  });

  it('keeps what the iterations reported when history cannot be read', () => {
    const state = new JobState('gpu1', ID, true);
    feed(state, [
      ['executed', { node: '9', output: { images: [image('a.png')] }, prompt_id: ID }],
      ['executed', { node: '9', output: { images: [image('b.png')] }, prompt_id: ID }],
      ['execution_success', { prompt_id: ID }],
    ]);
    const end = state.succeedFromEvents();
    expect(end[0]?.type === 'succeeded' && end[0].outputs.map((file) => file.filename)).toEqual(['a.png', 'b.png']);
  });
});

describe('output items with the keys current ComfyUI adds', () => {
  it('are files like any other: id, preview_id and metadata are ignored', () => {
    const files = filesOfNodeOutput('9', {
      images: [
        {
          filename: 'x.png',
          subfolder: 'sub',
          type: 'output',
          id: '3f2c…',
          preview_id: '3f2c…',
          metadata: { width: 512, height: 512 },
        },
      ],
    });
    expect(files).toEqual([
      { node: '9', filename: 'x.png', subfolder: 'sub', type: 'output', kind: 'image', mimeType: 'image/png' },
    ]);
  });
});
