import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/comfy/backoff.js';

describe('Backoff', () => {
  it('doubles from the minimum up to the maximum, jittered between half and all of each step', () => {
    const low = new Backoff({ minMs: 100, maxMs: 1000 }, () => 0);
    const high = new Backoff({ minMs: 100, maxMs: 1000 }, () => 1);
    expect(Array.from({ length: 6 }, () => low.next())).toEqual([100, 100, 200, 400, 500, 500]);
    expect(Array.from({ length: 6 }, () => high.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('starts over after a reset', () => {
    const backoff = new Backoff({ minMs: 50, maxMs: 5000 }, () => 1);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(50);
  });
});
