import { describe, expect, it } from 'vitest';
import { FLAG_NAMES, parseFlags } from '../../src/workflows/flags.js';

function settingsOf(text: string) {
  const result = parseFlags(text);
  if (!result.ok) throw new Error(`expected success, got: ${result.message}`);
  return result;
}

function errorOf(text: string) {
  const result = parseFlags(text);
  if (result.ok) throw new Error('expected an error');
  return result;
}

describe('parseFlags', () => {
  it('returns plain text as the prompt with no settings', () => {
    expect(parseFlags('a red fox  in the\nsnow')).toEqual({ ok: true, prompt: 'a red fox in the snow', settings: {} });
  });

  it('reads every flag of the README example', () => {
    const result = settingsOf('a fox --ar 16:9 --seed 42 --no trees --steps 30 --cfg 6.5 --n 4 --wf portrait');
    expect(result.prompt).toBe('a fox');
    expect(result.settings).toEqual({
      aspect: '16:9',
      seed: 42,
      negative: 'trees',
      steps: 30,
      cfg: 6.5,
      count: 4,
      workflow: 'portrait',
    });
  });

  it('lets --no take several words up to the next flag', () => {
    expect(settingsOf('castle --no trees, people, text --seed 1').settings).toEqual({
      negative: 'trees, people, text',
      seed: 1,
    });
  });

  it('keeps prompt words that come after a flag', () => {
    expect(settingsOf('a fox --seed 7 in the snow').prompt).toBe('a fox in the snow');
  });

  it('accepts flags alone with an empty prompt', () => {
    expect(settingsOf('--seed 7 --ar 2:3')).toEqual({ ok: true, prompt: '', settings: { seed: 7, aspect: '2:3' } });
  });

  it('accepts long names, upper case and the dashes phones substitute', () => {
    expect(settingsOf('x --ASPECT 3:2 \u2014count 2 \u2013workflow sdxl --denoise .5').settings).toEqual({
      aspect: '3:2',
      count: 2,
      workflow: 'sdxl',
      denoise: 0.5,
    });
  });

  it('normalises an aspect ratio to lowest terms', () => {
    expect(settingsOf('--ar 32:18').settings.aspect).toBe('16:9');
  });

  it('rejects an unknown flag and names it', () => {
    expect(errorOf('a fox --style raw')).toMatchObject({
      token: '--style',
      message: expect.stringMatching(/^--style is not a flag I know; use one of --ar, --seed/),
    });
  });

  it('rejects a flag without a value', () => {
    expect(errorOf('a fox --seed')).toMatchObject({
      token: '--seed',
      message: '--seed needs a value, e.g. --seed 42.',
    });
    expect(errorOf('a fox --no --seed 3')).toMatchObject({
      token: '--no',
      message: expect.stringContaining('--no needs a value'),
    });
  });

  it.each([
    ['--seed -1', '--seed must be a whole number from 0 to'],
    ['--seed 1.5', '--seed must be a whole number'],
    ['--seed 99999999999999999999', '--seed must be a whole number'],
    ['--n 5', '--n must be a whole number from 1 to 4, not "5".'],
    ['--n 0', '--n must be a whole number from 1 to 4'],
    ['--steps many', '--steps must be a whole number from 1 to 1000'],
    ['--cfg 6,5', '--cfg must be a number from 0 to 100, not "6,5".'],
    ['--denoise 1.5', '--denoise must be a number from 0 to 1'],
    ['--ar wide', '--ar must look like 16:9, not "wide".'],
    ['--ar 10:1', '--ar must be between 1:4 and 4:1, not "10:1".'],
    ['--ar 0:1', '--ar must be between 1:4 and 4:1'],
    ['--wf ../etc', '--wf takes a workflow name such as txt2img'],
  ])('rejects a malformed value: %s', (text, message) => {
    const error = errorOf(`a fox ${text}`);
    expect(error.message).toContain(message);
    expect(error.token).toBe(text.split(' ')[0]);
  });

  it('rejects a flag given twice, even under two names', () => {
    expect(errorOf('x --n 2 --count 3')).toMatchObject({
      token: '--count',
      message: '--count is given twice (also as --n); keep one.',
    });
  });

  it('leaves dashes inside words and lone dashes in the prompt', () => {
    expect(settingsOf('a well--known - scene -- with 3-4 foxes').prompt).toBe(
      'a well--known - scene -- with 3-4 foxes',
    );
  });

  it('lists its flag names', () => {
    expect(FLAG_NAMES).toEqual(
      expect.arrayContaining(['--ar', '--seed', '--no', '--steps', '--cfg', '--n', '--wf', '--denoise']),
    );
  });
});

describe('the model and LoRA flags', () => {
  it('reads --model and its aliases as the checkpoint', () => {
    expect(settingsOf('a fox --model juggernautXL').settings).toEqual({ checkpoint: 'juggernautXL' });
    expect(settingsOf('--ckpt sdxl/base.safetensors a fox').settings).toEqual({ checkpoint: 'sdxl/base.safetensors' });
  });

  it('adds up several --lora flags, each with an optional weight', () => {
    const result = settingsOf('a fox --lora detail:0.8 --lora sdxl/ink.safetensors --lora grain:-.5 in snow');
    expect(result.prompt).toBe('a fox in snow');
    expect(result.settings.loras).toEqual([
      { name: 'detail', weight: 0.8 },
      { name: 'sdxl/ink.safetensors' },
      { name: 'grain', weight: -0.5 },
    ]);
  });

  it('takes a quoted name with spaces, straight or curly', () => {
    expect(settingsOf('a fox --lora "film grain v2":0.5 --model “my model”').settings).toEqual({
      loras: [{ name: 'film grain v2', weight: 0.5 }],
      checkpoint: 'my model',
    });
  });

  it('refuses a weight that is not a number, and a LoRA without a name', () => {
    expect(errorOf('a fox --lora detail:strong').message).toBe(
      '--lora takes a weight as a number after the colon, such as detail:0.8, not "strong".',
    );
    expect(errorOf('a fox --lora :0.5').message).toBe(
      '--lora needs a LoRA name before the weight, e.g. --lora detail:0.8.',
    );
  });

  it('refuses more LoRAs than any workflow takes, and a model given twice', () => {
    const many = Array.from({ length: 9 }, (_, index) => `--lora l${index}`).join(' ');
    expect(errorOf(`a fox ${many}`).message).toBe('At most 8 LoRAs can be used at once.');
    expect(errorOf('a fox --model a --checkpoint b').message).toBe(
      '--checkpoint is given twice (also as --model); keep one.',
    );
  });
});
