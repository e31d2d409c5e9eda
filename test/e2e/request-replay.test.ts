/**
 * The replay of received requests (src/discord/request-replay.ts) on the real bot, the emulator and the fake Discord:
 * entries written as a process killed after receiving them would have left them, finished by the replay the next start
 * or the fleet's dispatcher runs. Two replays of one entry at once (a takeover while the old dispatcher still works, a
 * live process that was only slow) make one job; an entry whose job exists is only removed; a refusal is told once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryJournal } from '../../src/discord/delivery-journal.js';
import { FinalPoster } from '../../src/discord/final-post.js';
import type { ReceivedImagine } from '../../src/discord/request-journal.js';
import { replayReceivedRequests, type ReplayContext } from '../../src/discord/request-replay.js';
import { noFault } from '../../src/fault-point.js';
import { newJobId } from '../../src/jobs/model.js';
import { silentLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { ProcessLives } from '../../src/store/process-lives.js';
import { processLease, thisProcess } from '../../src/store/runner-lease.js';
import type { Store } from '../../src/store/store.js';
import { startRig, type Rig } from './harness.js';
import { textsOf } from './card-reader.js';

let rig: Rig;
let posts: Store;
let context: ReplayContext;

beforeAll(async () => {
  rig = await startRig();
  // The poster's own journal, for the refusals a replay tells (the bot keeps its own the same way).
  posts = await openStore('sqlite://:memory:', silentLogger());
  const rest = rig.bot.client.rest;
  const deliveries = new DeliveryJournal(posts);
  const poster = new FinalPoster({
    rest,
    interactionRest: rest,
    journal: deliveries,
    logger: silentLogger(),
    fault: noFault,
  });
  // The leases the replay reads its writers' lives from: a store the test holds them in.
  const lives = new ProcessLives(posts.leases);
  context = {
    services: rig.bot.services,
    rest,
    interactionRest: rest,
    poster,
    deliveries,
    lives,
    logger: silentLogger(),
  };
});

afterAll(async () => {
  await rig?.close();
  await posts?.close();
});

/** An `/imagine` an acknowledged interaction left, whose token has died: its answers go to the channel. */
function entryFor(prompt: string, options: ReceivedImagine['options'] = {}): ReceivedImagine {
  const { discord } = rig;
  return {
    kind: 'imagine',
    id: newJobId(),
    memberId: discord.member.id,
    guildId: discord.guild.id,
    channelId: discord.channel.id,
    ageRestricted: false,
    receivedAt: Date.now() - 120_000,
    interactionId: '1',
    delivery: { tokenExpiresAt: 0, channelId: discord.channel.id, locale: 'en-US' },
    inThread: false,
    acknowledgedAt: Date.now() - 119_000,
    text: prompt,
    options,
  };
}

/** Prompts the emulator received whose graph holds `marker`. */
function promptsWith(marker: string) {
  return rig.emulator.received.filter((prompt) => JSON.stringify(prompt.prompt).includes(marker));
}

/** Bot messages in the channel whose texts hold `marker`. */
function channelMessagesWith(marker: string) {
  const { discord } = rig;
  return discord
    .messagesIn(discord.channel)
    .filter((message) => message.authorId === discord.botUser.id && textsOf(message).join('\n').includes(marker));
}

