/**
 * Several processes: the fleet the tests run (`test/fleet/harness.ts`: real comfycord processes started from
 * `src/index.ts` as `npm start` runs it, one real redis-server, two ComfyUI emulators, the fake Discord with a guild on
 * each process's shard), measured four ways.
 *
 * - Failover: a job renders (60 steps of 1 s), the process carrying it is killed with SIGKILL, and the time until the
 *   job's card is edited again (necessarily by another process) is taken. What bounds it: how soon the fleet learns a
 *   carrier died (its BullMQ lock lapses after 15 s; the stalled-job check runs every 5 s) plus the card's 1.5 s edit
 *   interval.
 * - Throughput: jobs per second through the whole pipeline (interaction to finished card) with zero render time and a
 *   closed loop of open jobs, with 1 process on the embedded store (for comparison), 1 on Redis and 3 on Redis.
 * - Queue latency: one job at a time on idle servers, from the job's record being written (`createdAt`, at intake) to
 *   its prompt id being recorded just before the prompt is posted (`submittedAt`): the fair choice, the hand-off to a
 *   carrier and the carrier taking it. Embedded against Redis (1 process, then 3).
 * - The global REST ceiling: the calls the fleet made under Discord's global limit (50 per second for the whole bot)
 *   per job, counted in the fake Discord's call log over the throughput runs, and the jobs per second that leaves.
 *
 * The benchmark tells the truth about the fleet: a job not delivered, delivered twice, or a failover that never came
 * is counted in the figures and listed in `failures` (and `npm run bench` then exits 1), never left out of a figure.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { jobRecordSchema, type JobRecord } from '../src/jobs/model.js';
import { silentLogger } from '../src/logger.js';
import { openStore } from '../src/store/index.js';
import type { InteractionHandle, RecordedCall } from '../test/fakes/discord/index.js';
import { Fleet, type FleetOptions, type FleetProcess } from '../test/fleet/harness.js';
import { finishedCards } from '../test/fleet/outcomes.js';
import { JobTracker, type JobEnd } from './lib/job-tracker.js';
import type { BenchResult, Figure } from './lib/report.js';
import { countRestCalls, perJob, type RestCallCounts } from './lib/rest-calls.js';
import { summarize, type Summary } from './lib/stats.js';
import { DISCORD_GLOBAL_LIMIT, UNLIMITED_ENV } from './throughput.js';
import { statusOf } from '../test/e2e/card-reader.js';

const WORKFLOWS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'workflows');

/** How big a run is. */
export interface FleetBenchOptions {
  /** Kills measured for failover. */
  readonly failovers: number;
  /** Jobs per throughput run, and how many are kept open at once. */
  readonly jobs: number;
  readonly window: number;
  /** Jobs sent one at a time for the queue latency, per setup (after three not counted). */
  readonly latencyJobs: number;
  /** How long one job may take before it counts as not delivered. */
  readonly jobTimeoutMs: number;
}

export const FLEET_DEFAULTS: FleetBenchOptions = {
  failovers: 5,
  jobs: 400,
  window: 40,
  latencyJobs: 40,
  jobTimeoutMs: 120_000,
};

/** Every process takes whatever it is sent (the benchmark measures speed, not limits), on the bench's workflows. */
const BENCH_ENV = {
  ...UNLIMITED_ENV,
  WORKFLOWS_DIR: WORKFLOWS,
  DEFAULT_WORKFLOW: 'bench-tiny',
  // Four prompts on each of the two emulators: at zero render time the servers are never what bounds throughput.
  COMFY_PROMPTS_PER_SERVER: '4',
};

/** How a fleet is set up for one measurement. */
type Setup = Pick<FleetOptions, 'processes' | 'store'>;

const SETUPS = {
  embedded: { processes: 1, store: 'embedded' },
  redisOne: { processes: 1, store: 'redis' },
  redisThree: { processes: 3, store: 'redis' },
} as const satisfies Record<string, Setup>;

type SetupName = keyof typeof SETUPS;

const SETUP_LABELS: Record<SetupName, string> = {
  embedded: '1 process, embedded',
  redisOne: '1 process, Redis',
  redisThree: '3 processes, Redis',
};

