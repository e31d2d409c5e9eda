import { describe, expect, it } from 'vitest';
import { UserFacingError } from '../../src/errors.js';
import { checkLimits, DEFAULT_LIMITS } from '../../src/jobs/limits.js';

function refusal(check: () => void): UserFacingError {
  try {
    check();
  } catch (error) {
    if (error instanceof UserFacingError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('checkLimits', () => {
  it('lets a member below the limit queue into a queue with room', () => {
    expect(() => checkLimits(DEFAULT_LIMITS, { memberInFlight: 1, waiting: 99 })).not.toThrow();
  });

  it('refuses a member who already has the most jobs in flight', () => {
    const error = refusal(() => checkLimits(DEFAULT_LIMITS, { memberInFlight: 2, waiting: 0 }));
    expect(error.identifier).toBe('member-limit');
    expect(error.userMessage).toBe('You already have 2 images in progress; wait for one to finish.');
  });

  it('speaks of one image when the limit is one', () => {
    const error = refusal(() => checkLimits({ jobsPerMember: 1, queueLength: 10 }, { memberInFlight: 1, waiting: 0 }));
    expect(error.userMessage).toBe('You already have an image in progress; wait for it to finish.');
  });

  it('refuses any job when the queue is full', () => {
    const error = refusal(() => checkLimits(DEFAULT_LIMITS, { memberInFlight: 0, waiting: 100 }));
    expect(error.identifier).toBe('queue-full');
    expect(error.userMessage).toBe('The queue is full (100 images waiting); please try again in a few minutes.');
  });
});
