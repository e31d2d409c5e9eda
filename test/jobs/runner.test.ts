import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { sentenceFor, UserFacingError } from '../../src/errors.js';
import type { JobRecord } from '../../src/jobs/index.js';
import { EventLog, Harness, quickRequest } from './harness.js';

const harness = new Harness();

afterEach(() => harness.cleanUp());

/** Runs `enqueue` and returns the UserFacingError it throws. */
async function refusal(attempt: Promise<unknown>): Promise<UserFacingError> {
  const error = await attempt.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof UserFacingError)) throw new Error(`expected a UserFacingError, got ${String(error)}`);
  return error;
}

describe('JobRunner on one server', () => {
  it('runs a job and delivers its image exactly once, with the seed it used', async () => {
    const [emulator] = await harness.startEmulators(5);
    const { runner, log } = await harness.started([emulator!]);
    const job = await runner.enqueue(quickRequest('member-1'));
    expect(job.state).not.toBe('waiting');
    const terminal = await log.terminalOf(job.id);
    if (terminal.type !== 'succeeded') throw new Error(`expected success, got ${terminal.type}`);
    expect(terminal.files).toHaveLength(1);
    expect(terminal.files[0]!.mimeType).toBe('image/png');
    expect(terminal.files[0]!.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(terminal.applied['seed']).toBe(job.applied['seed']);
    const types = log.of(job.id).map((event) => event.type);
    expect(types[0]).toBe('submitted');
    expect(types).toContain('progress');
    expect(log.terminals(job.id)).toHaveLength(1);
    await log.until(async () => (await runner.findJob(job.id))?.deliveredAt !== undefined, 'delivery to be recorded');
  });

  it('serves members round-robin and announces every position change', async () => {
    const [emulator] = await harness.startEmulators(5);
    const { runner, log, bringUp } = await harness.startedWithServerDown(emulator!, {
      promptsPerServer: 1,
      limits: { jobsPerMember: 10 },
    });
    const a: JobRecord[] = [];
    for (let index = 0; index < 4; index++) a.push(await runner.enqueue(quickRequest('alice')));
    const b1 = await runner.enqueue(quickRequest('bob'));
    const c1 = await runner.enqueue(quickRequest('carol'));
    const expected = [a[0]!.id, b1.id, c1.id, a[1]!.id, a[2]!.id, a[3]!.id];
    expect(runner.snapshot().waiting.map((job) => job.jobId)).toEqual(expected);
    // Alice's second job was second in line until Bob arrived, then third, then fourth when Carol came.
    const positions = log.of(a[1]!.id).filter((event) => event.type === 'queued');
    expect(positions).toEqual([
      { type: 'queued', position: 2 },
      { type: 'queued', position: 3 },
      { type: 'queued', position: 4 },
    ]);
    bringUp();
    const all = [...a, b1, c1];
    await log.until(() => all.every((job) => log.terminals(job.id).length === 1), 'every job to end');
    expect(log.submissionOrder()).toEqual(expected);
    // Positions count down as the jobs ahead leave the queue.
    expect(
      log
        .of(a[3]!.id)
        .filter((event) => event.type === 'queued')
        .at(-1),
    ).toEqual({ type: 'queued', position: 1 });
  });

  it('refuses a third job in flight from one member with a clear sentence', async () => {
    const [emulator] = await harness.startEmulators(5);
    const { runner } = await harness.startedWithServerDown(emulator!);
    await runner.enqueue(quickRequest('member-1'));
    await runner.enqueue(quickRequest('member-1'));
    const error = await refusal(runner.enqueue(quickRequest('member-1')));
    expect(error.identifier).toBe('member-limit');
    expect(error.userMessage).toBe('You already have 2 images in progress; wait for one to finish.');
    await expect(runner.enqueue(quickRequest('member-2'))).resolves.toMatchObject({ memberId: 'member-2' });
  });

  it('refuses a job when the queue is full', async () => {
    const [emulator] = await harness.startEmulators(5);
    const { runner } = await harness.startedWithServerDown(emulator!, { limits: { queueLength: 2 } });
    await runner.enqueue(quickRequest('member-1'));
    await runner.enqueue(quickRequest('member-2'));
    const error = await refusal(runner.enqueue(quickRequest('member-3')));
    expect(error.identifier).toBe('queue-full');
    expect(error.userMessage).toBe('The queue is full (2 images waiting); please try again in a few minutes.');
  });

  it('refuses settings the workflow cannot take, and workflows that do not exist', async () => {
    const [emulator] = await harness.startEmulators(5);
    const { runner } = await harness.started([emulator!]);
    const tooManySteps = await refusal(runner.enqueue(quickRequest('member-1', { steps: 500 })));
    expect(tooManySteps.identifier).toBe('invalid-settings');
    expect(tooManySteps.userMessage).toMatch(/steps must be between 1 and 60/);
    expect(sentenceFor(tooManySteps, 'de')).toBe('steps muss für txt2img zwischen 1 und 60 liegen.');
    const unknown = await refusal(runner.enqueue(quickRequest('member-1', { workflow: 'nope' })));
    expect(unknown.userMessage).toBe('There is no workflow called nope; /workflows lists the ones you can use.');
  });

  it('cancels a waiting job, which then never reaches the server', async () => {
    const [emulator] = await harness.startEmulators(5);
    const { runner, log, bringUp } = await harness.startedWithServerDown(emulator!);
    const first = await runner.enqueue(quickRequest('member-1'));
    const second = await runner.enqueue(quickRequest('member-2'));
    await runner.cancel(second.id, 'member-2');
    expect(await log.terminalOf(second.id)).toEqual({ type: 'cancelled' });
    expect(runner.snapshot().waiting.map((job) => job.jobId)).toEqual([first.id]);
    bringUp();
    expect((await log.terminalOf(first.id)).type).toBe('succeeded');
    expect(emulator!.received.map((prompt) => prompt.promptId)).not.toContain(second.promptId);
    expect((await runner.findJob(second.id))?.state).toBe('cancelled');
  });

  it('tells the listeners a job whose position it showed leaves the queue before handing it off, not waiting for them', async () => {
    // Their pending position is dropped first; a card edit under way does not hold the hand-off (the card layer keeps
    // positions from landing after later states: test/discord/card-updater.test.ts).
    const [emulator] = await harness.startEmulators(5);
    const store = await harness.openStore(await harness.storeUrl());
    const runner = await harness.runner(store, [emulator!], { promptsPerServer: 1 });
    const seen: string[] = [];
    let settle: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    runner.onEvent((job, event) => {
      seen.push(`${job.memberId} ${event.type}`);
      if (event.type !== 'leaving-queue') return undefined;
      // A card edit in flight until the job has been handed off.
      return settled.then(() => void seen.push(`${job.memberId} card settled`));
    });
    await runner.resume();
    const log = new EventLog();
    runner.onEvent(log.listener());
    await runner.enqueue(quickRequest('member-1', { steps: 20 }));
    const second = await runner.enqueue(quickRequest('member-2'));
    await log.until(() => log.of(second.id).some((event) => event.type === 'submitted'), 'the second job submitted');
    settle();
    await log.terminalOf(second.id);
    const ofSecond = seen.filter((line) => line.startsWith('member-2 ')).map((line) => line.slice('member-2 '.length));
    expect(ofSecond).toContain('queued');
    const lastShown = ofSecond.lastIndexOf('queued');
    expect(ofSecond.slice(lastShown + 1, ofSecond.indexOf('submitted') + 1)).toEqual(['leaving-queue', 'submitted']);
    expect(ofSecond).toContain('card settled');
  });

  it('interrupts a running job and frees the server for the next one', async () => {
    const [emulator] = await harness.startEmulators(40);
    const { runner, log } = await harness.started([emulator!], { promptsPerServer: 1 });
    const running = await runner.enqueue(quickRequest('member-1', { steps: 50 }));
    const next = await runner.enqueue(quickRequest('member-2'));
    await log.until(() => log.of(running.id).some((event) => event.type === 'progress'), 'progress');
    await runner.cancel(running.id, 'member-1');
    expect(await log.terminalOf(running.id)).toEqual({ type: 'cancelled' });
    expect((await log.terminalOf(next.id)).type).toBe('succeeded');
    expect(log.terminals(running.id)).toHaveLength(1);
  });

  it('deletes a job that only waits in the server’s queue', async () => {
    const [emulator] = await harness.startEmulators(40);
    const { runner, log } = await harness.started([emulator!], { promptsPerServer: 2 });
    const running = await runner.enqueue(quickRequest('member-1', { steps: 20 }));
    const ready = await runner.enqueue(quickRequest('member-2'));
    await log.until(() => log.of(ready.id).some((event) => event.type === 'submitted'), 'submission');
    await log.until(() => emulator!.received.some((prompt) => prompt.promptId === ready.promptId), 'the POST');
    await runner.cancel(ready.id, 'member-2');
    expect(await log.terminalOf(ready.id)).toEqual({ type: 'cancelled' });
    expect((await log.terminalOf(running.id)).type).toBe('succeeded');
  });

  it('lets only the owner cancel, and says so', async () => {
    const [emulator] = await harness.startEmulators(40);
    const { runner, log } = await harness.started([emulator!]);
    const job = await runner.enqueue(quickRequest('member-1'));
    const error = await refusal(runner.cancel(job.id, 'member-2'));
    expect(error.userMessage).toBe('Only the member who asked for this image can cancel it.');
    await log.terminalOf(job.id);
    const finished = await refusal(runner.cancel(job.id, 'member-1'));
    expect(finished.identifier).toBe('job-finished');
  });

  it('fails a job whose node fails, with ComfyUI’s message in the sentence', async () => {
    const [emulator] = await harness.startEmulators(5);
    emulator!.faults.failNode({ classType: 'KSampler' }, 'CUDA out of memory', 'torch.OutOfMemoryError');
    const { runner, log } = await harness.started([emulator!]);
    const job = await runner.enqueue(quickRequest('member-1'));
    const terminal = await log.terminalOf(job.id);
    if (terminal.type !== 'failed') throw new Error(`expected failure, got ${terminal.type}`);
    expect(terminal.error.userMessage).toMatch(/KSampler.*CUDA out of memory/);
    expect((await runner.findJob(job.id))?.failure?.message).toBe(terminal.error.userMessage);
  });

  it('uploads the input image of an image-to-image job to the server that runs it', async () => {
    const [emulator] = await harness.startEmulators(5);
    const { runner, log } = await harness.started([emulator!]);
    const path = join(await harness.tempDir(), '0123abcd.png');
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer();
    await writeFile(path, png);
    const job = await runner.enqueue({
      ...quickRequest('member-1', { workflow: 'img2img', width: undefined, height: undefined }),
      inputImage: { path, filename: 'holiday.png' },
    });
    expect((await log.terminalOf(job.id)).type).toBe('succeeded');
    const graph = emulator!.received.find((prompt) => prompt.promptId === job.promptId)?.prompt as Record<
      string,
      { class_type: string; inputs: Record<string, unknown> }
    >;
    const loadImage = Object.values(graph).find((node) => node.class_type === 'LoadImage');
    expect(loadImage?.inputs['image']).toBe('comfycord/0123abcd.png');
  });

  it('shows waiting and running jobs per member and the servers’ health in its snapshot', async () => {
    const [emulator] = await harness.startEmulators(40);
    const { runner } = await harness.started([emulator!], { promptsPerServer: 1 });
    const running = await runner.enqueue(quickRequest('member-1', { steps: 60 }));
    const waiting = await runner.enqueue(quickRequest('member-2'));
    const snapshot = runner.snapshot();
    expect(snapshot.active).toEqual([expect.objectContaining({ jobId: running.id, server: 'gpu1' })]);
    expect(snapshot.waiting).toEqual([
      expect.objectContaining({ jobId: waiting.id, memberId: 'member-2', position: 1 }),
    ]);
    expect(snapshot.servers).toEqual([
      expect.objectContaining({ name: 'gpu1', health: 'up', inFlight: 1, capacity: 1 }),
    ]);
    expect(snapshot.servers[0]!.workflows).toContain('txt2img');
  });
});

describe('JobRunner with an output size limit', () => {
  it('fails a job whose output is over the limit once, with the limit in the sentence, and submits it only once', async () => {
    const [emulator] = await harness.startEmulators(5);
    const { runner, log } = await harness.started([emulator!], { maxOutputBytes: 1024 });
    const job = await runner.enqueue(quickRequest('member-1'));
    const terminal = await log.terminalOf(job.id);
    if (terminal.type !== 'failed') throw new Error(`expected a failure, got ${terminal.type}`);
    expect(terminal.error).toMatchObject({
      identifier: 'output-too-large',
      userMessage: 'The result was larger than the bot accepts (1 KB).',
    });
    expect(emulator!.received).toHaveLength(1);
  });
});
