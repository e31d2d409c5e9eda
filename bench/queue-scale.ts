/**
 * The fleet's queue state at scale: how admission (intake) and dispatch (taking the next job for a server slot) cost
 * when the shared queue already holds 1,000, 5,000 or 20,000 waiting jobs, with three processes changing it at once.
 *
 * One real redis-server; three real Node processes (this file, run as a child with `worker`), each with its own
 * connection and its own `JobQueue` over the fleet's `RedisCell`, exactly the code a fleet process runs. Two take
 * requests (each: the next sequence with its intake entry, then the admission, as intake.ts does), the third
 * dispatches (takes the first job in fair order, then settles it, as a job's carrier ends it). Every operation's
 * latency is measured where it is called; the bytes Redis received and sent (INFO's network counters) are divided by
 * the queue writes and reads made. The state is seeded in one write: 200 members, their jobs in fair order.
 *
 * Run: `npx tsx bench/queue-scale.ts` (prints one JSON document; `--sizes 1000,5000` for fewer).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RedisCell, QUEUE_STATE_KEY } from '../src/jobs/engine/redis-cell.js';
import type { QueuedJob } from '../src/jobs/engine/queue-state.js';
import { FairQueue } from '../src/jobs/fair-queue.js';
import { JobQueue } from '../src/jobs/job-queue.js';
import { silentLogger } from '../src/logger.js';
import { startRedisServer } from '../test/store/redis-server.js';
import { summarize, type Summary } from './lib/stats.js';

const SIZES = [100, 1_000, 5_000, 20_000];
const MEMBERS = 200;
/** Operations each process makes per size (after 3 not counted). */
const OPERATIONS = 30;
const WARM_UP = 3;
const LIMITS = { jobsPerMember: Number.MAX_SAFE_INTEGER, queueLength: Number.MAX_SAFE_INTEGER };

interface WorkerReport {
  readonly role: 'intake' | 'dispatch';
  readonly ms: number[];
}

export interface QueueScaleRow {
  readonly waiting: number;
  readonly stateBytes: number;
  readonly admissionMs: Summary;
  readonly dispatchMs: Summary;
  /** Bytes between the processes and Redis per queue operation (a read, a write, their retries), both ways. */
  readonly redisBytesPerOperation: number;
}

const queued = (id: string, member: number, createdAt: number): QueuedJob => ({
  id,
  memberId: `member-${String(member).padStart(18, '0')}`,
  workflow: 'txt2img',
  createdAt,
});

/** One write holding `size` waiting jobs of `MEMBERS` members, admitted, in fair order. */
async function seed(queue: JobQueue, cell: RedisCell, size: number): Promise<void> {
  await queue.refresh();
  await cell.change((state, now) => {
    const fair = FairQueue.fromState(state.waiting);
    for (let index = 0; index < size; index++) {
      const job = queued(`seed-${index.toString(36).padStart(8, '0')}`, index % MEMBERS, now);
      fair.push(job);
      state.admitted[job.id] = { memberId: job.memberId, at: now };
    }
    state.waiting = fair.toState();
  });
}

/** A child process: its own connection, its own queue, `OPERATIONS` operations of its role. */
async function worker(url: string, role: WorkerReport['role'], name: string): Promise<void> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new JobQueue(new RedisCell(connection, silentLogger()));
  const ms: number[] = [];
  for (let operation = 0; operation < OPERATIONS + WARM_UP; operation++) {
    const started = performance.now();
    if (role === 'intake') {
      const id = `${name}-${operation}`;
      await queue.nextSequence({ jobId: id, graceMs: 60_000 });
      await queue.admit(queued(id, operation % MEMBERS, Date.now()), LIMITS, 60_000);
    } else {
      const next = queue.ordered(await queue.refresh())[0];
      if (next !== undefined && (await queue.take(next.id, 'gpu1')) !== undefined) {
        await queue.finished(next.id);
        await queue.settled(next.id);
      }
    }
    if (operation >= WARM_UP) ms.push(performance.now() - started);
  }
  process.stdout.write(`${JSON.stringify({ role, ms } satisfies WorkerReport)}\n`);
  await connection.quit();
}

async function runWorker(url: string, role: WorkerReport['role'], name: string): Promise<WorkerReport> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'worker', url, role, name],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let report: WorkerReport | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.startsWith('{')) report = JSON.parse(line) as WorkerReport;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0 || report === undefined) throw new Error(`the ${role} process ${name} failed (exit ${code})`);
  return report;
}

async function networkBytes(connection: Redis): Promise<number> {
  const info = await connection.info('stats');
  const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? Number.NaN);
  return field('total_net_input_bytes') + field('total_net_output_bytes');
}

async function commandCalls(connection: Redis): Promise<number> {
  const info = await connection.info('commandstats');
  const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  // A queue read is a GET (with TIME, for a change); a write is one script (EVAL).
  return calls('get') + calls('eval');
}

/** Measures every size; resolves with one row per size. */
export async function runQueueScale(sizes: readonly number[] = SIZES): Promise<QueueScaleRow[]> {
  const redis = await startRedisServer();
  const admin = new Redis(redis.url);
  const rows: QueueScaleRow[] = [];
  try {
    for (const size of sizes) {
      await admin.flushall();
      await admin.config('RESETSTAT');
      const cell = new RedisCell(admin, silentLogger());
      await seed(new JobQueue(cell), cell, size);
      const stateBytes = await admin.strlen(QUEUE_STATE_KEY);
      await admin.config('RESETSTAT');
      const bytesBefore = await networkBytes(admin);
      const reports = await Promise.all([
        runWorker(redis.url, 'intake', 'first'),
        runWorker(redis.url, 'intake', 'second'),
        runWorker(redis.url, 'dispatch', 'dispatcher'),
      ]);
      const bytes = (await networkBytes(admin)) - bytesBefore;
      const operations = await commandCalls(admin);
      rows.push({
        waiting: size,
        stateBytes,
        admissionMs: summarize(reports.filter((report) => report.role === 'intake').flatMap((report) => report.ms)),
        dispatchMs: summarize(reports.filter((report) => report.role === 'dispatch').flatMap((report) => report.ms)),
        redisBytesPerOperation: Math.round(bytes / Math.max(1, operations)),
      });
    }
  } finally {
    await admin.quit();
    await redis.stop();
  }
  return rows;
}

if (process.argv[2] === 'worker') {
  const [url, role, name] = process.argv.slice(3) as [string, WorkerReport['role'], string];
  await worker(url, role, name);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizesArgument = process.argv.indexOf('--sizes');
  const sizes = sizesArgument === -1 ? SIZES : process.argv[sizesArgument + 1]!.split(',').map(Number);
  process.stdout.write(`${JSON.stringify(await runQueueScale(sizes), null, 2)}\n`);
}
