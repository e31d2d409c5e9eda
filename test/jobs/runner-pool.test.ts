import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobRecord, JobRunner } from '../../src/jobs/index.js';
import { silentLogger } from '../../src/logger.js';
import { loadWorkflows } from '../../src/workflows/index.js';
import { recordFault } from '../faults/ledger.js';
import { Harness, quickRequest, tallyOf, type EventLog } from './harness.js';

const harness = new Harness();

afterEach(() => harness.cleanUp());

/** Enqueues `perMember` jobs for each of `members` members, interleaved as people would send them. */
async function enqueueMany(runner: JobRunner, members: number, perMember: number): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  for (let round = 0; round < perMember; round++) {
    for (let member = 1; member <= members; member++) jobs.push(await runner.enqueue(quickRequest(`member-${member}`)));
  }
  return jobs;
}

function expectEachDeliveredOnce(log: EventLog, jobs: readonly JobRecord[]): void {
  for (const job of jobs) expect(log.terminals(job.id), `terminal events of ${job.id}`).toHaveLength(1);
  expect(log.allTerminals()).toHaveLength(jobs.length);
}

describe('JobRunner with a pool of servers', () => {
  it('delivers 60 jobs from 10 members exactly once across three servers of different speeds', async () => {
    const emulators = await harness.startEmulators(2, 6, 12);
    const { runner, log } = await harness.started(emulators, { limits: { jobsPerMember: 6 } });
    let mostInFlight = 0;
    runner.onEvent(() => {
      mostInFlight = Math.max(mostInFlight, ...runner.snapshot().servers.map((server) => server.inFlight));
    });
    const jobs = await enqueueMany(runner, 10, 6);
    await log.until(() => log.allTerminals().length >= jobs.length, 'every job to end', 60_000);
    expectEachDeliveredOnce(log, jobs);
    expect(log.allTerminals().every(({ event }) => event.type === 'succeeded')).toBe(true);
    // Every job was submitted once, each server held at most two prompts, and every server took part.
    const received = emulators.flatMap((emulator) => emulator.received.map((prompt) => prompt.promptId));
    expect(received).toHaveLength(60);
    expect(new Set(received).size).toBe(60);
    expect(mostInFlight).toBeLessThanOrEqual(2);
    for (const emulator of emulators) expect(emulator.received.length).toBeGreaterThan(0);
  }, 90_000);

  it('finishes the jobs of a server that dies on the others', async () => {
    const emulators = await harness.startEmulators(15, 15, 15);
    const { runner, log } = await harness.started(emulators, { limits: { jobsPerMember: 3 } });
    // Twelve jobs: six on the servers' two slots each, six waiting in the bot.
    const jobs = await enqueueMany(runner, 4, 3);
    await log.until(() => log.allTerminals().length >= 3, 'a few jobs to end');
    // gpu1 stalls before it dies, so what it holds now (a prompt rendering and one queued behind it) cannot end there
    // while it is being closed, however slowly this machine runs.
    emulators[0]!.faults.stepMs = 600_000;
    const onDeadServer = runner.snapshot().active.filter((job) => job.server === 'gpu1');
    expect(onDeadServer.length).toBeGreaterThan(0);
    await emulators[0]!.close();
    await log.until(() => log.allTerminals().length >= jobs.length, 'every job to end');
    expectEachDeliveredOnce(log, jobs);
    expect(log.allTerminals().filter(({ event }) => event.type !== 'succeeded')).toEqual([]);
    const moves = log.order.filter(({ event }) => event.type === 'moved');
    for (const { event } of moves) expect(event).toMatchObject({ from: 'gpu1' });
    // The prompt queued behind the running one on the dead server cannot have finished there: it ran elsewhere.
    const handedOutAgain = onDeadServer.filter(({ jobId }) => {
      const handOuts = log.of(jobId).filter((event) => event.type === 'submitted' || event.type === 'moved');
      const last = handOuts.at(-1);
      return last !== undefined && ('server' in last ? last.server : last.to) !== 'gpu1';
    });
    expect(handedOutAgain.length).toBeGreaterThan(0);
    expect(runner.snapshot().servers[0]).toMatchObject({ name: 'gpu1', health: 'down', inFlight: 0 });
  });

  it('takes a server that stops answering out, and uses it again when it is back', async () => {
    const emulators = await harness.startEmulators(5, 5);
    const { runner, log } = await harness.started(emulators, { promptsPerServer: 1 });
    emulators[0]!.faults.refuseConnections(true);
    await log.until(() => runner.snapshot().servers[0]!.health === 'down', 'gpu1 to be down');
    const whileDown = [await runner.enqueue(quickRequest('member-1')), await runner.enqueue(quickRequest('member-2'))];
    await log.until(() => whileDown.every((job) => log.terminals(job.id).length === 1), 'jobs to end');
    for (const job of whileDown) expect(log.of(job.id)).toContainEqual({ type: 'submitted', server: 'gpu2' });
    emulators[0]!.faults.refuseConnections(false);
    await log.until(() => runner.snapshot().servers[0]!.health === 'up', 'gpu1 to be up again');
    const after = [await runner.enqueue(quickRequest('member-1')), await runner.enqueue(quickRequest('member-2'))];
    await log.until(() => after.every((job) => log.terminals(job.id).length === 1), 'jobs to end');
    const servers = after.flatMap((job) => log.of(job.id).filter((event) => event.type === 'submitted'));
    expect(servers).toContainEqual({ type: 'submitted', server: 'gpu1' });
  });

  it('resubmits once a job its server forgot by restarting, then fails it if that happens again', async () => {
    const [emulator] = await harness.startEmulators(30);
    const { runner, log } = await harness.started([emulator!]);
    const job = await runner.enqueue(quickRequest('member-1', { steps: 30 }));
    const progressCount = () => log.of(job.id).filter((event) => event.type === 'progress').length;
    await log.until(() => progressCount() > 0, 'progress');
    await emulator!.restart();
    await log.until(() => log.of(job.id).some((event) => event.type === 'moved'), 'the job to move');
    expect(log.of(job.id)).toContainEqual({ type: 'moved', from: 'gpu1', to: 'gpu1' });
    const progressBefore = progressCount();
    await log.until(() => progressCount() > progressBefore, 'progress on the second attempt');
    await emulator!.restart();
    const terminal = await log.terminalOf(job.id);
    if (terminal.type !== 'failed') throw new Error(`expected failure, got ${terminal.type}`);
    expect(terminal.error.userMessage).toBe(
      'The image servers went down twice while making this image; please try again later.',
    );
    const submittedPrompts = emulator!.received.filter((prompt) => prompt.promptId !== job.promptId);
    expect(submittedPrompts.length).toBe(1);
    expect(log.terminals(job.id)).toHaveLength(1);
    recordFault('ComfyUI restarted and forgot its history', [tallyOf(log, job.id)]);
  });

  it('completes a job resubmitted after its server restarted', async () => {
    const [emulator] = await harness.startEmulators(20);
    const { runner, log } = await harness.started([emulator!]);
    const job = await runner.enqueue(quickRequest('member-1', { steps: 20 }));
    await log.until(() => log.of(job.id).some((event) => event.type === 'progress'), 'progress');
    await emulator!.restart();
    const terminal = await log.terminalOf(job.id);
    expect(terminal.type).toBe('succeeded');
    expect(log.of(job.id).filter((event) => event.type === 'moved')).toHaveLength(1);
    expect((await runner.findJob(job.id))?.moves).toBe(1);
    recordFault('ComfyUI restarted and forgot its history', [tallyOf(log, job.id)]);
  });

  it('sends a job only to servers that have the model it runs with', async () => {
    const sdxlOnly = await harness.startEmulator({ stepMs: 5, checkpoints: ['sd_xl_base_1.0.safetensors'] });
    const everything = await harness.startEmulator({ stepMs: 5 });
    const { runner, log } = await harness.started([sdxlOnly, everything], { limits: { jobsPerMember: 4 } });
    // txt2img runs there with a model the server has, but its own (SD 1.5) is not: jobs naming none go elsewhere.
    expect(runner.snapshot().servers[0]!.workflows).toContain('txt2img');
    const jobs = [];
    for (let index = 0; index < 4; index++) jobs.push(await runner.enqueue(quickRequest('member-1')));
    for (const job of jobs) {
      expect((await log.terminalOf(job.id)).type).toBe('succeeded');
      expect(log.of(job.id)).toContainEqual({ type: 'submitted', server: 'gpu2' });
    }
    expect(sdxlOnly.received).toHaveLength(0);
  });

  it('sends a job naming a checkpoint only to servers that have it', async () => {
    const without = await harness.startEmulator({ stepMs: 5, checkpoints: ['v1-5-pruned-emaonly.safetensors'] });
    const withIt = await harness.startEmulator({ stepMs: 5 });
    const { runner, log } = await harness.started([without, withIt], { limits: { jobsPerMember: 4 } });
    expect(runner.snapshot().servers[0]!.workflows).toContain('txt2img');
    const jobs = [];
    for (let index = 0; index < 4; index++) {
      jobs.push(await runner.enqueue(quickRequest('member-1', { checkpoint: 'v1-5-pruned-emaonly.ckpt' })));
    }
    for (const job of jobs) {
      expect((await log.terminalOf(job.id)).type).toBe('succeeded');
      expect(log.of(job.id)).toContainEqual({ type: 'submitted', server: 'gpu2' });
    }
    expect(without.received).toHaveLength(0);
  });

  it('posts the outputs of the fallback workflow that ran, picked by its own node ids', async () => {
    // upscale's output is node 5; its fallback here saves the upscaled image as node 3 and previews the input as 5.
    const dir = await harness.tempDir();
    for (const file of ['txt2img.json', 'txt2img.manifest.json', 'upscale.json', 'upscale.manifest.json']) {
      await copyFile(join('workflows', file), join(dir, file));
    }
    const basic = JSON.parse(await readFile(join('workflows', 'upscale-basic.json'), 'utf8')) as Record<string, object>;
    basic['5'] = { inputs: { images: ['1', 0] }, class_type: 'PreviewImage', _meta: { title: 'Preview Input' } };
    await writeFile(join(dir, 'upscale-basic.json'), JSON.stringify(basic));
    await copyFile(join('workflows', 'upscale-basic.manifest.json'), join(dir, 'upscale-basic.manifest.json'));
    const workflows = await loadWorkflows(dir, silentLogger());
    const withoutModel = await harness.startEmulator({ stepMs: 2, upscaleModels: [] });
    const { runner, log } = await harness.started([withoutModel], { workflows });

    const path = join(await harness.tempDir(), 'a1b2c3d4.png');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#aa3300' } })
      .png()
      .toFile(path);
    const job = await runner.enqueue({
      memberId: 'member-1',
      channelId: 'channel-1',
      settings: { prompt: '', workflow: 'upscale' },
      inputImage: { path, filename: 'photo.png' },
    });
    const terminal = await log.terminalOf(job.id);
    if (terminal.type !== 'succeeded') throw new Error(`expected success, got ${terminal.type}`);
    expect(terminal.files.map((file) => file.node)).toEqual(['3']);
    expect(await sharp(terminal.files[0]!.bytes).metadata()).toMatchObject({ width: 128, height: 96 });
    expect((await runner.findJob(job.id))?.outputNodes).toEqual(['3']);
  });

  it('refuses a workflow that no server can run, once every server was checked', async () => {
    const emulator = await harness.startEmulator({ stepMs: 5, checkpoints: ['sd_xl_base_1.0.safetensors'] });
    const { runner } = await harness.started([emulator]);
    const error = await runner.enqueue(quickRequest('member-1')).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({
      identifier: 'workflow-unavailable',
      userMessage: 'No image server can run txt2img (it needs nodes or models they lack); try another workflow.',
    });
  });
});