/** One kill's outcome. */
interface FailoverSample {
  readonly kill: number;
  /** SIGKILL to the first card edit after the process was gone; undefined when none came. */
  readonly ms: number | undefined;
  /** What that edit showed: progress (`Running…`) or the end (`Done…`, `❌…`). */
  readonly edit: string | undefined;
  /** Whether the job was then delivered exactly once. */
  readonly finishedCards: number;
  readonly problem?: string;
}

/** One throughput run's outcome. */
interface ThroughputRun {
  readonly jobs: number;
  /** With the warm-up's. */
  readonly jobsWithWarmUp: number;
  readonly delivered: number;
  readonly notDelivered: number;
  /** Jobs with more than one finished card. */
  readonly deliveredTwice: number;
  /** Jobs whose card, once the fleet fell quiet, no longer showed their end (a later edit replaced the finished card). */
  readonly endOverwritten: number;
  /** Jobs per second, interaction of the first to the finished card of the last; NaN unless every job was delivered. */
  readonly jobsPerSecond: number;
  /** The same over whatever was delivered, kept for the record when some were not. */
  readonly deliveredPerSecond: number;
  readonly restPerJob: RestCallCounts;
  readonly globalRateLimited: number;
  readonly reasons: string[];
}

/** One queue latency setup's outcome. */
interface LatencyRun {
  /** `createdAt` to `submittedAt` from the job records, ms. */
  readonly enqueueToSubmit: Summary;
  /** The fake's dispatch of the interaction to the emulator's receipt of the prompt, by the bench's clock, ms. */
  readonly interactionToComfy: Summary;
  /** Jobs sent, the warm-up's included. */
  readonly jobs: number;
  readonly notDelivered: number;
}

/** What one setup measured; a part that failed outright is missing, and said in `failures`. */
interface SetupRun {
  latency?: LatencyRun;
  throughput?: ThroughputRun;
  /** Each process's share of the jobs, as the fleet's roll call (`/healthz`) counted them (Redis setups). */
  shares?: Array<{ name: string; succeeded: number; failed: number }>;
  failover?: FailoverSample[];
}

/**
 * Runs the fleet benchmark: for each setup one fleet, on which the queue latency is measured first (idle servers),
 * then the throughput, then (3 processes) the failovers.
 */
