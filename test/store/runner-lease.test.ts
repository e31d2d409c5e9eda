/**
 * One bot process per store, with real processes: a second one on the same store is refused with one sentence, and
 * one killed with SIGKILL leaves a lease that the next start takes over (same machine: at once, its pid is gone) or
 * waits out (another machine: until it expires).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { holdRunnerLease, RUNNER_LEASE, StoreInUseError } from '../../src/store/runner-lease.js';
import type { Store } from '../../src/store/store.js';
import { makeTempDir } from './helpers.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from './redis-server.js';

const SENTENCE =
  /^Another comfycord process is using this store \(started \d{4}-\d\d-\d\dT[\d:.]+Z, pid (\d+), host [^)]+\); stop it first or give this one its own STORE_URL\.$/;

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface Child {
  readonly process: ChildProcess;
  /** Resolves with the first line the child printed. */
  readonly firstLine: Promise<string>;
  /** Resolves with how long the child took to take the lease, by its own clock (NaN if it never held it). */
  readonly waitedMs: Promise<number>;
  readonly exited: Promise<number | null>;
}

function startChild(url: string, ttlMs: number): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/store/lease-child.ts', url, String(ttlMs)], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const lineOf = <T>(read: (lines: string[]) => T | undefined, otherwise: T) =>
    new Promise<T>((resolve) => {
      child.stdout!.on('data', () => {
        const found = read(output.split('\n').slice(0, -1));
        if (found !== undefined) resolve(found);
      });
      child.once('close', () => resolve(read(output.split('\n')) ?? otherwise));
    });
  const firstLine = lineOf((lines) => lines[0], '');
  const waitedMs = lineOf((lines) => {
    const waited = lines.map((line) => /^waited (\d+) ms$/.exec(line)).find((match) => match !== null);
    return waited ? Number(waited[1]) : undefined;
  }, Number.NaN);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, firstLine, waitedMs, exited };
}

function defineLeaseTests(storeUrl: () => Promise<string>): void {
  it('refuses a second process on the same store with one sentence naming the first', async () => {
    const url = await storeUrl();
    const first = startChild(url, 30_000);
    expect(await first.firstLine).toBe('held');
    const second = startChild(url, 30_000);
    const sentence = await second.firstLine;
    expect(sentence).toMatch(SENTENCE);
    expect(SENTENCE.exec(sentence)?.[1]).toBe(String(first.process.pid));
    expect(await second.exited).toBe(1);
  }, 60_000);

  it('lets the next process take over at once from one killed with SIGKILL on this machine', async () => {
    const url = await storeUrl();
    const killed = startChild(url, 30_000);
    expect(await killed.firstLine).toBe('held');
    killed.process.kill('SIGKILL');
    await killed.exited;
    const next = startChild(url, 30_000);
    expect(await next.firstLine).toBe('held');
    // Far less than the 30 s the killed process's lease had left; read on the child's clock, as its own start (seconds
    // on a loaded machine) is not the lease's doing.
    expect(await next.waitedMs).toBeLessThan(5_000);
  }, 60_000);

  it('waits out the lease of a process killed on another machine, then starts', async () => {
    const url = await storeUrl();
    const store = await openStore(url, silentLogger());
    try {
      const elsewhere = { id: 'elsewhere', pid: 4242, host: 'other-host', startedAt: Date.now(), machine: 'another' };
      await store.leases.claim(RUNNER_LEASE, elsewhere, 1_500);
      const startedAt = Date.now();
      const next = startChild(url, 30_000);
      expect(await next.firstLine).toBe('held');
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_000);
    } finally {
      await store.close();
    }
  }, 60_000);
}

describe('the runner lease on SQLite', () => {
  let directory: Awaited<ReturnType<typeof makeTempDir>>;
  let count = 0;
  beforeAll(async () => {
    directory = await makeTempDir();
  });
  afterAll(async () => {
    await directory.remove();
  });
  defineLeaseTests(async () => `sqlite://${join(directory.path, `lease-${(count += 1)}.sqlite`)}`);
});

describe.runIf(shouldRunRedisTests('runner lease on Redis suite'))('the runner lease on Redis', () => {
  let server: RedisServer;
  let database = 0;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  // A database of its own per test (Redis has 16).
  defineLeaseTests(async () => `${server.url}/${(database += 1)}`);
});

describe('a lease held by a live process on another machine', () => {
  let store: Store;
  let directory: Awaited<ReturnType<typeof makeTempDir>>;
  beforeAll(async () => {
    directory = await makeTempDir();
    store = await openStore(`sqlite://${join(directory.path, 'live.sqlite')}`, silentLogger());
  });
  afterAll(async () => {
    await store.close();
    await directory.remove();
  });

  it('is not taken: once it is seen renewed, the start is refused', async () => {
    const other = { id: 'other', pid: 4242, host: 'other-host', startedAt: Date.now(), machine: 'another' };
    await store.leases.claim(RUNNER_LEASE, other, 900);
    const renewing = setInterval(() => void store.leases.renew(RUNNER_LEASE, 'other', 900), 300);
    try {
      await expect(holdRunnerLease(store, silentLogger(), { ttlMs: 900 })).rejects.toBeInstanceOf(StoreInUseError);
    } finally {
      clearInterval(renewing);
    }
    await sleep(1_000);
    const lease = await holdRunnerLease(store, silentLogger(), { ttlMs: 900 });
    await lease.release();
  });
});
