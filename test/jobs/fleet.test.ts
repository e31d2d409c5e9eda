/**
 * The fleet engine, proven with real processes: several runners (test/jobs/fleet-child.ts, each its own Node
 * process) on a real redis-server and a real emulator. A process is killed with SIGKILL at the moment that matters;
 * what counts is what every process printed together: each job delivered exactly once, its prompt submitted once,
 * members served in turn across processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { recordKey } from '../../src/store/store.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from '../store/redis-server.js';

const runRedis = shouldRunRedisTests('fleet engine suite');

interface Line {
  readonly process: string;
  readonly jobId?: string;
  readonly type?: string;
  readonly memberId?: string;
  readonly enqueued?: string;
  readonly refused?: string;
  readonly ready?: boolean;
  readonly stopped?: boolean;
  readonly drained?: boolean;
  readonly cancelRequested?: string;
}

/** Every line every process printed, and the processes themselves. */
class Fleet {
  readonly lines: Line[] = [];
  readonly #children = new Map<string, ChildProcess>();

  constructor(
    private readonly redisUrl: string,
    private readonly serverUrls: readonly string[],
  ) {}

  async start(name: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
    const args = ['--import', 'tsx', 'test/jobs/fleet-child.ts', name, this.redisUrl, ...this.serverUrls];
    const child = spawn(process.execPath, args, {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    this.#children.set(name, child);
    createInterface({ input: child.stdout! }).on('line', (text) => {
      try {
        this.lines.push(JSON.parse(text) as Line);
      } catch {
        // Not one of ours (a warning printed by a library).
      }
    });
    await this.until(() => this.lines.some((line) => line.process === name && line.ready), `${name} to start`);
  }

  /** Asks the process to take a job, without waiting for its answer. */
  ask(name: string, memberId: string, steps: number): void {
    this.tell(name, `enqueue ${memberId} ${steps}`);
  }

  /** Writes one command line to the process (see fleet-child.ts). */
  tell(name: string, line: string): void {
    this.#children.get(name)!.stdin!.write(`${line}\n`);
  }

  async enqueue(name: string, memberId: string, steps: number): Promise<string> {
    const before = this.lines.length;
    this.ask(name, memberId, steps);
    let id: string | undefined;
    await this.until(() => {
      const answers = this.lines.slice(before).filter((line) => line.process === name && line.memberId === memberId);
      const refused = answers.find((line) => line.refused !== undefined);
      if (refused) throw new Error(`${name} refused a job of ${memberId}: ${refused.refused}`);
      id = answers.find((line) => line.enqueued !== undefined)?.enqueued;
      return id !== undefined;
    }, `${name} to enqueue for ${memberId}`);
    return id!;
  }

  kill(name: string, signal: NodeJS.Signals): void {
    this.#children.get(name)!.kill(signal);
  }

  /** Resolves once the process has exited; with `withinMs`, throws when it has not by then. */
  async exited(name: string, withinMs?: number): Promise<void> {
    const child = this.#children.get(name)!;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exit = new Promise((resolve) => child.once('exit', resolve));
    if (withinMs === undefined) return void (await exit);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not exit within ${withinMs} ms`)), withinMs);
    });
    await Promise.race([exit, late]).finally(() => clearTimeout(timer));
  }

  events(jobId: string, type: string): Line[] {
    return this.lines.filter((line) => line.jobId === jobId && line.type === type);
  }

  submissionOrder(): string[] {
    return [...new Set(this.lines.filter((line) => line.type === 'submitted').map((line) => line.jobId!))];
  }

  async until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stopAll(): Promise<void> {
    for (const child of this.#children.values()) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await Promise.all([...this.#children.keys()].map((name) => this.exited(name)));
  }
}

describe.runIf(runRedis)('the fleet engine across processes', () => {
  let redis: RedisServer;
  let emulator: Emulator | undefined;
  let fleet: Fleet | undefined;

  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    await fleet?.stopAll();
    await emulator?.close();
    // A fresh Redis state for the next test: its jobs and queue are not this one's.
    await redis.stop();
    redis = await startRedisServer();
  });

  it('continues a running job on another process when its carrier is SIGKILLed, without submitting it again', async () => {
    emulator = await startEmulator({ port: 0, stepMs: 100, previews: false });
    fleet = new Fleet(redis.url, [emulator.url]);
    await fleet.start('p1');
    await fleet.start('p2');
    const jobId = await fleet.enqueue('p1', 'member-1', 40);
    await fleet.until(() => fleet!.events(jobId, 'progress').length > 0, 'the job to render');
    const carrier = fleet.events(jobId, 'submitted')[0]!.process;
    const survivor = carrier === 'p1' ? 'p2' : 'p1';
    // A takeover waits for the dead carrier's lock to expire and the next stalled check (up to 4 s here): the render
    // is slowed until the survivor shows it is following, so the prompt is still running when the survivor arrives
    // (at full speed it could end first, and a prompt that is over has no progress left to show).
    emulator.faults.stepMs = 1_000;
    fleet.kill(carrier, 'SIGKILL');
    await fleet.exited(carrier);
    await fleet.until(
      () => fleet!.events(jobId, 'progress').some((line) => line.process === survivor),
      'the survivor to follow the prompt',
      90_000,
    );
    emulator.faults.stepMs = 10;
    await fleet.until(() => fleet!.events(jobId, 'succeeded').length > 0, 'the job to end on the survivor', 90_000);
    expect(fleet.events(jobId, 'succeeded')).toEqual([expect.objectContaining({ process: survivor })]);
    expect(emulator.received).toHaveLength(1);
    expect(fleet.lines.filter((line) => line.jobId === jobId && line.type === 'failed')).toEqual([]);
  }, 180_000);

  it('loses no waiting job when the process that queued them dies, and serves members in turn across processes', async () => {
    emulator = await startEmulator({ port: 0, stepMs: 80, previews: false });
    fleet = new Fleet(redis.url, [emulator.url]);
    await fleet.start('p1');
    await fleet.start('p2');
    // Alice's first job holds the one slot long enough for everyone else to queue behind it.
    const alice = [await fleet.enqueue('p1', 'alice', 60)];
    for (let index = 1; index < 4; index++) alice.push(await fleet.enqueue('p1', 'alice', 10));
    const bob = await fleet.enqueue('p2', 'bob', 10);
    const carol = await fleet.enqueue('p2', 'carol', 10);
    fleet.kill('p1', 'SIGKILL');
    await fleet.exited('p1');
    await fleet.start('p3');
    const all = [...alice, bob, carol];
    await fleet.until(() => all.every((id) => fleet!.events(id, 'succeeded').length > 0), 'every job', 120_000);
    for (const id of all) expect(fleet.events(id, 'succeeded')).toHaveLength(1);
    expect(fleet.submissionOrder()).toEqual([alice[0], bob, carol, alice[1], alice[2], alice[3]]);
  }, 180_000);

  it('drains on SIGTERM: the running job is handed to another process at once and delivered once', async () => {
    emulator = await startEmulator({ port: 0, stepMs: 100, previews: false });
    fleet = new Fleet(redis.url, [emulator.url]);
    await fleet.start('p1');
    await fleet.start('p2');
    const jobId = await fleet.enqueue('p2', 'member-1', 40);
    await fleet.until(() => fleet!.events(jobId, 'progress').length > 0, 'the job to render');
    const carrier = fleet.events(jobId, 'submitted')[0]!.process;
    const other = carrier === 'p1' ? 'p2' : 'p1';
    // Slowed until the other process shows it follows the prompt (as in the SIGKILL test), so there is progress left.
    emulator.faults.stepMs = 1_000;
    const drainedAt = Date.now();
    fleet.kill(carrier, 'SIGTERM');
    await fleet.exited(carrier, 10_000);
    expect(Date.now() - drainedAt).toBeLessThan(10_000);
    expect(fleet.lines.some((line) => line.process === carrier && line.stopped)).toBe(true);
    await fleet.until(
      () => fleet!.events(jobId, 'progress').some((line) => line.process === other),
      `${other} to follow the prompt`,
    );
    emulator.faults.stepMs = 10;
    await fleet.until(() => fleet!.events(jobId, 'succeeded').length > 0, 'the job to end elsewhere', 90_000);
    expect(fleet.events(jobId, 'succeeded')).toEqual([expect.objectContaining({ process: other })]);
    expect(emulator.received).toHaveLength(1);
  }, 180_000);

  it('drains on SIGTERM when it is the only process: the job goes back to the queue, and a later process carries it on', async () => {
    // Alone, the draining process is the only one waiting for hand-offs when it hands its job back, so its worker
    // (paused, but finishing the wait it had under way) is handed that job again: it must give it back, not hang.
    emulator = await startEmulator({ port: 0, stepMs: 100, previews: false });
    fleet = new Fleet(redis.url, [emulator.url]);
    await fleet.start('p1');
    const jobId = await fleet.enqueue('p1', 'member-1', 40);
    await fleet.until(() => fleet!.events(jobId, 'progress').length > 0, 'the job to render');
    emulator.faults.stepMs = 1_000;
    const drainedAt = Date.now();
    fleet.kill('p1', 'SIGTERM');
    await fleet.exited('p1', 10_000);
    expect(Date.now() - drainedAt).toBeLessThan(10_000);
    expect(fleet.lines.some((line) => line.process === 'p1' && line.stopped)).toBe(true);
    await fleet.start('p2');
    await fleet.until(
      () => fleet!.events(jobId, 'progress').some((line) => line.process === 'p2'),
      'p2 to follow the prompt',
    );
    emulator.faults.stepMs = 10;
    await fleet.until(() => fleet!.events(jobId, 'succeeded').length > 0, 'the job to end on p2', 90_000);
    expect(fleet.events(jobId, 'succeeded')).toEqual([expect.objectContaining({ process: 'p2' })]);
    expect(emulator.received).toHaveLength(1);
  }, 180_000);
  it('takes jobs into the shared queue while it drains, and another process carries each once', async () => {
    emulator = await startEmulator({ port: 0, stepMs: 20, previews: false });
    fleet = new Fleet(redis.url, [emulator.url]);
    await fleet.start('p1');
    await fleet.start('p2');
    // Drained, not yet stopped: where a stopping bot's gateway still brings its members' commands.
    fleet.kill('p1', 'SIGUSR2');
    await fleet.until(() => fleet!.lines.some((line) => line.process === 'p1' && line.drained), 'p1 to drain');
    const ids: string[] = [];
    for (const member of ['ann', 'ben', 'cy']) ids.push(await fleet.enqueue('p1', member, 3));
    await fleet.until(() => ids.every((id) => fleet!.events(id, 'succeeded').length > 0), 'every job', 90_000);
    for (const id of ids) {
      expect(fleet.events(id, 'succeeded')).toEqual([expect.objectContaining({ process: 'p2' })]);
      expect(fleet.events(id, 'submitted').every((line) => line.process === 'p2')).toBe(true);
    }
    expect(emulator.received).toHaveLength(3);
    // A member's Cancel reaching it too: the process that carries the job is asked, and ends it once.
    emulator.faults.stepMs = 300;
    const long = await fleet.enqueue('p2', 'dee', 60);
    await fleet.until(() => fleet!.events(long, 'progress').length > 0, 'the long job to render');
    fleet.tell('p1', `cancel dee ${long}`);
    await fleet.until(() => fleet!.events(long, 'cancelled').length > 0, 'the long job to be cancelled', 90_000);
    expect(fleet.lines.filter((line) => line.cancelRequested === long)).toEqual([
      expect.objectContaining({ process: 'p1' }),
    ]);
    expect(fleet.events(long, 'cancelled')).toEqual([expect.objectContaining({ process: 'p2' })]);
    fleet.kill('p1', 'SIGTERM');
    await fleet.exited('p1', 10_000);
    expect(fleet.lines.some((line) => line.process === 'p1' && line.stopped)).toBe(true);
  }, 180_000);
  it('counts a job once when the process taking it in is SIGKILLed after writing it, and the dispatcher queues it', async () => {
    // One job per member at a time: a member left counted one job high could never ask again.
    const oneJob = { FLEET_CHILD_JOBS_PER_MEMBER: '1' };
    emulator = await startEmulator({ port: 0, stepMs: 20, previews: false });
    fleet = new Fleet(redis.url, [emulator.url]);
    await fleet.start('p1', oneJob);
    await fleet.start('p2', { ...oneJob, COMFYCORD_FAULT_POINT: 'intake:after-record' });
    fleet.ask('p2', 'mia', 5);
    await fleet.exited('p2', 30_000);
    expect(fleet.lines.filter((line) => line.process === 'p2' && line.memberId === 'mia')).toEqual([]);
    // Written, never admitted: the dispatcher (p1) takes it in once the intake's grace is over, and runs it.
    await fleet.until(() => fleet!.lines.some((line) => line.type === 'succeeded'), 'the stray job to be run', 90_000);
    const [stray] = fleet.lines.filter((line) => line.type === 'succeeded');
    expect(stray).toEqual(expect.objectContaining({ process: 'p1', memberId: 'mia' }));
    // Counted once, and no more once it ended: Mia may ask again.
    const next = await fleet.enqueue('p1', 'mia', 5);
    await fleet.until(() => fleet!.events(next, 'succeeded').length > 0, 'her next job', 90_000);
    expect(fleet.events(stray!.jobId!, 'succeeded')).toHaveLength(1);
    expect(emulator.received).toHaveLength(2);
  }, 180_000);
  it('salvages open jobs whose records broke once, when several processes start at once, and tells each member once', async () => {
    const oneJob = { FLEET_CHILD_JOBS_PER_MEMBER: '1' };
    emulator = await startEmulator({ port: 0, stepMs: 1_000, previews: false });
    fleet = new Fleet(redis.url, [emulator.url]);
    await fleet.start('p1', oneJob);
    // Mia's job holds the one slot; Ben's waits behind it.
    const running = await fleet.enqueue('p1', 'mia', 40);
    await fleet.until(() => fleet!.events(running, 'submitted').length > 0, 'her job to be submitted');
    const waiting = await fleet.enqueue('p1', 'ben', 1);
    fleet.kill('p1', 'SIGKILL');
    await fleet.exited('p1');
    const client = new Redis(redis.url);
    try {
      for (const id of [running, waiting]) await client.set(recordKey('jobs', id), '{"torn');
    } finally {
      client.disconnect();
    }
    await Promise.all([fleet.start('p2', oneJob), fleet.start('p3', oneJob)]);
    await fleet.until(
      () => [running, waiting].every((id) => fleet!.events(id, 'failed').length > 0),
      'both members to be told',
      90_000,
    );
    // Her prompt, rebuilt from the job's contact, is stopped on the server.
    const history = async () => JSON.stringify(await (await fetch(`${emulator!.url}/history`)).json());
    const deadline = Date.now() + 60_000;
    while (!(await history()).includes('execution_interrupted') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await history()).toContain('execution_interrupted');
    // Neither is counted any more: each may ask again.
    emulator.faults.stepMs = 10;
    const next = [await fleet.enqueue('p2', 'mia', 1), await fleet.enqueue('p3', 'ben', 1)];
    await fleet.until(() => next.every((id) => fleet!.events(id, 'succeeded').length > 0), 'their next jobs', 90_000);
    for (const id of [running, waiting]) {
      expect(fleet.events(id, 'failed')).toHaveLength(1);
      expect(fleet.events(id, 'succeeded')).toEqual([]);
    }
    expect(emulator.received).toHaveLength(3);
  }, 180_000);
});
