import { Events, type Client } from 'discord.js';
import { WebSocket } from 'undici';
import { describe, expect, it } from 'vitest';
import type { FakeDiscord } from './fake-discord.js';
import { shardOf } from './gateway-protocol.js';
import type { FakeChannel, FakeGuild } from './model.js';
import { createTestClient } from './test-client.js';
import { useFakeDiscord } from './test-harness.js';

/** A guild (with its #general) on each of `count` shards: the default one, and new ones on the shards it is not on. */
function guildsOnEveryShard(fake: FakeDiscord, count: number): { guild: FakeGuild; channel: FakeChannel }[] {
  return Array.from({ length: count }, (_, shard) =>
    shardOf(fake.guild.id, count) === shard
      ? { guild: fake.guild, channel: fake.channel }
      : fake.createGuild(`Guild on shard ${shard}`, fake.owner, { shard: [shard, count] }),
  );
}

/** Collects the ids of the guilds whose interactions and messages reach `client`. */
function recordEvents(client: Client) {
  const interactions: (string | null)[] = [];
  const messages: (string | null)[] = [];
  client.on(Events.InteractionCreate, (interaction) => interactions.push(interaction.guildId));
  client.on(Events.MessageCreate, (message) => messages.push(message.guildId));
  return { interactions, messages };
}

/** A raw Gateway connection that identifies with `shard` and resolves with the close it gets. */
function identifyRaw(fake: FakeDiscord, shard: [number, number]): Promise<{ code: number; reason: string }> {
  const socket = new WebSocket(`${fake.gatewayUrl}?v=10&encoding=json`);
  socket.addEventListener('message', (event) => {
    const frame = JSON.parse(String(event.data)) as { op: number };
    if (frame.op === 10)
      socket.send(JSON.stringify({ op: 2, d: { token: fake.token, intents: 1, properties: {}, shard } }));
  });
  return new Promise((resolve) => {
    socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason }));
  });
}

describe('the sharded Gateway with two real discord.js clients', () => {
  const h = useFakeDiscord({ login: false });

  it("sends each client READY and GUILD_CREATE for its shard's guilds only", async () => {
    const [onZero, onOne] = guildsOnEveryShard(h.fake, 2);
    const zero = await createTestClient(h.fake, { shards: [0], shardCount: 2 });
    const one = await createTestClient(h.fake, { shards: [1], shardCount: 2 });
    try {
      expect([...zero.guilds.cache.keys()]).toEqual([...h.fake.guildsOnShard(0, 2)]);
      expect([...one.guilds.cache.keys()]).toEqual([...h.fake.guildsOnShard(1, 2)]);
      expect(zero.guilds.cache.has(onZero!.guild.id) && !zero.guilds.cache.has(onOne!.guild.id)).toBe(true);
      expect(one.guilds.cache.has(onOne!.guild.id) && !one.guilds.cache.has(onZero!.guild.id)).toBe(true);
      expect(h.fake.gateway.identifies.map((identify) => identify.shard)).toEqual([
        [0, 2],
        [1, 2],
      ]);
    } finally {
      await Promise.all([zero.destroy(), one.destroy()]);
    }
  });

  it("routes each guild's interactions and messages to the shard (guild_id >> 22) % count, and DMs to shard 0", async () => {
    const [onZero, onOne] = guildsOnEveryShard(h.fake, 2);
    const zero = await createTestClient(h.fake, { shards: [0], shardCount: 2 });
    const one = await createTestClient(h.fake, { shards: [1], shardCount: 2 });
    try {
      const [seenByZero, seenByOne] = [recordEvents(zero), recordEvents(one)];
      const inOne = await h.fake.sendSlashCommand({ user: h.fake.owner, channel: onOne!.channel, name: 'imagine' });
      const inZero = await h.fake.sendSlashCommand({ user: h.fake.owner, channel: onZero!.channel, name: 'imagine' });
      await h.fake.postMessage({ user: h.fake.owner, channel: onOne!.channel, content: 'in guild one' });
      await h.fake.postMessage({ user: h.fake.owner, channel: h.fake.openDm(h.fake.owner), content: 'a DM' });
      await h.fake.postMessage({ user: h.fake.owner, channel: onZero!.channel, content: 'in guild zero' });
      await waitUntil(() => seenByZero.messages.length === 2 && seenByOne.messages.length === 1);

      expect([inOne.record.deliveredTo, inZero.record.deliveredTo]).toEqual([1, 1]);
      expect(seenByOne).toEqual({ interactions: [onOne!.guild.id], messages: [onOne!.guild.id] });
      expect(seenByZero).toEqual({ interactions: [onZero!.guild.id], messages: [null, onZero!.guild.id] });
    } finally {
      await Promise.all([zero.destroy(), one.destroy()]);
    }
  });
});

