/**
 * Whether a fleet process's life is over, read from the process leases (src/store/process-lives.ts): what names a live
 * writer is never left behind, however old; what names a writer whose lease is gone, taken by its next life, or whose
 * pid died on this machine is; what names none is once past the grace.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { ProcessLives } from '../../src/store/process-lives.js';
import { processLease, thisProcess } from '../../src/store/runner-lease.js';
import type { Store } from '../../src/store/store.js';

let store: Store;
let lives: ProcessLives;

beforeAll(async () => {
  store = await openStore('sqlite://:memory:', silentLogger());
  lives = new ProcessLives(store.leases);
});

afterAll(async () => {
  await store?.close();
});

/** The pid of a process that ran on this machine and has exited. */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

describe('the lives of fleet processes', () => {
  it('leaves what a live writer wrote to it, however old', async () => {
    const holder = thisProcess();
    await store.leases.claim(processLease('alive'), holder, 60_000);
    const writer = { process: 'alive', life: holder.id };
    expect(await lives.over(writer)).toBe(false);
    expect(await lives.leftBehind({ writer, writtenAt: 0 }, 0)).toBe(false);
  });

  it('knows a life is over once its lease is released or lapsed', async () => {
    const holder = thisProcess();
    await store.leases.claim(processLease('stopped'), holder, 60_000);
    await store.leases.release(processLease('stopped'), holder.id);
    expect(
      await lives.leftBehind({ writer: { process: 'stopped', life: holder.id }, writtenAt: Date.now() }, 60_000),
    ).toBe('writer-gone');
    await store.leases.claim(processLease('lapsed'), holder, 50);
    await expect.poll(async () => lives.over({ process: 'lapsed', life: holder.id })).toBe(true);
  });

  it('knows a life is over once its name was started again: the new life is another', async () => {
    const next = thisProcess();
    await store.leases.claim(processLease('restarted'), next, 60_000);
    expect(await lives.over({ process: 'restarted', life: 'the-life-before' })).toBe(true);
    expect(await lives.over({ process: 'restarted', life: next.id })).toBe(false);
  });

  it('knows at once that a life on this machine whose pid is gone is over, before its lease lapses', async () => {
    const killed = { ...thisProcess(), pid: await exitedPid() };
    await store.leases.claim(processLease('killed'), killed, 60_000);
    expect(await lives.over({ process: 'killed', life: killed.id })).toBe(true);
    // On another machine the pid cannot be asked: the lease tells, once it lapses.
    const elsewhere = { ...killed, id: 'elsewhere', host: 'another-host' };
    await store.leases.claim(processLease('elsewhere'), elsewhere, 60_000);
    expect(await lives.over({ process: 'elsewhere', life: 'elsewhere' })).toBe(false);
  });

  it('reads each writer’s lease once in a pass over many of its writings', async () => {
    const holder = thisProcess();
    await store.leases.claim(processLease('busy'), holder, 60_000);
    let reads = 0;
    const counted = new ProcessLives({
      ...store.leases,
      holder: async (name) => {
        reads += 1;
        return store.leases.holder(name);
      },
    });
    const seen = new Map<string, Promise<boolean>>();
    const writer = { process: 'busy', life: holder.id };
    for (let writtenAt = 0; writtenAt < 20; writtenAt += 1) {
      expect(await counted.leftBehind({ writer, writtenAt }, 0, seen)).toBe(false);
    }
    expect(reads).toBe(1);
  });

  it('leaves what names no writer (an earlier release’s) until it is older than the grace', async () => {
    expect(await lives.leftBehind({ writtenAt: Date.now() }, 60_000)).toBe(false);
    expect(await lives.leftBehind({ writtenAt: Date.now() - 61_000 }, 60_000)).toBe('grace');
  });
});
