import { describe, expect, it } from 'vitest';
import { sentenceFor, UserFacingError } from '../../src/errors.js';
import { say } from '../../src/i18n/catalog.js';
import { errorOfFailure, failureOf } from '../../src/jobs/failure-policy.js';
import { bindForServer } from '../../src/jobs/job-binding.js';
import { bindWorkflow } from '../../src/workflows/bind.js';
import { settingRanges } from '../../src/workflows/server-ranges.js';
import { foldSeed, MAX_SEED, randomSeed } from '../../src/workflows/settings.js';
import { validateWorkflow } from '../../src/workflows/validate.js';
import { readObjectInfo, recordedObjectInfo, withModelFiles } from '../comfy/fixtures/node-info.js';
import { buildReady, shippedSource } from './helpers.js';

const txt2img = buildReady(shippedSource('txt2img'));
const files = { checkpoints: ['v1-5-pruned-emaonly.safetensors'] };

/** The recorded server, with KSampler's seed capped at `seedMax` and its steps at `stepsMax` (a patched sampler). */
function cappedServer(seedMax: number, stepsMax = 10000) {
  const body = withModelFiles(recordedObjectInfo(), files);
  const required = (body['KSampler']!['input'] as { required: Record<string, [string, Record<string, unknown>]> })
    .required;
  required['seed']![1]['max'] = seedMax;
  required['steps']![1]['max'] = stepsMax;
  return readObjectInfo(body);
}

const HIGHEST_DRAW = () => 0.9999999999;

describe('values within the ranges a server declares', () => {
  it("reads KSampler's seed range of the real server, 0 to 2^64 - 1 (a float in JSON), and draws seeds within it", () => {
    const ranges = settingRanges(txt2img, readObjectInfo(withModelFiles(recordedObjectInfo(), files)));
    expect(ranges.seed).toEqual({ min: 0, max: 2 ** 64 });
    expect(ranges.steps).toEqual({ min: 1, max: 10000 });
    const bound = bindWorkflow(txt2img, { prompt: 'a fox' }, { ranges, random: HIGHEST_DRAW });
    expect(bound.ok && bound.applied.seed).toBeLessThanOrEqual(MAX_SEED);
  });

  it('draws a fresh seed within 2^32 - 1 when the seed input declares that cap', () => {
    const ranges = settingRanges(txt2img, cappedServer(2 ** 32 - 1));
    expect(ranges.seed).toEqual({ min: 0, max: 2 ** 32 - 1 });
    for (const random of [HIGHEST_DRAW, () => 0.5, Math.random]) {
      const bound = bindWorkflow(txt2img, { prompt: 'a fox' }, { ranges, random });
      if (!bound.ok) throw new Error(JSON.stringify(bound.errors));
      expect(bound.applied.seed).toBeGreaterThanOrEqual(0);
      expect(bound.applied.seed).toBeLessThanOrEqual(2 ** 32 - 1);
      expect(bound.graph['3']!.inputs['seed']).toBe(bound.applied.seed);
    }
  });

  it('folds a seed drawn at queue time into the cap of the server that runs the job, the same way every time', () => {
    const ranges = settingRanges(txt2img, cappedServer(2 ** 32 - 1));
    const job = { settings: { prompt: 'a fox' }, applied: { seed: MAX_SEED } };
    const workflows = { get: () => txt2img, list: () => [txt2img] };
    const first = bindForServer(workflows, txt2img, job, undefined, ranges);
    const again = bindForServer(workflows, txt2img, job, undefined, ranges);
    expect(first.applied.seed).toBe(foldSeed(MAX_SEED, 2 ** 32 - 1));
    expect(first.applied.seed).toBeLessThanOrEqual(2 ** 32 - 1);
    expect(again.applied.seed).toBe(first.applied.seed);
  });

  it("refuses a member's value outside the server's range with a sentence instead of sending it", () => {
    const ranges = settingRanges(txt2img, cappedServer(2 ** 32 - 1, 50));
    const bound = bindWorkflow(txt2img, { prompt: 'a fox', seed: 2 ** 40, steps: 60 }, { ranges });
    expect(bound.ok).toBe(false);
    expect(!bound.ok && bound.errors.map((error) => error.message)).toEqual([
      'seed must be between 0 and 4294967295 on the image server that runs txt2img.',
      'steps must be between 1 and 50 on the image server that runs txt2img.',
    ]);
    expect(!bound.ok && bound.errors.map((error) => say('ja', error.sentence!))).toEqual([
      'txt2img を実行する画像サーバーでは、seed は 0〜4294967295 にしてください。',
      'txt2img を実行する画像サーバーでは、steps は 1〜50 にしてください。',
    ]);
  });

  it('refuses a job for the server that would run it in its member’s language, kept so in the job’s record', () => {
    const ranges = settingRanges(txt2img, cappedServer(2 ** 32 - 1, 50));
    const workflows = { get: () => txt2img, list: () => [txt2img] };
    const job = { settings: { prompt: 'a fox', steps: 60 }, applied: {} };
    let refused: unknown;
    try {
      bindForServer(workflows, txt2img, job, undefined, ranges);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(UserFacingError);
    const stored = failureOf(refused as UserFacingError);
    expect(stored.message).toBe('steps must be between 1 and 50 on the image server that runs txt2img.');
    expect(sentenceFor(errorOfFailure(stored), 'de')).toBe(
      'steps muss auf dem Bildserver, der txt2img ausführt, zwischen 1 und 50 liegen.',
    );
  });

  it('keeps the chosen defaults of every shipped workflow within the recorded server ranges', () => {
    const info = readObjectInfo(withModelFiles(recordedObjectInfo(), files));
    const bound = bindWorkflow(txt2img, { prompt: 'a fox' }, { ranges: settingRanges(txt2img, info) });
    expect(bound.ok).toBe(true);
    expect(validateWorkflow(txt2img, info, 'real').warnings).toEqual([]);
  });

  it('draws seeds uniformly below a small cap and leaves seeds already in range alone', () => {
    expect(randomSeed(() => 0.999999999, 9)).toBeLessThanOrEqual(9);
    expect(randomSeed(() => 0, 9)).toBe(0);
    expect(foldSeed(42, 2 ** 32 - 1)).toBe(42);
    expect(foldSeed(2 ** 32, 2 ** 32 - 1)).toBe(0);
  });
});
