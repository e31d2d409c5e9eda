/**
 * The fleet's queue state at scale: how admission (intake) and dispatch (taking the next job for a server slot) cost
 * when the shared queue already holds 1,000, 5,000 or 20,000 waiting jobs, with three processes changing it at once.
 *
 * One real redis-server; three real Node processes (this file, run as a child with `worker`), each with its own
 * connection and its own `JobQueue` over the fleet's `RedisCell`, exactly the code a fleet process runs. Two take
 * requests (each: the next sequence with its intake entry, then the admission, as intake.ts does), the third
 * dispatches (takes the first job in fair order, then settles it, as a job's carrier ends it). Every operation's
 * latency is measured where it is called; the bytes Redis received and sent (INFO's network counters) are divided by
 * the queue writes and reads made. The state is seeded in one write: 200 members (or `--members`), their jobs in fair
 * order.
 *
 * Run: `npx tsx bench/queue-scale.ts` (prints one JSON document; `--sizes 1000,5000` for fewer; `--members 10000`
 * for as many members as a queue that long holds under the default `MAX_JOBS_PER_MEMBER` of 2).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RedisCell, QUEUE_STATE_KEY, queueStateKeys } from '../src/jobs/engine/redis-cell.js';
import type { QueuedJob } from '../src/jobs/engine/queue-state.js';
import { enqueue, JobQueue } from '../src/jobs/job-queue.js';
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
  readonly members: number;
  /** The state's core (rounds, intakes, hand-offs): what every change reads and writes. */
  readonly coreBytes: number;
  /** The members' lanes and the jobs' owners: a change reads and writes only the lanes it touches. */
  readonly lanesBytes: number;
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

/** One write holding `size` waiting jobs of `memberCount` members, admitted, in fair order. */
async function seed(cell: RedisCell, size: number, memberCount: number): Promise<void> {
  const members = Array.from({ length: memberCount }, (_, member) => queued('', member, 0).memberId);
  await cell.change(
    (state, now) => {
      for (let index = 0; index < size; index++) {
        enqueue(state, queued(`seed-${index.toString(36).padStart(8, '0')}`, index % memberCount, now), now);
      }
    },
    { members },
  );
}

/** The bytes the state takes in Redis: its core, and its lanes with the jobs' owners. */
async function stateBytes(connection: Redis): Promise<{ core: number; lanes: number }> {
  const keys = queueStateKeys();
  const lanes = await connection.hvals(keys.lanes);
  const owners = await connection.hgetall(keys.owners);
  const ownerBytes = Object.entries(owners).reduce((sum, [job, member]) => sum + job.length + member.length, 0);
  return {
    core: await connection.strlen(QUEUE_STATE_KEY),
    lanes: lanes.reduce((sum, lane) => sum + lane.length, 0) + ownerBytes,
  };
}

/** A child process: its own connection, its own queue, `OPERATIONS` operations of its role. */
async function worker(url: string, role: WorkerReport['role'], name: string, members: number): Promise<void> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new JobQueue(new RedisCell(connection, silentLogger()));
  const ms: number[] = [];
  for (let operation = 0; operation < OPERATIONS + WARM_UP; operation++) {
    const started = performance.now();
    if (role === 'intake') {
      const id = `${name}-${operation}`;
      await queue.nextSequence({ jobId: id, graceMs: 60_000 });
      await queue.admit(queued(id, operation % members, Date.now()), LIMITS, 60_000);
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

async function runWorker(
  url: string,
  role: WorkerReport['role'],
  name: string,
  members: number,
): Promise<WorkerReport> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), 'worker', url, role, name, String(members)],
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
  // A queue read is one MULTI (the core, the lanes it needs; a full read fetches the changed lanes in a second one); a
  // write is one script (EVAL).
  return calls('exec') + calls('eval');
}

/** Measures every size; resolves with one row per size. */
export async function runQueueScale(sizes: readonly number[] = SIZES, members = MEMBERS): Promise<QueueScaleRow[]> {
  const redis = await startRedisServer();
  const admin = new Redis(redis.url);
  const rows: QueueScaleRow[] = [];
  try {
    for (const size of sizes) {
      await admin.flushall();
      await admin.config('RESETSTAT');
      await seed(new RedisCell(admin, silentLogger()), size, members);
      const bytes = await stateBytes(admin);
      await admin.config('RESETSTAT');
      const bytesBefore = await networkBytes(admin);
      const reports = await Promise.all([
        runWorker(redis.url, 'intake', 'first', members),
        runWorker(redis.url, 'intake', 'second', members),
        runWorker(redis.url, 'dispatch', 'dispatcher', members),
      ]);
      const traffic = (await networkBytes(admin)) - bytesBefore;
      const operations = await commandCalls(admin);
      rows.push({
        waiting: size,
        members,
        coreBytes: bytes.core,
        lanesBytes: bytes.lanes,
        admissionMs: summarize(reports.filter((report) => report.role === 'intake').flatMap((report) => report.ms)),
        dispatchMs: summarize(reports.filter((report) => report.role === 'dispatch').flatMap((report) => report.ms)),
        redisBytesPerOperation: Math.round(traffic / Math.max(1, operations)),
      });
    }
  } finally {
    await admin.quit();
    await redis.stop();
  }
  return rows;
}

if (process.argv[2] === 'worker') {
  const [url, role, name, members] = process.argv.slice(3) as [string, WorkerReport['role'], string, string];
  await worker(url, role, name, Number(members));
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizesArgument = process.argv.indexOf('--sizes');
  const sizes = sizesArgument === -1 ? SIZES : process.argv[sizesArgument + 1]!.split(',').map(Number);
  const membersArgument = process.argv.indexOf('--members');
  const members = membersArgument === -1 ? MEMBERS : Number(process.argv[membersArgument + 1]);
  process.stdout.write(`${JSON.stringify(await runQueueScale(sizes, members), null, 2)}\n`);
}