export async function runFleetBench(options: FleetBenchOptions = FLEET_DEFAULTS): Promise<BenchResult> {
  const failures: string[] = [];
  const runs: Partial<Record<SetupName, SetupRun>> = {};
  for (const name of Object.keys(SETUPS) as SetupName[]) {
    const run: SetupRun = {};
    runs[name] = run;
    const label = SETUP_LABELS[name];
    try {
      await withFleet(SETUPS[name], async (fleet, storeUrl) => {
        await part(failures, `queue latency, ${label}`, async () => {
          run.latency = await measureQueueLatency(fleet, storeUrl, options);
          if (run.latency.notDelivered > 0) {
            failures.push(
              `queue latency, ${label}: ${run.latency.notDelivered} jobs not delivered once ` +
                `(lost, twice, or the finished card overwritten afterwards)`,
            );
          }
        });
        await part(failures, `throughput, ${label}`, async () => {
          const throughput = await measureThroughput(fleet, options);
          run.throughput = throughput;
          if (throughput.notDelivered + throughput.deliveredTwice + throughput.endOverwritten > 0) {
            failures.push(
              `throughput, ${label}: ${throughput.notDelivered} of ${throughput.jobs} jobs not delivered, ` +
                `${throughput.deliveredTwice} delivered twice, ${throughput.endOverwritten} finished cards ` +
                `overwritten afterwards (${throughput.reasons.join(' | ')})`,
            );
          }
        });
        if (SETUPS[name].store === 'redis') run.shares = await sharesOf(fleet, endedJobs(run));
        if (SETUPS[name].processes > 1 && options.failovers > 0) {
          await part(failures, 'failover', async () => {
            run.failover = await measureFailover(fleet, options);
            for (const sample of run.failover) {
              if (sample.problem) failures.push(`failover ${sample.kill}: ${sample.problem}`);
            }
          });
        }
      });
    } catch (error) {
      failures.push(`${label}: the fleet did not start or stop cleanly: ${firstLines(error)}`);
    }
  }

  const latency = (name: SetupName) => runs[name]?.latency?.enqueueToSubmit;
  const failover = runs.redisThree?.failover ?? [];
  const failoverMs = failover.flatMap((sample) => (sample.ms === undefined ? [] : [sample.ms]));
  const failoverSeconds = summarize(failoverMs.map((ms) => ms / 1000));
  const fleetCalls = runs.redisThree?.throughput?.restPerJob ?? runs.redisOne?.throughput?.restPerJob;
  const notDelivered = Object.values(runs).reduce(
    (total, run) =>
      total +
      (run.throughput
        ? run.throughput.notDelivered + run.throughput.deliveredTwice + run.throughput.endOverwritten
        : 0) +
      (run.latency?.notDelivered ?? 0),
    0,
  );
  const figures: Figure[] = [
    { label: 'failover: SIGKILL to the next card edit, median', value: failoverSeconds.median, unit: 's' },
    { label: 'failover, worst', value: failoverSeconds.max, unit: 's' },
    {
      label: `failovers that came (of ${options.failovers} kills)`,
      value: failoverMs.length,
      unit: '',
      target: { op: '>=', value: options.failovers },
    },
    ...(Object.keys(SETUPS) as SetupName[]).map((name) => ({
      label: `throughput, ${SETUP_LABELS[name]}`,
      value: runs[name]?.throughput?.jobsPerSecond ?? Number.NaN,
      unit: 'jobs/s',
    })),
    {
      label: 'jobs not delivered exactly once (lost, twice, or the finished card overwritten)',
      value: notDelivered,
      unit: '',
      target: { op: '<=', value: 0 },
    },
    ...(Object.keys(SETUPS) as SetupName[]).flatMap((name) => [
      { label: `queue latency p50, ${SETUP_LABELS[name]}`, value: latency(name)?.median ?? Number.NaN, unit: 'ms' },
      { label: `queue latency p95, ${SETUP_LABELS[name]}`, value: latency(name)?.p95 ?? Number.NaN, unit: 'ms' },
    ]),
    {
      label: 'queue latency Redis adds (p50, 1 process)',
      value: (latency('redisOne')?.median ?? Number.NaN) - (latency('embedded')?.median ?? Number.NaN),
      unit: 'ms',
    },
    { label: 'REST calls per job under the global limit (fleet)', value: fleetCalls?.global ?? Number.NaN, unit: '' },
    // Infinity (null in the JSON) when no call of a job counts: the global limit bounds jobs no more.
    {
      label: `jobs/s the global limit allows the whole bot (${DISCORD_GLOBAL_LIMIT} ÷ global per job)`,
      value: fleetCalls ? ceiling(fleetCalls.global) : Number.NaN,
      unit: 'jobs/s',
    },
  ];
  return {
    name: 'fleet',
    title: 'Several processes on one Redis: failover, throughput with 1 and 3 processes, queue latency, global calls',
    figures,
    details: { options, runs },
    failures,
  };
}

/** The jobs a setup's fleet ended so far (the latency and throughput runs with their warm-ups). */
function endedJobs(run: SetupRun): number {
  return (run.latency?.jobs ?? 0) + (run.throughput?.jobsWithWarmUp ?? 0);
}

/** Runs one part of a setup; a part that throws is a failure said in one line, and the next part still runs. */
async function part(failures: string[], what: string, measure: () => Promise<void>): Promise<void> {
  try {
    await measure();
  } catch (error) {
    failures.push(`${what}: ${firstLines(error)}`);
  }
}

/**
 * Each process's jobs, as the fleet's roll call counts them (`ended` in `/healthz`, which each process renews at its
 * heartbeat, every 5 s): read until they add up to the jobs the fleet ended, or 15 s have passed.
 */
async function sharesOf(fleet: Fleet, ended: number): Promise<SetupRun['shares']> {
  type Health = { fleet?: { processes?: Array<{ name: string; ended: { succeeded: number; failed: number } }> } };
  const read = async () => {
    const answer = await fetch(`${fleet.running[0]!.healthUrl}/healthz`).catch(() => undefined);
    const health = (await answer?.json().catch(() => undefined)) as Health | undefined;
    return (health?.fleet?.processes ?? []).map(({ name, ended: { succeeded, failed } }) => ({
      name,
      succeeded,
      failed,
    }));
  };
  const counted = (shares: SetupRun['shares']) =>
    (shares ?? []).reduce((total, share) => total + share.succeeded + share.failed, 0);
  return fleet
    .until('the roll call to count every job', read, (shares) => counted(shares) >= ended, 15_000)
    .catch(async () => read());
}

