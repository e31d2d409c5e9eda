/**
 * A rolling restart of a fleet of three real comfycord processes on one redis-server: while members keep sending
 * `/imagine`, each process in turn is stopped with SIGTERM (it drains: its jobs go on in the others, and a command its
 * shard brought as it stopped is taken in for them) and started again. Nothing is lost: every job is delivered exactly
 * once (finished cards counted in the fake Discord's call log) and sent to ComfyUI once, and each stopped process exits
 * cleanly.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shouldRunRedisTests } from '../store/redis-server.js';
import { Fleet, type FleetProcess } from './harness.js';
import { expectEachDeliveredOnce, hasEnded, type SentJob } from './outcomes.js';

describe.runIf(shouldRunRedisTests('fleet suite (rolling restart)'))('a rolling restart of three processes', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await Fleet.start({
      processes: 3,
      guilds: 2,
      membersPerGuild: 5,
      stepMs: 30,
      env: { MAX_JOBS_PER_MEMBER: '6', COMFY_PROMPTS_PER_SERVER: '1' },
    });
  }, 180_000);

  afterAll(async () => {
    await fleet?.close();
  });

  it('loses nothing while each process is stopped (SIGTERM) and started again in turn, jobs flowing', async () => {
    const jobs: SentJob[] = [];
    /** The process being restarted: Discord would not deliver its shard's interactions until it is back. */
    let restarting: FleetProcess | undefined;
    let flowing = true;
    /** The request being sent now (its member was chosen before a restart began). */
    let sending: Promise<unknown> = Promise.resolve();
    const members = fleet.members;
    const flow = (async () => {
      for (let number = 1; flowing; number += 1) {
        // Members who are in Discord on a connected shard, and have fewer than three images in flight (the limit is 6).
        const candidates = members.filter(
          ({ user, guild }) =>
            guild.shard !== restarting?.shard &&
            jobs.filter((job) => job.memberId === user.id && !hasEnded(job)).length < 3,
        );
        const pick = candidates[number % Math.max(1, candidates.length)];
        if (pick) {
          // Numbered to three digits: no marker is the start of another.
          const marker = `rolling-${String(number).padStart(3, '0')}`;
          const sent = fleet.discord.sendSlashCommand({
            user: pick.user,
            channel: pick.channel,
            name: 'imagine',
            options: { prompt: `a harbour ${marker} --steps 4` },
          });
          sending = sent;
          jobs.push({ handle: await sent, memberId: pick.user.id, marker });
        }
        await sleep(500);
      }
    })();

    const exitCodes: Array<number | null> = [];
    for (const member of fleet.processes) {
      await sleep(1_500);
      restarting = member;
      await sending;
      // One more request on its shard, and the SIGTERM at once: the process stops while it takes that request in, and
      // takes it into the shared queue for the others to carry (it used to refuse it: "The bot is restarting…").
      const last = members.find(
        ({ user, guild }) =>
          guild.shard === member.shard && jobs.filter((job) => job.memberId === user.id && !hasEnded(job)).length < 3,
      );
      if (last) {
        const marker = `stopping-${member.index}`;
        const handle = await fleet.discord.sendSlashCommand({
          user: last.user,
          channel: last.channel,
          name: 'imagine',
          options: { prompt: `a harbour ${marker} --steps 4` },
        });
        jobs.push({ handle, memberId: last.user.id, marker });
      }
      exitCodes.push(await fleet.stop(member));
      await fleet.restart(member);
      restarting = undefined;
    }
    await sleep(1_500);
    flowing = false;
    await flow;

    await expectEachDeliveredOnce(
      fleet,
      jobs,
      'a rolling restart of the fleet (each process SIGTERM and started again)',
      180_000,
    );
    expect(exitCodes, 'exit codes of the stopped processes').toEqual([0, 0, 0]);
    expect(jobs.length).toBeGreaterThan(20);
    // One bot on Discord's limits: the processes together never went past the global 50 requests per second.
    expect(fleet.discord.globalRateLimited).toBe(0);
  }, 420_000);
});
