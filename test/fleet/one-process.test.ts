/**
 * The fleet harness with one process: a real comfycord process (`src/index.ts`) on a real redis-server, killed with
 * SIGKILL while ComfyUI renders its jobs and started again on the same Redis (with a fresh data directory, as on
 * another host). Every job is delivered exactly once, no prompt is sent twice, and the roll call lists the process
 * again under its new pid once the killed one's record has expired.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFault } from '../faults/ledger.js';
import { shouldRunRedisTests } from '../store/redis-server.js';
import { Fleet } from './harness.js';
import { failureOf, finishedCards, hasEnded, promptsSent, type SentJob } from './outcomes.js';
import { statusOf } from '../e2e/card-reader.js';

interface Roster {
  readonly fleet: { readonly processes: ReadonlyArray<{ pid: number; running: number }> };
}

describe.runIf(shouldRunRedisTests('fleet suite (one process)'))('one process on Redis', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await Fleet.start({
      processes: 1,
      guilds: 1,
      membersPerGuild: 4,
      stepMs: 60,
      env: { MAX_JOBS_PER_MEMBER: '3' },
    });
  }, 120_000);

  afterAll(async () => {
    await fleet?.close();
  });

  it('killed (SIGKILL) mid-render and started again, delivers each job once and sends each prompt once', async () => {
    const [member] = fleet.processes;
    const inputs = fleet.members.flatMap(({ user, channel }) =>
      [1, 2].map((number) => ({ user, channel, marker: `redis-${user.username}-${number}` })),
    );
    const handles = await fleet.discord.sendSlashCommands(
      inputs.map(({ user, channel, marker }) => ({
        user,
        channel,
        name: 'imagine',
        options: { prompt: `a quay ${marker} --steps 20` },
      })),
    );
    const jobs: SentJob[] = handles.map((handle, index) => ({
      handle,
      memberId: inputs[index]!.user.id,
      marker: inputs[index]!.marker,
    }));
    await fleet.until(
      'a job to be rendering',
      () => jobs.some((job) => /^Running: [1-9]/.test(statusOf(job.handle.original ?? {}))),
      (rendering) => rendering,
    );
    const killedPid = member!.bot.child.pid;
    await fleet.kill(member!);
    await fleet.restart(member!);

    await fleet.until(
      'every job to end',
      () => jobs.filter(hasEnded).length,
      (ended) => ended === jobs.length,
      180_000,
    );
    const cards = finishedCards(fleet.discord, jobs);
    recordFault(
      'the bot on Redis killed (SIGKILL) mid-render',
      jobs.map((job, index) => ({ deliveries: cards[index]!, sentences: failureOf(job) ? 1 : 0 })),
    );
    expect(jobs.map(failureOf).filter(Boolean), fleet.output.slice(-20_000)).toEqual([]);
    expect(cards, 'finished cards per job').toEqual(jobs.map(() => 1));
    expect(promptsSent(fleet.submissions, jobs), 'prompts sent to ComfyUI per job').toEqual(jobs.map(() => 1));

    const health = await fleet.until(
      'the roll call to list only the new process',
      async () => (await (await fetch(`${member!.healthUrl}/healthz`)).json()) as Roster,
      (answer) => answer.fleet.processes.length === 1,
      30_000,
    );
    expect(health.fleet.processes[0]!.pid).toBe(member!.bot.child.pid);
    expect(health.fleet.processes[0]!.pid).not.toBe(killedPid);
  }, 300_000);
});
