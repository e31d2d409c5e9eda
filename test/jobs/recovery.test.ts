import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import type { JobEvent, JobRunnerOptions } from '../../src/jobs/index.js';
import { RECORD_LOST_SENTENCE } from '../../src/jobs/salvage.js';
import { recordKey } from '../../src/store/store.js';
import { recordFault } from '../faults/ledger.js';
import { EventLog, Harness, quickRequest, tallyOf } from './harness.js';

const harness = new Harness();

afterEach(() => harness.cleanUp());

const isTerminal = (event: JobEvent) => ['succeeded', 'failed', 'cancelled'].includes(event.type);

/**
 * Runs one job to success with a listener that refuses its delivery (Discord unreachable, say), then stops: the job
 * is left succeeded but not delivered, as a bot killed during the upload leaves it.
 */
async function leaveUndelivered(emulator: Emulator, url: string, options: Partial<JobRunnerOptions>) {
  const store = await harness.openStore(url);
  const runner = await harness.runner(store, [emulator], { ...options, delivery: { retryDelayMs: 60_000 } });
  const refused = new EventLog();
  runner.onEvent(
    refused.listener((_job, event) => {
      if (isTerminal(event)) throw new Error('Discord is unreachable');
    }),
  );
  await runner.resume();
  const job = await runner.enqueue(quickRequest('member-1'));
  await refused.terminalOf(job.id);
  await refused.until(async () => (await runner.findJob(job.id))?.deliveryAttempts === 1, 'the refusal');
  const record = await runner.findJob(job.id);
  await runner.stop();
  await store.close();
  return record!;
}

/** Starts a runner over `url` whose only server refuses connections (it is restarting along with the bot). */
async function restartWithServerDown(emulator: Emulator, url: string, options: Partial<JobRunnerOptions>) {
  emulator.faults.refuseConnections(true);
  const store = await harness.openStore(url);
  const runner = await harness.runner(store, [emulator], options);
  const log = new EventLog();
  runner.onEvent(log.listener());
  await runner.resume();
  return { runner, log };
}