/** Starts a fleet, runs `work` on it, and closes it (also when `work` throws). */
async function withFleet<T>(setup: Setup, work: (fleet: Fleet, storeUrl: string) => Promise<T>): Promise<T> {
  // The embedded process's SQLite file is the bench's, so its job records can be read afterwards.
  const dir = await mkdtemp(path.join(tmpdir(), 'comfycord-bench-fleet-'));
  const embeddedUrl = `sqlite://${path.join(dir, 'bot.sqlite')}`;
  try {
    const fleet = await Fleet.start({
      processes: setup.processes,
      store: setup.store,
      // A guild on every process's shard, as a sharded bot has: each process receives interactions.
      guilds: setup.processes,
      membersPerGuild: 10,
      stepMs: 0,
      env: { ...BENCH_ENV, ...(setup.store === 'embedded' ? { STORE_URL: embeddedUrl } : {}) },
    });
    try {
      return await work(fleet, setup.store === 'embedded' ? embeddedUrl : fleet.redis.url);
    } finally {
      await fleet.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Each kill: SIGKILL of the process carrying a rendering job, to the job's next card edit. */
async function measureFailover(fleet: Fleet, options: FleetBenchOptions): Promise<FailoverSample[]> {
  const renderStepMs = 1_000;
  const setStepMs = (ms: number) => fleet.emulators.forEach((emulator) => (emulator.faults.stepMs = ms));
  setStepMs(renderStepMs);
  try {
    const samples: FailoverSample[] = [];
    for (let kill = 1; kill <= options.failovers; kill += 1) {
      // Sent from a guild whose process is alive (a killed process is started again before the next kill).
      const { user, channel } = fleet.members[kill % fleet.members.length]!;
      const marker = `failover-${kill}-`;
      const handle = await fleet.discord.sendSlashCommand({
        user,
        channel,
        name: 'imagine',
        options: { prompt: `${marker} job --steps 60` },
      });
      await fleet.until(
        'the job to be running',
        () => statusOf(handle.original ?? {}),
        (text) => text.startsWith('Running'),
      );
      const victim = await carrierOf(fleet);
      const killedAt = Date.now();
      await fleet.kill(victim);
      // An edit the victim had already written when it died may still be read after the kill: only edits read once
      // the process is gone count (the parent sees the exit after the socket's last bytes).
      const goneAt = Date.now();
      const edit = await fleet
        .until(
          'the card to be edited by another process',
          () => handle.edits.find((call) => call.receivedAt > goneAt && call.status < 300),
          (found) => found !== undefined,
          options.jobTimeoutMs,
        )
        .catch(() => undefined);
      // Finish quickly, then put the fleet back together for the next kill.
      setStepMs(1);
      const ended = await fleet
        .until(
          'the job to end',
          () => statusOf(handle.original ?? {}),
          (text) => /^(Done|❌)/.test(text),
          options.jobTimeoutMs,
        )
        .then(
          () => true,
          () => false,
        );
      await fleet.restart(victim);
      setStepMs(renderStepMs);
      const cards = finishedCards(fleet.discord, [{ handle, memberId: user.id, marker }])[0]!;
      const problem = !edit
        ? `no card edit within ${options.jobTimeoutMs / 1000} s of the SIGKILL (card: ${cardText(handle)})`
        : !ended
          ? `the job never ended after the failover (card: ${cardText(handle)})`
          : cards !== 1
            ? `${cards} finished cards`
            : !showsEnd(handle)
              ? `the finished card was overwritten afterwards (card: ${cardText(handle)})`
              : undefined;
      samples.push({
        kill,
        ms: edit ? edit.receivedAt - killedAt : undefined,
        edit: edit ? editKind(edit) : undefined,
        finishedCards: cards,
        ...(problem ? { problem } : {}),
      });
    }
    return samples;
  } finally {
    setStepMs(0);
  }
}

/**
 * The process carrying the job, as the fleet's own roll call says: the one job in the fleet is running on the process
 * whose `/healthz` entry counts a running job (asked of every live process until one answers so).
 */
async function carrierOf(fleet: Fleet): Promise<FleetProcess> {
  const pid = await fleet.until(
    'a process of the roll call to carry the job',
    async () => {
      for (const member of fleet.running) {
        const answer = await fetch(`${member.healthUrl}/healthz`).catch(() => undefined);
        const health = (await answer?.json().catch(() => undefined)) as
          { fleet?: { processes?: Array<{ pid: number; running: number }> } } | undefined;
        const busy = health?.fleet?.processes?.find((process) => process.running > 0);
        if (busy) return busy.pid;
      }
      return undefined;
    },
    (found) => found !== undefined,
    30_000,
  );
  const carrier = fleet.processes.find((member) => member.bot.child.pid === pid);
  if (!carrier) throw new Error(`the roll call names pid ${pid}, which is no process of the fleet`);
  return carrier;
}

/** Jobs per second of a closed loop after a warm-up, whether every job was delivered once, and the calls per job. */
async function measureThroughput(fleet: Fleet, options: FleetBenchOptions): Promise<ThroughputRun> {
  const tracker = new JobTracker();
  try {
    const warmUp = await closedLoop(fleet, tracker, 'warm-up', Math.min(20, options.jobs), 10, options.jobTimeoutMs);
    const warmFailed = warmUp.filter((sent) => !sent.end.ok);
    if (warmFailed.length > 0) {
      throw new Error(`${warmFailed.length} of ${warmUp.length} warm-up jobs not delivered: ${reasonsOf(warmFailed)}`);
    }
    await quiet(fleet);
    const firstCall = fleet.discord.calls.length;
    const refusedBefore = fleet.discord.globalRateLimited;
    const sent = await closedLoop(fleet, tracker, 'throughput', options.jobs, options.window, options.jobTimeoutMs);
    await quiet(fleet);
    const calls = fleet.discord.calls.slice(firstCall);
    const cards = finishedCards(
      fleet.discord,
      sent.map(({ end, memberId, marker }) => ({ handle: end.handle, memberId, marker })),
    );
    const delivered = sent.filter((job) => job.end.ok);
    const startedAt = Math.min(...sent.map((job) => job.end.sentAt));
    const lastCardAt = Math.max(...delivered.map((job) => job.end.endAt));
    const seconds = (lastCardAt - startedAt) / 1000;
    const all = delivered.length === sent.length;
    const overwritten = delivered.filter((job) => !showsEnd(job.end.handle));
    return {
      jobs: sent.length,
      jobsWithWarmUp: warmUp.length + sent.length,
      delivered: delivered.length,
      notDelivered: sent.length - delivered.length,
      deliveredTwice: cards.filter((count) => count > 1).length,
      endOverwritten: overwritten.length,
      jobsPerSecond: all ? sent.length / seconds : Number.NaN,
      deliveredPerSecond: delivered.length / seconds,
      restPerJob: perJob(countRestCalls(calls), sent.length),
      globalRateLimited: fleet.discord.globalRateLimited - refusedBefore,
      reasons: [
        ...reasonsOf(sent.filter((job) => !job.end.ok)),
        ...[...new Set(overwritten.map((job) => `a finished card now shows ${cardText(job.end.handle)}`))].slice(0, 3),
      ],
    };
  } finally {
    tracker.close();
  }
}

interface SentJob {
  readonly end: JobEnd;
  readonly memberId: string;
  readonly marker: string;
}

/** Keeps `window` jobs open, members taking turns, until `total` were sent; resolves with each job's end. */
async function closedLoop(
  fleet: Fleet,
  tracker: JobTracker,
  label: string,
  total: number,
  window: number,
  timeoutMs: number,
): Promise<SentJob[]> {
  const sent: SentJob[] = [];
  let next = 0;
  const members = fleet.members;
  const lane = async (): Promise<void> => {
    while (next < total) {
      const index = next++;
      const { user, channel } = members[index % members.length]!;
      const marker = `${label}-${index + 1}-`;
      const handle = await fleet.discord.sendSlashCommand({
        user,
        channel,
        name: 'imagine',
        options: { prompt: `${marker} job` },
      });
      sent.push({ end: await tracker.follow(handle, timeoutMs), memberId: user.id, marker });
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, total) }, lane));
  return sent;
}

/**
 * One job at a time on idle servers: the job record's `createdAt` (written at intake) to its `submittedAt` (its
 * prompt id recorded by the carrier, just before the prompt is posted), read from the fleet's store afterwards; and
 * the interaction's dispatch to the emulator's receipt of the prompt, by this process's clock, as a cross-check.
 */
async function measureQueueLatency(fleet: Fleet, storeUrl: string, options: FleetBenchOptions): Promise<LatencyRun> {
  const tracker = new JobTracker();
  const warmUp = 3;
  const counted: Array<{ handle: InteractionHandle; memberId: string; marker: string; ok: boolean }> = [];
  try {
    for (let index = 0; index < options.latencyJobs + warmUp; index += 1) {
      // Members take turns across every guild, so each process takes its share of interactions.
      const { user, channel } = fleet.members[index % fleet.members.length]!;
      const marker = `latency-${index + 1}-`;
      const handle = await fleet.discord.sendSlashCommand({
        user,
        channel,
        name: 'imagine',
        options: { prompt: `${marker} job` },
      });
      const end = await tracker.follow(handle, options.jobTimeoutMs);
      // The first ones warm the processes up (connections, compiled code paths) and are not counted.
      if (index >= warmUp) counted.push({ handle, memberId: user.id, marker, ok: end.ok });
      // Let the fleet fall idle, so each job meets idle servers and an idle dispatcher.
      await sleep(100);
    }
  } finally {
    tracker.close();
  }
  // Each job delivered once, its card still showing its end once nothing more comes.
  await quiet(fleet);
  const cards = finishedCards(fleet.discord, counted);
  const store = await openStore(storeUrl, silentLogger());
  try {
    const jobs = store.collection('jobs', jobRecordSchema, { version: 1 });
    const records = await Promise.all(counted.map(async (job) => jobs.get(jobIdOf(job.handle))));
    const enqueueToSubmit = records
      .filter((record): record is JobRecord & { submittedAt: number } => record?.submittedAt !== undefined)
      .map((record) => record.submittedAt - record.createdAt);
    const interactionToComfy = counted.flatMap((job) => {
      const prompt = fleet.submissions.find((submission) => submission.text.includes(job.marker));
      return prompt ? [prompt.at - job.handle.record.createdAt] : [];
    });
    return {
      enqueueToSubmit: summarize(enqueueToSubmit),
      interactionToComfy: summarize(interactionToComfy),
      jobs: options.latencyJobs + warmUp,
      notDelivered: counted.filter((job, index) => !job.ok || !showsEnd(job.handle) || cards[index] !== 1).length,
    };
  } finally {
    await store.close();
  }
}

/** The job id a card's Cancel button carries (every card of a job not yet ended has one). */
function jobIdOf(handle: InteractionHandle): string {
  for (const call of handle.calls) {
    const id = /"custom_id":"cancel:([^"]+)"/.exec(JSON.stringify(call.body))?.[1];
    if (id) return id;
  }
  throw new Error(`no card of interaction ${handle.id} carried a Cancel button (card: ${cardText(handle)})`);
}

