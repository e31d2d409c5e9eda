import { describe, expect, it } from 'vitest';
import {
  ComfyClosedError,
  ComfyExecutionError,
  ComfyInterruptedError,
  ComfyLostError,
  ComfyUnreachableError,
} from '../../src/comfy/index.js';
import { UserFacingError } from '../../src/errors.js';
import { decideAfterFailure, isServerLoss, type AttemptFacts } from '../../src/jobs/failure-policy.js';

const facts = (overrides: Partial<AttemptFacts> = {}): AttemptFacts => ({
  cancelRequested: false,
  started: false,
  moves: 0,
  attempts: 1,
  ...overrides,
});

const unreachable = new ComfyUnreachableError('gpu1', 'connect ECONNREFUSED');
const lost = new ComfyLostError('gpu1', 'prompt-1', 'not in queue or history');

describe('decideAfterFailure', () => {
  it('cancels whatever happened when the member asked to cancel', () => {
    expect(decideAfterFailure(unreachable, facts({ cancelRequested: true }))).toEqual({ kind: 'cancel' });
    const interrupted = new ComfyInterruptedError('gpu1', 'prompt-1', false);
    expect(decideAfterFailure(interrupted, facts({ cancelRequested: true, started: true }))).toEqual({
      kind: 'cancel',
    });
  });

  it('puts a job that had not started back in the queue when its server is lost', () => {
    expect(decideAfterFailure(unreachable, facts())).toEqual({ kind: 'requeue' });
    expect(decideAfterFailure(new ComfyClosedError('gpu1', 'prompt-1'), facts())).toEqual({ kind: 'requeue' });
  });

  it('moves a started job once, then fails it with a sentence', () => {
    expect(decideAfterFailure(lost, facts({ started: true }))).toEqual({ kind: 'move' });
    const second = decideAfterFailure(lost, facts({ started: true, moves: 1 }));
    expect(second.kind).toBe('fail');
    if (second.kind !== 'fail') return;
    expect(second.error.identifier).toBe('server-lost');
    expect(second.error.userMessage).toBe(
      'The image servers went down twice while making this image; please try again later.',
    );
  });

  it('stops handing a job out after too many lost attempts', () => {
    const action = decideAfterFailure(unreachable, facts({ attempts: 4 }));
    expect(action.kind === 'fail' && action.error.identifier).toBe('servers-unavailable');
  });

  it('passes a node failure through as the member’s sentence', () => {
    const failure = new ComfyExecutionError('gpu1', 'prompt-1', {
      nodeId: '3',
      nodeType: 'KSampler',
      exceptionType: 'RuntimeError',
      exceptionMessage: 'CUDA out of memory',
      traceback: [],
    });
    expect(decideAfterFailure(failure, facts({ started: true }))).toEqual({ kind: 'fail', error: failure });
  });

  it('fails an interruption nobody here asked for', () => {
    const interrupted = new ComfyInterruptedError('gpu1', 'prompt-1', false);
    expect(decideAfterFailure(interrupted, facts({ started: true }))).toEqual({ kind: 'fail', error: interrupted });
  });

  it('hides an unexpected error behind a generic sentence, keeping it as the cause', () => {
    const bug = new TypeError('undefined is not a function');
    const action = decideAfterFailure(bug, facts());
    if (action.kind !== 'fail') throw new Error('expected a failure');
    expect(action.error).toBeInstanceOf(UserFacingError);
    expect(action.error.userMessage).toBe('Something went wrong while making this image; please try again.');
    expect(action.error.cause).toBe(bug);
  });

  it('honours other limits', () => {
    expect(decideAfterFailure(lost, facts({ started: true, moves: 1 }), { maxMoves: 2, maxAttempts: 4 })).toEqual({
      kind: 'move',
    });
  });
});

describe('isServerLoss', () => {
  it('is true for a server that is unreachable, restarted or no longer followed, and false otherwise', () => {
    expect(isServerLoss(unreachable)).toBe(true);
    expect(isServerLoss(lost)).toBe(true);
    expect(isServerLoss(new ComfyClosedError('gpu1', 'prompt-1'))).toBe(true);
    expect(isServerLoss(new ComfyInterruptedError('gpu1', 'prompt-1', true))).toBe(false);
    expect(isServerLoss(new Error('boom'))).toBe(false);
  });
});