describe('one client with several shards', () => {
  const h = useFakeDiscord({ login: false, sharding: { maxConcurrency: 2 } });

  it('runs both shards in one client when it is given both, identifying them together under max_concurrency 2', async () => {
    const [onZero, onOne] = guildsOnEveryShard(h.fake, 2);
    const both = await createTestClient(h.fake, { shards: [0, 1], shardCount: 2 });
    try {
      expect(both.guilds.cache.has(onZero!.guild.id) && both.guilds.cache.has(onOne!.guild.id)).toBe(true);
      expect(both.ws.shards.map((shard) => shard.id).sort()).toEqual([0, 1]);
    } finally {
      await both.destroy();
    }
  });
});

describe('what the sharded Gateway refuses and recommends', () => {
  const h = useFakeDiscord({
    login: false,
    sharding: { maxGuildsPerShard: 2, recommendedGuildsPerShard: 2, maxConcurrency: 4 },
  });

  it('closes with 4010 (invalid shard) an IDENTIFY whose shard id is not below its count', async () => {
    expect(await identifyRaw(h.fake, [2, 2])).toEqual({ code: 4010, reason: 'Invalid shard.' });
    expect(await identifyRaw(h.fake, [0, 0])).toEqual({ code: 4010, reason: 'Invalid shard.' });
  });

  it('closes with 4011 (sharding required) when one shard would hold too many guilds, and lets enough shards in', async () => {
    guildsOnEveryShard(h.fake, 2);
    h.fake.createGuild('Third', h.fake.owner, { shard: [shardOf(h.fake.guild.id, 2), 2] });
    const unsharded = await createTestClient(h.fake).then(
      () => null,
      (error: unknown) => error,
    );
    expect(unsharded).toMatchObject({ message: 'Sharding is required' });
    expect(h.fake.gateway.closes).toEqual([expect.objectContaining({ code: 4011, reason: 'Sharding required.' })]);

    const sharded = await createTestClient(h.fake, { shards: [0, 1], shardCount: 2 });
    expect(sharded.guilds.cache.size).toBe(3);
    await sharded.destroy();
  });

  it('recommends a shard count for the guilds the bot is in, and counts session starts', async () => {
    const before = await gatewayBot(h.fake);
    expect(before).toMatchObject({ shards: 1, session_start_limit: { total: 1000, max_concurrency: 4 } });
    guildsOnEveryShard(h.fake, 2);
    h.fake.createGuild('Third', h.fake.owner, { shard: [1, 2] });
    const client = await createTestClient(h.fake, { shards: [0, 1], shardCount: 2 });
    await client.destroy();
    const after = await gatewayBot(h.fake);
    expect(after.shards).toBe(2);
    expect(after.session_start_limit.remaining).toBe(before.session_start_limit.remaining - 2);
  });
});

async function gatewayBot(fake: FakeDiscord) {
  const response = await fetch(`${fake.apiUrl}/v10/gateway/bot`, { headers: { authorization: `Bot ${fake.token}` } });
  return (await response.json()) as {
    shards: number;
    session_start_limit: { total: number; remaining: number; max_concurrency: number };
  };
}

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the events');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
