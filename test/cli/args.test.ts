import { describe, expect, it } from 'vitest';
import { DEFAULT_OUT_DIR, GENERATE_USAGE, parseGenerateArgs, type ArgsResult } from '../../src/cli/generate/args.js';
import { FLAG_EXAMPLES } from '../../src/workflows/flags.js';

function parsed(argv: string[]) {
  const result = parseGenerateArgs(argv);
  if (!result.ok) throw new Error(`expected success, got: ${result.message}`);
  return result.args;
}

function refused(argv: string[]): string {
  const result: ArgsResult = parseGenerateArgs(argv);
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.args)}`);
  return result.message;
}

describe('parseGenerateArgs', () => {
  it('reads the prompt and its flags with the bot’s flag parser, with out/ as the default folder', () => {
    expect(
      parsed(['a red fox in the snow', '--workflow', 'txt2img', '--ar', '3:2', '--seed', '42', '--n', '2']),
    ).toEqual({
      mode: 'generate',
      prompt: 'a red fox in the snow',
      settings: { workflow: 'txt2img', aspect: '3:2', seed: 42, count: 2 },
      out: DEFAULT_OUT_DIR,
      overrides: [],
      verbose: false,
    });
  });

  it('joins a prompt given as separate words and reads flags written inside a quoted prompt', () => {
    expect(parsed(['a', 'lighthouse', 'at', 'night'])).toMatchObject({ prompt: 'a lighthouse at night' });
    expect(parsed(['a lighthouse --ar 16:9 --steps 30'])).toMatchObject({
      prompt: 'a lighthouse',
      settings: { aspect: '16:9', steps: 30 },
    });
  });

  it('reads every Discord flag: --no takes several words, --cfg and --denoise decimals, --wf a name', () => {
    const args = parsed(['a cat', '--no', 'trees,', 'text', '--cfg', '6.5', '--denoise', '0.4', '--steps', '12']);
    expect(args).toMatchObject({
      prompt: 'a cat',
      settings: { negative: 'trees, text', cfg: 6.5, denoise: 0.4, steps: 12 },
    });
    expect(parsed(['x', '--wf', 'sdxl', '--count', '3', '--aspect', '2:3'])).toMatchObject({
      settings: { workflow: 'sdxl', count: 3, aspect: '2:3' },
    });
  });

  it('accepts the em dash phones put in place of --, as the bot does', () => {
    expect(parsed(['a fox \u2014ar 16:9'])).toMatchObject({ prompt: 'a fox', settings: { aspect: '16:9' } });
  });

  it('takes --out, --image and --server with a value as the next word or after =', () => {
    expect(parsed(['fox', '--out', 'renders/', '--image', 'in.png', '--server', 'gpu1'])).toMatchObject({
      out: 'renders/',
      image: 'in.png',
      server: 'gpu1',
    });
    expect(parsed(['fox', '--out=renders', '--image=a b.png', '--server=gpu2'])).toMatchObject({
      out: 'renders',
      image: 'a b.png',
      server: 'gpu2',
    });
  });

  it('collects every --set in order, values parsed as JSON when they parse and as text otherwise', () => {
    const args = parsed([
      'fox',
      '--set',
      '3.steps=30',
      '--set',
      'KSampler.sampler_name=euler',
      '--set=Load Checkpoint.ckpt_name="model.safetensors"',
      '--set',
      '6.text=a=b',
    ]);
    expect(args).toMatchObject({
      overrides: [
        { node: '3', input: 'steps', value: 30 },
        { node: 'KSampler', input: 'sampler_name', value: 'euler' },
        { node: 'Load Checkpoint', input: 'ckpt_name', value: 'model.safetensors' },
        { node: '6', input: 'text', value: 'a=b' },
      ],
    });
  });

  it('keeps a prompt word that contains = whole, and drops a stray -- separator', () => {
    expect(parsed(['--', 'e=mc2', 'on a blackboard'])).toMatchObject({ prompt: 'e=mc2 on a blackboard' });
  });

  it('turns on verbose output with --verbose', () => {
    expect(parsed(['fox', '--verbose'])).toMatchObject({ verbose: true });
  });

  it('reads --check alone, or with --server and --verbose', () => {
    expect(parsed(['--check'])).toEqual({ mode: 'check', verbose: false });
    expect(parsed(['--check', '--server', 'gpu1', '--verbose'])).toEqual({
      mode: 'check',
      server: 'gpu1',
      verbose: true,
    });
  });

  it('answers --help and -h whatever else is on the line', () => {
    expect(parsed(['--help'])).toEqual({ mode: 'help' });
    expect(parsed(['fox', '--bogus', '-h'])).toEqual({ mode: 'help' });
  });

  it('rejects an unknown flag, naming it and listing both the prompt flags and the options', () => {
    const message = refused(['fox', '--bogus', '1']);
    expect(message).toMatch(
      /^--bogus is not an option I know; the prompt flags are --ar, .* and the options are --out/,
    );
    expect(message).toContain('--set');
  });

  it('rejects a malformed flag value with the bot’s own sentence', () => {
    expect(refused(['fox', '--seed', 'abc'])).toBe(
      '--seed must be a whole number from 0 to 9007199254740991, not "abc".',
    );
    expect(refused(['fox', '--ar', 'wide'])).toMatch(/^--ar must look like 16:9, not "wide"\.$/);
    expect(refused(['fox', '--n', '9'])).toMatch(/^--n must be a whole number from 1 to 4/);
    expect(refused(['fox', '--steps'])).toBe('--steps needs a value, e.g. --steps 30.');
  });

  it('rejects an option without its value, at the end of the line or before another flag', () => {
    expect(refused(['fox', '--out'])).toBe('--out needs a value, e.g. --out out/.');
    expect(refused(['fox', '--image', '--seed', '1'])).toBe('--image needs a value, e.g. --image photo.png.');
    expect(refused(['fox', '--server='])).toBe('--server needs a value, e.g. --server gpu1.');
  });

  it('rejects --out, --image or --server given twice, and a value given to --check', () => {
    expect(refused(['fox', '--out', 'a', '--out', 'b'])).toBe('--out is given twice; keep one.');
    expect(refused(['fox', '--image', 'a.png', '--image=b.png'])).toBe('--image is given twice; keep one.');
    expect(refused(['--check=yes'])).toBe('--check takes no value.');
  });

  it('rejects a --set that is not node.input=value', () => {
    for (const bad of ['steps=30', '3.steps', '.steps=3', '3.=3', '=3']) {
      expect(refused(['fox', '--set', bad])).toBe(
        `--set takes <node>.<input>=<value>, e.g. --set KSampler.sampler_name=euler or --set 3.steps=30, not "${bad}".`,
      );
    }
  });

  it('rejects --check with a prompt or a generation option', () => {
    const sentence = '--check takes no prompt and no generation options; run it alone (or with --server).';
    expect(refused(['--check', 'a fox'])).toBe(sentence);
    expect(refused(['--check', '--seed', '3'])).toBe(sentence);
    expect(refused(['--check', '--out', 'x'])).toBe(sentence);
    expect(refused(['--check', '--set', '3.steps=1'])).toBe(sentence);
  });

  it('has a help text that lists every flag example and every option', () => {
    for (const example of FLAG_EXAMPLES) expect(GENERATE_USAGE).toContain(example);
    for (const option of ['--out', '--image', '--set', '--server', '--check', '--verbose', '--help']) {
      expect(GENERATE_USAGE).toContain(option);
    }
  });
});

describe('--workflow with a file', () => {
  it('takes a path ending in .json as a workflow file, and a name as the prompt flag', () => {
    const file = parseGenerateArgs(['a fox', '--workflow', './flows/fox.json']);
    expect(file).toMatchObject({
      ok: true,
      args: { mode: 'generate', workflowFile: './flows/fox.json', prompt: 'a fox' },
    });
    const inline = parseGenerateArgs(['a fox', '--wf=fox.JSON']);
    expect(inline).toMatchObject({ ok: true, args: { workflowFile: 'fox.JSON' } });
    const name = parseGenerateArgs(['a fox', '--workflow', 'txt2img']);
    expect(name).toMatchObject({ ok: true, args: { settings: { workflow: 'txt2img' } } });
    expect(name.ok && name.args.mode === 'generate' ? name.args.workflowFile : 'not parsed').toBeUndefined();
  });
});
