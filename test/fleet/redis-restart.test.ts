/**
 * Redis goes away under a running fleet: two real comfycord processes on one persistent redis-server (append-only
 * file, `appendfsync everysec`, as the README says to run it), two ComfyUI emulators and the fake Discord, with jobs
 * waiting, rendering and finishing. Redis is (a) restarted gracefully (SIGTERM, then started again on the same port
 * and data) and (b) killed (SIGKILL) and started again the same way. Through both: no process exits; every job admitted
 * before the outage is delivered exactly once and each prompt reaches ComfyUI once; a command that arrives while
 * Redis is down (an `/imagine`, a `/history`) is answered at once with one sentence in the member's language; and
 * each process's `/healthz` says the store is down while it is, and ok once it is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { text, type TextKey } from '../../src/i18n/catalog.js';
import { shouldRunRedisTests } from '../store/redis-server.js';
import { saysAnything, statusOf } from '../e2e/card-reader.js';
import type { FakeUser } from '../fakes/discord/index.js';
import { Fleet, type FleetProcess } from './harness.js';
import { describeUnended, expectEachDeliveredOnce, hasEnded, type SentJob } from './outcomes.js';

interface Health {
  readonly httpStatus: number;
  readonly status: string;
  readonly checks: Record<string, string>;
}

async function healthOf(member: FleetProcess): Promise<Health> {
  const response = await fetch(`${member.healthUrl}/healthz`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { status: string; checks: Record<string, string> };
  return { httpStatus: response.status, status: body.status, checks: body.checks };
}

/** The prompts the emulators have finished (their `/history`), and whether one they took is still unfinished. */
async function renders(fleet: Fleet): Promise<{ finished: number; unfinished: boolean }> {
  const histories = await Promise.all(
    fleet.emulators.map(async (emulator) => (await (await fetch(`${emulator.url}/history`)).json()) as object),
  );
  const finished = histories.reduce((sum, history) => sum + Object.keys(history).length, 0);
  const unfinished = fleet.emulators.some((emulator, number) =>
    emulator.received.some((prompt) => !(prompt.promptId in histories[number]!)),
  );
  return { finished, unfinished };
}

