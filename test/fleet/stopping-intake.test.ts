/**
 * A process that stops (SIGTERM) while its gateway is still connected, with real comfycord processes, a real
 * redis-server and the fake Discord. Its stop is held the way a real one's can be: a delivery under way (Discord rate
 * limits the finished card of a job it carries, 429 after 429, until the test lets it through) is finished before the
 * process lets go; meanwhile its shard still brings members' commands.
 *
 * In a fleet it takes them into the shared queue (written down, acknowledged, queued) instead of refusing them, and
 * another process carries each and delivers it once; also when the stopping process is SIGKILLed right after
 * acknowledging one (the request it wrote down is finished by another). One process alone on SQLite refuses them with
 * one sentence, as before: nobody else would carry the job.
 */
import { InteractionResponseType } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultHandle } from '../fakes/discord/index.js';
import { shouldRunRedisTests } from '../store/redis-server.js';
import { saysAnything } from '../e2e/card-reader.js';
import { Fleet, type FleetGuild, type FleetProcess } from './harness.js';
import { describeUnended, expectEachDeliveredOnce, finishedCards, type SentJob } from './outcomes.js';

/** What a stopping process logs first (app.ts), in a fleet and alone. */
const STOPPING_IN_FLEET = '"msg":"stopping: the jobs this process carries go on in the others';
const STOPPING_ALONE = '"msg":"stopping: no new jobs';

/** Sends an `/imagine` with a marker in its prompt from `member` of `guild`. */
async function imagine(fleet: Fleet, guild: FleetGuild, member: number, marker: string, steps = 4): Promise<SentJob> {
  const user = guild.members[member]!;
  const handle = await fleet.discord.sendSlashCommand({
    user,
    channel: guild.channel,
    name: 'imagine',
    options: { prompt: `a lighthouse ${marker} --steps ${steps}` },
  });
  return { handle, memberId: user.id, marker };
}

/**
 * Holds the finished cards of the jobs given to it: Discord answers their uploads with 429 (retry after a second),
 * again and again, until the fault is cancelled. discord.js waits and tries again each time: the delivery stays under way.
 */
function holdFinishedCards(fleet: Fleet): { hold(job: SentJob): void; underWay(): Promise<void>; fault: FaultHandle } {
  const tokens = new Set<string>();
  const fault = fleet.discord.inject({
    status: 429,
    retryAfter: 1,
    times: Infinity,
    match: (call) => call.files > 0 && [...tokens].some((token) => call.path.includes(token)),
  });
  return {
    fault,
    hold: (job) => void tokens.add(job.handle.token),
    // Once a held card was refused a first time: its delivery is under way, and held.
    underWay: async () => {
      await fleet.until(
        'a finished card to be under way',
        () => fault.hits,
        (hits) => hits > 0,
        120_000,
      );
    },
  };
}

/** The process that submitted the job's prompt to ComfyUI (its client id carries its pid). */
function submitterOf(fleet: Fleet, job: SentJob): FleetProcess | undefined {
  const submission = fleet.submissions.find((prompt) => prompt.text.includes(job.marker));
  return fleet.running.find((member) => submission?.clientId?.includes(`-${member.bot.child.pid}-`));
}

function guildOf(fleet: Fleet, member: FleetProcess): FleetGuild {
  return fleet.guilds.find((guild) => guild.shard === member.shard)!;
}

/** Waits until the process logged that it stops (`said`: what app.ts logs first, in a fleet or alone). */
async function untilStopping(fleet: Fleet, member: FleetProcess, said: string): Promise<void> {
  await fleet.until('the process to stop', () => member.bot.output.join('').includes(said), Boolean, 30_000);
}