describe('recovering a result that was not delivered before a restart', () => {
  it('delivers it from the files kept on disk while its server is still down, then removes them', async () => {
    const [emulator] = await harness.startEmulators(5);
    const url = await harness.storeUrl();
    const resultsDir = join(await harness.tempDir(), 'results');
    const job = await leaveUndelivered(emulator!, url, { resultsDir });
    expect(job.state).toBe('succeeded');
    expect(job.keptFiles).toHaveLength(1);
    expect(await readdir(resultsDir)).toEqual([job.id]);

    const second = await restartWithServerDown(emulator!, url, { resultsDir, outageTimeoutMs: 60_000 });
    const terminal = await second.log.terminalOf(job.id, 20_000);
    if (terminal.type !== 'succeeded') throw new Error(`expected success, got ${terminal.type}`);
    expect(terminal.files[0]!.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(terminal.files[0]!.filename).toBe(job.outputs[0]!.filename);
    await second.log.until(async () => (await second.runner.findJob(job.id))?.deliveredAt !== undefined, 'delivery');
    await second.log.until(async () => (await readdir(resultsDir)).length === 0, 'the kept files to be removed');
    recordFault('ComfyUI and the bot restarted together', [tallyOf(second.log, job.id)]);
  });

  it('waits for a server that takes longer than a few seconds to come back when nothing was kept', async () => {
    const [emulator] = await harness.startEmulators(5);
    const url = await harness.storeUrl();
    const job = await leaveUndelivered(emulator!, url, {});
    expect(job.keptFiles).toBeUndefined();

    const second = await restartWithServerDown(emulator!, url, { outageTimeoutMs: 60_000 });
    // Longer than the 4 tries over about 6 s recovery used to make before turning the job into a failure.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect(second.log.terminals(job.id)).toHaveLength(0);
    emulator!.faults.refuseConnections(false);
    const terminal = await second.log.terminalOf(job.id, 20_000);
    expect(terminal.type).toBe('succeeded');
    recordFault('ComfyUI and the bot restarted together', [tallyOf(second.log, job.id)]);
  }, 40_000);

  it('keeps a succeeded job succeeded when its files cannot be had, and tells the member', async () => {
    const [emulator] = await harness.startEmulators(5);
    const url = await harness.storeUrl();
    const job = await leaveUndelivered(emulator!, url, {});

    const second = await restartWithServerDown(emulator!, url, { outageTimeoutMs: 1_000 });
    const terminal = await second.log.terminalOf(job.id, 10_000);
    if (terminal.type !== 'failed') throw new Error(`expected the member to be told, got ${terminal.type}`);
    expect(terminal.error.identifier).toBe('output-unavailable');
    await second.log.until(async () => (await second.runner.findJob(job.id))?.deliveredAt !== undefined, 'delivery');
    const record = await second.runner.findJob(job.id);
    expect(record?.state).toBe('succeeded');
    expect(record?.outputs).toEqual(job.outputs);
    recordFault('ComfyUI and the bot restarted together', [tallyOf(second.log, job.id)]);
  });
});

/** Breaks a job's own row in the SQLite file the way a torn write would: what is left is not JSON. */
function damageRecord(url: string, jobId: string): void {
  const database = new Database(url.replace(/^sqlite:\/\//, ''));
  const changed = database
    .prepare('UPDATE records SET value = substr(value, 1, 40) WHERE key = ?')
    .run(recordKey('jobs', jobId)).changes;
  database.close();
  expect(changed).toBe(1);
}

/** True once the server's history shows the prompt interrupted (false while it cannot be asked). */
async function interruptedOn(emulator: Emulator, promptId: string): Promise<boolean> {
  const response = await fetch(`${emulator.url}/history/${promptId}`).catch(() => undefined);
  const history = ((await response?.json()) ?? {}) as Record<string, { status?: { messages?: [string][] } }>;
  return (history[promptId]?.status?.messages ?? []).some(([name]) => name === 'execution_interrupted');
}

describe('recovering a job whose own record was damaged before a restart', () => {
  it('tells its member in one sentence, cancels its prompt on the server, and runs the other jobs', async () => {
    const [emulator] = await harness.startEmulators(150);
    const url = await harness.storeUrl();
    const first = await harness.started([emulator!], { promptsPerServer: 1 }, url);
    const damaged = await first.runner.enqueue({
      ...quickRequest('member-1', { steps: 60 }),
      delivery: { channelId: 'channel-1', interactionToken: 'token-1', tokenExpiresAt: Date.now() + 600_000 },
    });
    const other = await first.runner.enqueue(quickRequest('member-2'));
    await first.log.until(() => first.log.of(damaged.id).some((event) => event.type === 'progress'), 'progress');
    await first.runner.stop();
    await first.store.close();
    damageRecord(url, damaged.id);

    const second = await harness.started([emulator!], { promptsPerServer: 1 }, url);
    const terminal = await second.log.terminalOf(damaged.id);
    if (terminal.type !== 'failed') throw new Error(`expected a sentence, got ${terminal.type}`);
    expect(terminal.error.userMessage).toBe(RECORD_LOST_SENTENCE);
    // The member is reached the way the job's card was: its channel and its interaction.
    const told = second.log.jobs.get(damaged.id)!;
    expect(told).toMatchObject({ memberId: 'member-1', channelId: 'channel-1' });
    expect(told.delivery?.interactionToken).toBe('token-1');
    expect(told.settings.prompt).toBe(damaged.settings.prompt);
    await second.log.until(() => interruptedOn(emulator!, damaged.promptId), 'its prompt to be interrupted');
    expect((await second.log.terminalOf(other.id, 30_000)).type).toBe('succeeded');
    await second.log.until(
      async () => (await second.runner.findJob(damaged.id))?.deliveredAt !== undefined,
      'delivery',
    );
    expect(second.log.terminals(damaged.id)).toHaveLength(1);
    recordFault('a corrupt store row', [tallyOf(second.log, damaged.id), tallyOf(second.log, other.id)]);
  }, 60_000);

  it('delivers the result kept on disk when the job had finished', async () => {
    const [emulator] = await harness.startEmulators(5);
    const url = await harness.storeUrl();
    const resultsDir = join(await harness.tempDir(), 'results');
    const job = await leaveUndelivered(emulator!, url, { resultsDir });
    damageRecord(url, job.id);

    const second = await restartWithServerDown(emulator!, url, { resultsDir, outageTimeoutMs: 60_000 });
    const terminal = await second.log.terminalOf(job.id, 20_000);
    if (terminal.type !== 'succeeded') throw new Error(`expected the picture, got ${terminal.type}`);
    expect(terminal.files.map((file) => file.filename)).toEqual(job.outputs.map((output) => output.filename));
    expect(terminal.files[0]!.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(second.log.jobs.get(job.id)).toMatchObject({ memberId: 'member-1', channelId: 'channel-1' });
    await second.log.until(async () => (await readdir(resultsDir)).length === 0, 'the kept files to be removed');
    recordFault('a corrupt store row', [tallyOf(second.log, job.id)]);
  });
});