describe.runIf(shouldRunRedisTests('fleet suite (Redis restarted under the fleet)'))(
  'a fleet whose Redis restarts or crashes',
  () => {
    let fleet: Fleet;
    let round = 0;
    let german: FakeUser;

    beforeAll(async () => {
      fleet = await Fleet.start({
        processes: 2,
        guilds: 2,
        membersPerGuild: 3,
        stepMs: 60,
        redis: 'restartable',
        env: { MAX_JOBS_PER_MEMBER: '3', COMFY_PROMPTS_PER_SERVER: '1' },
      });
      // A member who reads Discord in German sends the command during the outage: what the bot tells them must be
      // in German.
      german = fleet.discord.createUser({ username: 'member-de', locale: 'de' }, fleet.guilds[0]!.guild);
    }, 180_000);

    afterAll(async () => {
      await fleet?.close();
    });

    /** Two jobs from every member, all taken in; resolves once one has ended and another renders. */
    async function jobsInEveryState(): Promise<SentJob[]> {
      round += 1;
      const inputs = fleet.members.flatMap(({ user, channel }) =>
        [1, 2].map((number) => ({ user, channel, marker: `outage${round}-${user.username}-${number}` })),
      );
      const handles = await fleet.discord.sendSlashCommands(
        inputs.map(({ user, channel, marker }) => ({
          user,
          channel,
          name: 'imagine',
          options: { prompt: `a breakwater ${marker} --steps 25` },
        })),
      );
      const jobs = handles.map((handle, index) => ({
        handle,
        memberId: inputs[index]!.user.id,
        marker: inputs[index]!.marker,
      }));
      await fleet.until(
        'every job to be taken in',
        () => jobs.filter((job) => saysAnything(job.handle.original)).length,
        (shown) => shown === jobs.length,
        60_000,
        () => describeUnended(fleet, jobs),
      );
      await fleet.until(
        'one job delivered and another rendering',
        () => jobs,
        (all) => all.some(hasEnded) && all.some((job) => /^Running: [1-9]/.test(statusOf(job.handle.original ?? {}))),
        120_000,
        () => describeUnended(fleet, jobs),
      );
      return jobs;
    }

    /**
     * Ends Redis with `signal` while an emulator renders a prompt (so that its end reaches its carrier while Redis is
     * away, or as it goes); resolves with how many renders had finished just before.
     */
    async function haltWhileRendering(signal: 'SIGTERM' | 'SIGKILL'): Promise<number> {
      const { finished } = await fleet.until(
        'an emulator to be rendering',
        async () => renders(fleet),
        (now) => now.unfinished,
      );
      await fleet.restartableRedis.halt(signal);
      return finished;
    }

    /**
     * A command the German member sends while Redis is down is answered, while it is still down, with the catalogue
     * sentence `key` in German, for the member only.
     */
    async function toldWhileDown(command: { name: string; options?: Record<string, string> }, key: TextKey) {
      const handle = await fleet.discord.sendSlashCommand({
        user: german,
        channel: fleet.guilds[0]!.channel,
        ...command,
      });
      await fleet.until(
        `/${command.name} sent during the outage to be answered`,
        () => saysAnything(handle.original),
        (answered) => answered,
        30_000,
        () =>
          JSON.stringify(
            handle.calls.map((call) => [call.method, call.status, call.receivedAt - handle.record.createdAt]),
          ),
      );
      expect(handle.original!.content).toBe(text('de', key));
      expect(handle.original!.flags & 64, 'the sentence is for the member only').toBe(64);
    }

    /**
     * While Redis is down: every process's `/healthz` says the store is, a render that ends meanwhile is waited for
     * (its end reaches a process that cannot write it down), and a member's `/history` and `/imagine` are each
     * answered with one sentence in their language; resolves once the outage has lasted `atLeastMs`.
     */
    async function duringTheOutage(rendersBefore: number, atLeastMs: number): Promise<void> {
      const until = Date.now() + atLeastMs;
      for (const member of fleet.processes) {
        const health = await fleet.until(
          `process ${member.index}'s /healthz to say the store is down`,
          async () => healthOf(member),
          (answer) => answer.httpStatus === 503 && answer.checks.store !== 'ok',
          30_000,
        );
        expect(health.status).toBe('unhealthy');
      }
      await fleet.until(
        'a render to finish while Redis is down',
        async () => renders(fleet),
        (now) => now.finished > rendersBefore,
      );
      await toldWhileDown({ name: 'history' }, 'error.store-away');
      await toldWhileDown(
        { name: 'imagine', options: { prompt: `a pier outage${round}-during --steps 4` } },
        'failure.storeUnavailable',
      );
      await fleet.until(
        'the outage to have lasted long enough',
        () => Date.now(),
        (now) => now >= until,
      );
    }

    /** Every job ends with exactly one finished card, each prompt sent once, and no process went away. */
    async function everyJobOnce(jobs: SentJob[], fault: string): Promise<void> {
      await expectEachDeliveredOnce(fleet, jobs, fault);
      expect(fleet.running.length, 'processes still running').toBe(fleet.processes.length);
      for (const member of fleet.processes) {
        await fleet.until(
          `process ${member.index}'s /healthz to say the store is back`,
          async () => healthOf(member),
          (answer) => answer.checks.store === 'ok',
          30_000,
        );
      }
    }

    it('delivers every job once when Redis is restarted gracefully (SIGTERM) under it', async () => {
      const jobs = await jobsInEveryState();
      const rendersBefore = await haltWhileRendering('SIGTERM');
      await duringTheOutage(rendersBefore, 0);
      await fleet.restartableRedis.resume();
      await everyJobOnce(jobs, 'Redis restarted (SIGTERM) under a running fleet');
    }, 420_000);

    it("delivers every job once when Redis is killed (SIGKILL), down longer than the carriers' locks, and started again on its data", async () => {
      const jobs = await jobsInEveryState();
      const rendersBefore = await haltWhileRendering('SIGKILL');
      // Longer than BullMQ's lock on a carried job (15 s): when Redis is back, the running jobs' locks have lapsed
      // and the stalled-job check may hand them out again while their carriers still follow them.
      await duringTheOutage(rendersBefore, 20_000);
      await fleet.restartableRedis.resume();
      await everyJobOnce(jobs, 'Redis killed (SIGKILL) under a running fleet and started again');
    }, 420_000);
  },
);
