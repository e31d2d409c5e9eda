/**
 * Three real comfycord processes (`src/index.ts`, as `npm start` runs it) on one real redis-server, each on its own
 * Discord shard, with two ComfyUI emulators and two guilds of five members each on shards 0 and 1 (the third process
 * receives no interaction: it only takes jobs from the shared queue). Sixty `/imagine` from ten members; the process
 * running a job is killed with SIGKILL mid-run. Every job is delivered exactly once (finished cards counted in the
 * fake Discord's call log), each prompt reaches ComfyUI once, members take turns, and every process's `/healthz`
 * describes the whole fleet, the killed one dropping off it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shouldRunRedisTests } from '../store/redis-server.js';
import { Fleet, type FleetProcess } from './harness.js';
import { describeUnended, expectEachDeliveredOnce, largestLead, type SentJob } from './outcomes.js';
import { saysAnything } from '../e2e/card-reader.js';

interface FleetHealth {
  readonly status: string;
  readonly fleet: {
    readonly status: string;
    readonly problems: readonly string[];
    readonly processes: ReadonlyArray<{ name: string; pid: number; running: number; shards: number[] | null }>;
    readonly shards?: { count: number; missing: number[] };
  };
}

async function healthOf(member: FleetProcess): Promise<FleetHealth> {
  const response = await fetch(`${member.healthUrl}/healthz`);
  return (await response.json()) as FleetHealth;
}

describe.runIf(shouldRunRedisTests('fleet suite (kill one process)'))('a fleet of three processes on Redis', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await Fleet.start({
      processes: 3,
      guilds: 2,
      membersPerGuild: 5,
      stepMs: 40,
      env: {
        MAX_JOBS_PER_MEMBER: '6',
        COMFY_PROMPTS_PER_SERVER: '1',
        LOG_LEVEL: process.env.FLEET_LOG_LEVEL ?? 'info',
      },
    });
  }, 180_000);

  afterAll(async () => {
    await fleet?.close();
  });

  it('lists every process with its shard on the /healthz of each, and every shard is held', async () => {
    for (const member of fleet.processes) {
      const health = await fleet.until(
        `process ${member.index} to see the whole fleet`,
        async () => healthOf(member),
        (answer) => answer.fleet.processes.length === 3 && answer.fleet.status === 'ok',
        30_000,
      );
      expect(health.status).toBe('ok');
      expect(health.fleet.shards).toEqual({ count: 3, missing: [] });
      expect(health.fleet.processes.map((process) => process.pid).sort()).toEqual(
        fleet.processes.map((process) => process.bot.child.pid).sort(),
      );
    }
  }, 60_000);

  it('delivers 60 jobs from 10 members exactly once, in turns, while the process running one is killed (SIGKILL)', async () => {
    // One member's six after another's: first come, first served would let each member's jobs run back to back.
    // Each member's six go in one write, and the next member's once those are acknowledged, as people would send
    // them (sixty in the same millisecond would test the machine's load against Discord's 3 s, not the fleet).
    const jobs: SentJob[] = [];
    for (const { user, channel } of fleet.members) {
      const markers = Array.from({ length: 6 }, (_, number) => `fleet-${user.username}-job-${number + 1}`);
      const handles = await fleet.discord.sendSlashCommands(
        markers.map((marker) => ({
          user,
          channel,
          name: 'imagine',
          options: { prompt: `a lighthouse ${marker} --steps 6` },
        })),
      );
      await Promise.all(handles.map(async (handle) => handle.waitForCallback(10_000)));
      handles.forEach((handle, index) => jobs.push({ handle, memberId: user.id, marker: markers[index]! }));
    }

    // Every job taken in first (its card shows it queued, or further): a request a process acknowledged but had not yet
    // written down dies with it, since Discord gives each interaction to that process alone.
    await fleet.until(
      'every job to be taken in',
      () => jobs.filter((job) => saysAnything(job.handle.original)).length,
      (shown) => shown === jobs.length,
      60_000,
      () => describeUnended(fleet, jobs),
    );
    // The process to kill is one the roll call shows running a job: its job must go on elsewhere.
    const observer = fleet.processes[2]!;
    const busy = await fleet.until(
      'a process running a job',
      async () => healthOf(observer),
      (health) =>
        health.fleet.processes.some((process) => process.running > 0 && process.pid !== observer.bot.child.pid),
      60_000,
    );
    const victimPid = busy.fleet.processes.find(
      (process) => process.running > 0 && process.pid !== observer.bot.child.pid,
    )!.pid;
    const victim = fleet.processes.find((member) => member.bot.child.pid === victimPid)!;
    await fleet.kill(victim);

    await expectEachDeliveredOnce(fleet, jobs, 'a fleet process killed (SIGKILL) while jobs run');
    // One bot on Discord's limits: the processes together never went past the global 50 requests per second.
    expect(fleet.discord.globalRateLimited).toBe(0);
    // Members took turns across the fleet as they do in one process.
    expect(largestLead(fleet.submissions, jobs)).toBeLessThanOrEqual(1);
    // Both emulators ran jobs, for processes with different ComfyUI client ids.
    expect(new Set(fleet.submissions.map((submission) => submission.emulator)).size).toBe(2);
    expect(new Set(fleet.submissions.map((submission) => submission.clientId)).size).toBeGreaterThan(1);

    // The survivors' roll call drops the killed process once its record expires, and misses its shard.
    const survivor = fleet.processes.find((member) => member !== victim)!;
    const after = await fleet.until(
      'the killed process to leave the roll call',
      async () => healthOf(survivor),
      (health) => health.fleet.processes.length === 2,
      30_000,
    );
    expect(after.fleet.processes.map((process) => process.pid)).not.toContain(victimPid);
    expect(after.fleet.status).toBe('degraded');
    expect(after.fleet.shards?.missing).toEqual([victim.shard]);

    // Started again, it takes its shard back.
    await fleet.restart(victim);
    const whole = await fleet.until(
      'the restarted process to rejoin',
      async () => healthOf(survivor),
      (health) => health.fleet.processes.length === 3 && health.fleet.status === 'ok',
      30_000,
    );
    expect(whole.fleet.shards?.missing).toEqual([]);
  }, 420_000);
});
