import { afterEach, describe, expect, it, vi } from 'vitest';
import { RetryPause } from '../../src/store/retry-pause.js';

describe('a pause before trying again', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds back what failed for the pause, then lets it through; what never failed is never held', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const retries = new RetryPause(30_000);
    expect(retries.waiting('a')).toBe(false);
    retries.failed('a');
    expect(retries.waiting('a')).toBe(true);
    expect(retries.waiting('b')).toBe(false);
    vi.setSystemTime(Date.now() + 29_000);
    expect(retries.waiting('a')).toBe(true);
    vi.setSystemTime(Date.now() + 2_000);
    expect(retries.waiting('a')).toBe(false);
    expect(retries.waiting('a')).toBe(false);
  });
});