describe('replaying received requests', () => {
  it('makes one job when two replays finish one entry at once', async () => {
    const entry = entryFor('a quay replayed twice at once --steps 2');
    await rig.bot.services.requests.write(entry);
    const replays = await Promise.all([replayReceivedRequests(context, 0), replayReceivedRequests(context, 0)]);
    expect(replays.reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(1);
    const job = await rig.bot.services.jobs.findJob(entry.id);
    expect(job?.memberId).toBe(rig.discord.member.id);
    await rig.discord.waitForMessage(
      (message) => message.attachments.length > 0 && textsOf(message).join('\n').includes('replayed twice at once'),
      20_000,
    );
    expect(promptsWith('replayed twice at once')).toHaveLength(1);
    expect(channelMessagesWith('replayed twice at once').filter((m) => m.attachments.length > 0)).toHaveLength(1);
    expect(await rig.bot.services.requests.list()).toEqual([]);
  });

  it('only removes an entry whose job exists', async () => {
    const entry = entryFor('a quay replayed after its job --steps 2');
    await rig.bot.services.requests.write(entry);
    expect(await replayReceivedRequests(context, 0)).toBe(1);
    await rig.bot.services.requests.write(entry);
    expect(await replayReceivedRequests(context, 0)).toBe(0);
    expect(await rig.bot.services.requests.list()).toEqual([]);
    await rig.discord.waitForMessage(
      (message) => message.attachments.length > 0 && textsOf(message).join('\n').includes('replayed after its job'),
      20_000,
    );
    expect(promptsWith('replayed after its job')).toHaveLength(1);
  });

  it('leaves an entry younger than the grace for the process that wrote it', async () => {
    const entry = { ...entryFor('a quay still being taken in'), receivedAt: Date.now() };
    await rig.bot.services.requests.write(entry);
    expect(await replayReceivedRequests(context, 60_000)).toBe(0);
    expect((await rig.bot.services.requests.list()).map((left) => left.id)).toEqual([entry.id]);
    await rig.bot.services.requests.remove(entry.id);
  });

  it('leaves an entry to its live writer however old, and takes it once that life is over', async () => {
    const holder = thisProcess();
    await posts.leases.claim(processLease('writer-alive'), holder, 60_000);
    const entry = {
      ...entryFor('a quay its live writer still takes in --steps 2'),
      writer: { process: 'writer-alive', life: holder.id },
    };
    await rig.bot.services.requests.write(entry);
    // A live writer's entry is not taken, past any grace: it may be slow, and a second replay would be a race.
    expect(await replayReceivedRequests(context, 0)).toBe(0);
    expect(await rig.bot.services.jobs.findJob(entry.id)).toBeUndefined();
    expect((await rig.bot.services.requests.list()).map((left) => left.id)).toEqual([entry.id]);
    // Its process stopped (the lease released, as a stop or a lapse leaves it): finished now, once.
    await posts.leases.release(processLease('writer-alive'), holder.id);
    expect(await replayReceivedRequests(context, 60 * 60_000)).toBe(1);
    await rig.discord.waitForMessage(
      (message) => message.attachments.length > 0 && textsOf(message).join('\n').includes('its live writer'),
      20_000,
    );
    expect(promptsWith('its live writer')).toHaveLength(1);
    expect(await rig.bot.services.requests.list()).toEqual([]);
  });

  it('drops an interaction never noted as acknowledged once its token has died, making no job', async () => {
    const { acknowledgedAt: _acknowledged, ...entry } = entryFor('a quay nobody waits for --steps 2');
    await rig.bot.services.requests.write(entry);
    expect(await replayReceivedRequests(context, 0)).toBe(0);
    expect(await rig.bot.services.jobs.findJob(entry.id)).toBeUndefined();
    expect(await rig.bot.services.requests.list()).toEqual([]);
    expect(promptsWith('nobody waits for')).toHaveLength(0);
  });

  it('tells a refusal once, in the channel mentioning the member, when the token has died', async () => {
    const entry = entryFor('a quay with a workflow nobody has', { workflow: 'no-such-workflow' });
    await rig.bot.services.requests.write(entry);
    expect(await replayReceivedRequests(context, 0)).toBe(1);
    // Told again by a second replay (the entry written again, as a kill before its removal leaves it): still once.
    await rig.bot.services.requests.write(entry);
    await replayReceivedRequests(context, 0);
    const told = rig.discord
      .messagesIn(rig.discord.channel)
      .filter((message) => textsOf(message).join('\n').includes('no-such-workflow'));
    expect(told).toHaveLength(1);
    expect(textsOf(told[0]!)[0]).toMatch(new RegExp(`^<@${rig.discord.member.id}> ❌ `));
    expect(await rig.bot.services.jobs.findJob(entry.id)).toBeUndefined();
    expect(await rig.bot.services.requests.list()).toEqual([]);
  });
});
