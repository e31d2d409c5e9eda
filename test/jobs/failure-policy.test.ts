import { describe, expect, it } from 'vitest';
import {
  ComfyClosedError,
  ComfyExecutionError,
  ComfyInterruptedError,
  ComfyLostError,
  ComfyUnreachableError,
} from '../../src/comfy/index.js';
import { UserFacingError } from '../../src/errors.js';
import { sentence } from '../../src/i18n/catalog.js';
import { sentenceFor } from '../../src/errors.js';
import {
  decideAfterFailure,
  errorOfFailure,
  failureOf,
  isServerLoss,
  type AttemptFacts,
} from '../../src/jobs/failure-policy.js';
import { jobFailureSchema } from '../../src/jobs/model.js';
import { handOffSchema } from '../../src/jobs/engine/queue-state.js';

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

describe('a failure kept in a job’s record', () => {
  /** Through the store and back: written as JSON, read with the record’s schema. */
  const stored = (error: UserFacingError) => jobFailureSchema.parse(JSON.parse(JSON.stringify(failureOf(error))));

  it('is told in the member’s language by whoever reads it back, its values and phrases included', () => {
    const nodeFailed = new ComfyExecutionError('gpu1', 'prompt-1', {
      nodeId: '8',
      nodeType: 'VAEDecode',
      exceptionType: 'RuntimeError',
      exceptionMessage: 'CUDA out of memory',
      traceback: [],
    });
    const failure = stored(nodeFailed);
    expect(failure.message).toBe('Node 8 (VAEDecode) failed: CUDA out of memory');
    expect(sentenceFor(errorOfFailure(failure), 'de')).toBe(
      'Node 8 (VAEDecode) ist fehlgeschlagen: CUDA out of memory',
    );
    const phrased = new UserFacingError(
      'bad-setting',
      sentence('bind.doesNotTakeUse', { workflow: 'txt2img', setting: sentence('setting.denoise'), other: 'img2img' }),
    );
    expect(sentenceFor(errorOfFailure(stored(phrased)), 'de')).toBe(
      'txt2img nimmt keine Angabe für eine Entrauschungsstärke; nimm --wf img2img.',
    );
    const withParams = new UserFacingError('bad-seed', 'The seed must be a whole number from 0 to 9; leave it empty.', {
      params: { max: 9 },
    });
    expect(sentenceFor(errorOfFailure(stored(withParams)), 'fr')).toContain('9');
    expect(errorOfFailure(stored(withParams)).params).toEqual({ max: 9 });
  });

  it('travels with a waiting job ended by one process and handed to another to tell its member', () => {
    const said = new UserFacingError('workflow-unavailable', sentence('job.cannotRunNow', { workflow: 'sdxl' }));
    const handOff = handOffSchema.parse(
      JSON.parse(
        JSON.stringify({
          key: 'k1',
          memberId: 'm1',
          workflow: 'sdxl',
          at: 1,
          ended: { state: 'failed', ...failureOf(said) },
        }),
      ),
    );
    const ended = handOff.ended!;
    expect(ended.state).toBe('failed');
    if (ended.state !== 'failed') return;
    expect(sentenceFor(errorOfFailure(ended), 'de')).toBe(sentenceFor(said, 'de'));
    expect(sentenceFor(said, 'de')).not.toBe(said.userMessage);
  });

  it('reads a record of the old release (the English sentence alone), translated where the catalogue has it', () => {
    const old = jobFailureSchema.parse({
      identifier: 'servers-down',
      message: 'The image servers cannot be reached right now; please try again in a few minutes.',
    });
    expect(sentenceFor(errorOfFailure(old), 'de')).toBe(
      'Die Bildserver sind gerade nicht erreichbar; bitte versuch es in ein paar Minuten noch einmal.',
    );
    expect(errorOfFailure(undefined).userMessage).toBe(
      'Something went wrong while making this image; please try again.',
    );
  });

  it('says the English it kept when a sentence names a key this release does not know (a newer release wrote it)', () => {
    const newer = jobFailureSchema.parse({
      identifier: 'future',
      message: 'A sentence of a later release.',
      sentences: [{ key: 'job.nodeFailed', params: { node: '1', type: 'X', message: 'y' } }, { key: 'no.such.key' }],
    });
    expect(sentenceFor(errorOfFailure(newer), 'de')).toBe('A sentence of a later release.');
  });
});