describe.runIf(shouldRunRedisTests('fleet suite (commands while a process stops)'))(
  'commands reaching a fleet process while it stops',
  () => {
    let fleet: Fleet;

    beforeAll(async () => {
      fleet = await Fleet.start({ processes: 2, guilds: 2, membersPerGuild: 3, stepMs: 30 });
    }, 180_000);

    afterAll(async () => {
      await fleet?.close();
    });

    it('takes them into the shared queue while its gateway is connected, and another process delivers each once', async () => {
      const cards = holdFinishedCards(fleet);
      const held = await imagine(fleet, fleet.guilds[0]!, 0, 'held-in-delivery');
      cards.hold(held);
      await cards.underWay();
      const stopping = submitterOf(fleet, held)!;
      const exited = fleet.stop(stopping);
      await untilStopping(fleet, stopping, STOPPING_IN_FLEET);

      const guild = guildOf(fleet, stopping);
      const sent: SentJob[] = [];
      for (let member = 0; member < guild.members.length; member += 1) {
        sent.push(await imagine(fleet, guild, member, `while-stopping-${member}`));
      }
      // Taken in by the stopping process (its shard's only connection): each card shows its place in the queue, or more.
      await fleet.until(
        'the commands to be taken in',
        () => sent.filter((job) => !saysAnything(job.handle.original)).length,
        (pending) => pending === 0,
        90_000,
        () => describeUnended(fleet, sent),
      );
      expect(stopping.bot.child.exitCode, 'the process still stops (its delivery is held)').toBeNull();
      cards.fault.cancel();
      expect(await exited).toBe(0);

      await expectEachDeliveredOnce(
        fleet,
        [held, ...sent],
        'commands reaching a fleet process while it stops (SIGTERM), its delivery under way',
        120_000,
      );
      // Carried elsewhere: the stopping process carried nothing after it began to stop.
      for (const job of sent) expect(submitterOf(fleet, job)).not.toBe(stopping);
      await fleet.restart(stopping);
    }, 360_000);

    it('leaves a command it acknowledged to another process when it is SIGKILLed while stopping, delivered once', async () => {
      const [killed, other] = fleet.processes as [FleetProcess, FleetProcess];
      // Told to die right after its next acknowledgement: the first command it receives will be the one sent while it
      // stops (the job whose delivery holds it comes through the other's shard).
      expect(await fleet.stop(killed)).toBe(0);
      await fleet.restart(killed, { COMFYCORD_FAULT_POINT: 'command:acknowledged' });
      // A render long enough to hand the job over while it runs. Its finished card is held from the start: wherever
      // it ends (on the process to be killed), its delivery holds that process's stop.
      for (const emulator of fleet.emulators) emulator.faults.stepMs = 250;
      const cards = holdFinishedCards(fleet);
      const held = await imagine(fleet, guildOf(fleet, other), 0, 'carried-by-the-killed', 40);
      cards.hold(held);
      await fleet.until('the job to run', () => submitterOf(fleet, held), Boolean, 90_000);
      if (submitterOf(fleet, held) === other) {
        // Carried by the other: stopping it hands the job to the one that will be killed.
        expect(await fleet.stop(other)).toBe(0);
        await fleet.restart(other);
      }
      for (const emulator of fleet.emulators) emulator.faults.stepMs = 30;
      await cards.underWay();

      killed.bot.child.kill('SIGTERM');
      await untilStopping(fleet, killed, STOPPING_IN_FLEET);
      const sent = await imagine(fleet, guildOf(fleet, killed), 1, 'acknowledged-then-killed');
      expect((await killed.bot.exited).signal).toBe('SIGKILL');
      expect(sent.handle.callback?.type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
      cards.fault.cancel();

      // The other takes the held job over once its carrier's lock expires, and finishes the written-down command as
      // soon as it sees its writer dead.
      await expectEachDeliveredOnce(
        fleet,
        [held, sent],
        'a fleet process SIGKILLed while it stops, after acknowledging a command and during a delivery',
        240_000,
      );
      expect(other.bot.output.join('')).toContain('finished a request a stopped process had received');
    }, 480_000);
  },
);

describe.runIf(shouldRunRedisTests('fleet suite (commands while one embedded process stops)'))(
  'commands reaching one process alone on SQLite while it stops',
  () => {
    let fleet: Fleet;

    beforeAll(async () => {
      fleet = await Fleet.start({ processes: 1, guilds: 1, membersPerGuild: 2, stepMs: 30, store: 'embedded' });
    }, 180_000);

    afterAll(async () => {
      await fleet?.close();
    });

    it('refuses them with one sentence, since no other process would carry them', async () => {
      const [alone] = fleet.processes as [FleetProcess];
      const guild = fleet.guilds[0]!;
      const cards = holdFinishedCards(fleet);
      const held = await imagine(fleet, guild, 0, 'held-alone');
      cards.hold(held);
      await cards.underWay();
      const exited = fleet.stop(alone);
      await untilStopping(fleet, alone, STOPPING_ALONE);

      const refused = await imagine(fleet, guild, 1, 'refused-alone');
      const sentence = await refused.handle.waitForFollowup(() => true, 60_000);
      expect(sentence.content).toBe('The bot is restarting; please try again in a minute.');
      expect(alone.bot.child.exitCode, 'the process still stops (its delivery is held)').toBeNull();
      cards.fault.cancel();
      expect(await exited).toBe(0);
      expect(finishedCards(fleet.discord, [held])).toEqual([1]);
      expect(fleet.submissions.filter((prompt) => prompt.text.includes('refused-alone'))).toEqual([]);
    }, 240_000);
  },
);