/** Whether the job's card shows its end (done, failed or cancelled), as the member sees it now. */
function showsEnd(handle: InteractionHandle): boolean {
  return /^(Done\b|❌|Cancelled)/.test(statusOf(handle.original ?? {}));
}

/** Waits until the fake Discord has received no call for a second: trailing calls of the last jobs are counted. */
async function quiet(fleet: Fleet): Promise<void> {
  let count = -1;
  while (count !== fleet.discord.calls.length) {
    count = fleet.discord.calls.length;
    await sleep(1_000);
  }
}

/** The first few distinct reasons jobs were not delivered, as their members saw them. */
function reasonsOf(jobs: readonly SentJob[]): string[] {
  return [...new Set(jobs.map((job) => job.end.reason ?? 'unknown'))].slice(0, 5);
}

function editKind(call: RecordedCall): string {
  // A card is a Components V2 message: what an edit says is its status, its first Text Display.
  const content = statusOf((call.body ?? {}) as { components?: unknown[] });
  return content !== '' ? content.split('\n')[0]!.slice(0, 60) : 'an edit without content';
}

function cardText(handle: InteractionHandle): string {
  return JSON.stringify(statusOf(handle.original ?? {}).split('\n')[0]);
}

function ceiling(globalPerJob: number): number {
  return globalPerJob > 0 ? DISCORD_GLOBAL_LIMIT / globalPerJob : Infinity;
}

function firstLines(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n').slice(0, 3).join(' / ');
}
