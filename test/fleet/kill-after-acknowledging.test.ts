/**
 * Two real comfycord processes on a real redis-server, each with its own shard and data directory. The process that
 * receives an `/imagine` is killed (SIGKILL, `COMFYCORD_FAULT_POINT=command:acknowledged`) right after it deferred the
 * interaction, before any job was written. The request it wrote down before acknowledging names its writer (the
 * process's life); the other process (the fleet's dispatcher) finishes it because that life is over (its pid gone,
 * on one machine), not because the intake's grace passed: no entry naming a writer is ever taken by the grace. The
 * member's "thinking…" becomes the card, and the picture arrives once; ComfyUI runs the prompt once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InteractionResponseType } from 'discord.js';
import { recordFault } from '../faults/ledger.js';
import { shouldRunRedisTests } from '../store/redis-server.js';
import { Fleet } from './harness.js';
import { failureOf, finishedCards, hasEnded, promptsSent, type SentJob } from './outcomes.js';

describe.runIf(shouldRunRedisTests('fleet suite (kill after acknowledging)'))(
  'a fleet process killed after acknowledging a command',
  () => {
    let fleet: Fleet;

    beforeAll(async () => {
      fleet = await Fleet.start({ processes: 2, guilds: 2, membersPerGuild: 1, stepMs: 30 });
    }, 120_000);

    afterAll(async () => {
      await fleet?.close();
    });

    it('leaves its /imagine to another process, which delivers it once', async () => {
      const [receiver, survivor] = fleet.processes;
      // The process of guild 0's shard starts again, told to die right after its next acknowledgement.
      expect(await fleet.stop(receiver!)).toBe(0);
      await fleet.restart(receiver!, { COMFYCORD_FAULT_POINT: 'command:acknowledged' });
      const user = fleet.guilds[0]!.members[0]!;
      const channel = fleet.guilds[0]!.channel;
      const marker = 'harbour-left-behind';
      const handle = await fleet.discord.sendSlashCommand({
        user,
        channel,
        name: 'imagine',
        options: { prompt: `a harbour ${marker} --steps 4` },
      });
      await receiver!.bot.exited;
      expect(handle.callback?.type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
      const job: SentJob = { handle, memberId: user.id, marker };

      await fleet.until('the card to end', () => hasEnded(job), Boolean, 120_000);
      const cards = finishedCards(fleet.discord, [job]);
      recordFault('a fleet process killed (SIGKILL) after acknowledging a command, before its job', [
        { deliveries: cards[0]!, sentences: failureOf(job) ? 1 : 0 },
      ]);
      expect(failureOf(job), fleet.output.slice(-20_000)).toBeUndefined();
      expect(cards).toEqual([1]);
      expect(promptsSent(fleet.submissions, [job])).toEqual([1]);
      // Taken over because its writer died, not by the grace.
      const finished = survivor!.bot.output
        .join('')
        .split('\n')
        .filter((line) => line.includes('finished a request a stopped process had received'));
      expect(finished).toHaveLength(1);
      expect(JSON.parse(finished[0]!)).toMatchObject({ takenOver: 'writer-gone' });
      // Nothing more comes once the survivor stops cleanly (it finishes what it was sending first).
      expect(await fleet.stop(survivor!)).toBe(0);
      expect(finishedCards(fleet.discord, [job])).toEqual([1]);
    }, 300_000);
  },
);
