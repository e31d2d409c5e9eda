import { ApplicationFlags, Client, Events, GatewayIntentBits } from 'discord.js';
import { WebSocket } from 'undici';
import { describe, expect, it } from 'vitest';
import { createTestClient } from './test-client.js';
import { useFakeDiscord } from './test-harness.js';

/** A raw Gateway connection that collects frames and the close code. */
function rawGateway(url: string) {
  const socket = new WebSocket(url);
  const frames: { op: number; t?: string | null; d?: unknown }[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason }));
  });
  const waitForOp = (op: number) =>
    new Promise<unknown>((resolve) => {
      const check = () => {
        const frame = frames.find((f) => f.op === op);
        if (frame) resolve(frame);
        else setTimeout(check, 10);
      };
      check();
    });
  socket.addEventListener('message', (event) => frames.push(JSON.parse(String(event.data))));
  const send = (payload: unknown) => socket.send(JSON.stringify(payload));
  return { socket, frames, closed, waitForOp, send };
}

describe('the Gateway with the real discord.js client', () => {
  const h = useFakeDiscord();

  it('logs in: READY then GUILD_CREATE fill the caches before clientReady', () => {
    expect(h.client.user.id).toBe(h.fake.botUser.id);
    expect(h.client.user.bot).toBe(true);
    expect(h.client.guilds.cache.get(h.fake.guild.id)?.name).toBe('Test Guild');
    expect(h.client.channels.cache.get(h.fake.channel.id)?.isTextBased()).toBe(true);
    expect(h.client.application.id).toBe(h.fake.applicationId);
    expect(h.fake.gateway.identifies).toEqual([
      expect.objectContaining({ shard: [0, 1], intents: expect.any(Number) as number }),
    ]);
    expect(h.fake.calls.map((c) => `${c.method} ${c.route}`)).toEqual(['GET /gateway/bot']);
  });

  it('reports the enabled privileged intents as application flags, as Discord does', async () => {
    const application = await h.client.application.fetch();
    expect(application.flags.has(ApplicationFlags.GatewayMessageContentLimited)).toBe(true);
    h.fake.setPrivilegedIntents({ messageContent: false });
    const refetched = await h.client.application.fetch();
    expect(refetched.flags.has(ApplicationFlags.GatewayMessageContentLimited)).toBe(false);
  });

  it('announces a guild the bot joins later', async () => {
    const joined = new Promise<string>((resolve) => h.client.once(Events.GuildCreate, (guild) => resolve(guild.name)));
    h.fake.createGuild('Second Guild', h.fake.owner);
    expect(await joined).toBe('Second Guild');
  });

  it('resumes after a disconnect and replays the events sent meanwhile', async () => {
    const resumed = new Promise<void>((resolve) => h.client.once(Events.ShardResume, () => resolve()));
    const received = new Promise<string>((resolve) =>
      h.client.once(Events.MessageCreate, (message) => resolve(message.content)),
    );
    h.fake.gateway.disconnectAll(4000);
    await h.fake.postMessage({ user: h.fake.member, channel: h.fake.channel, content: 'sent while away' });
    await resumed;
    expect(await received).toBe('sent while away');
    expect(h.fake.gateway.identifies).toHaveLength(1);
    expect(h.fake.gateway.closes.map((c) => c.code)).toEqual([4000]);
  });
});

describe('Gateway connections each test makes itself', () => {
  const h = useFakeDiscord({ login: false });

  it('sends active threads in GUILD_CREATE so messages in them arrive after login', async () => {
    const thread = h.fake.createThread(h.fake.channel, 'old session', h.fake.member);
    const client = await createTestClient(h.fake);
    try {
      expect(client.channels.cache.get(thread.id)?.isThread()).toBe(true);
      const received = new Promise<string>((resolve) =>
        client.once(Events.MessageCreate, (message) => resolve(message.channelId)),
      );
      await h.fake.postMessage({ user: h.fake.member, channel: thread, content: 'again' });
      expect(await received).toBe(thread.id);
    } finally {
      await client.destroy();
    }
  });

  it('tells a test when no bot was connected to receive an interaction', async () => {
    const handle = await h.fake.sendSlashCommand({ user: h.fake.member, channel: h.fake.channel, name: 'imagine' });
    expect(handle.record.deliveredTo).toBe(0);
    await expect(handle.waitForCallback(50)).rejects.toThrow(/delivered to 0 connected bot session/);
  });

  it('makes login reject on a bad token (401 from /gateway/bot)', async () => {
    const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: h.fake.apiUrl } });
    try {
      await expect(client.login('not-the-token')).rejects.toMatchObject({ code: 'TokenInvalid' });
      expect(h.fake.calls).toEqual([expect.objectContaining({ route: '/gateway/bot', status: 401 })]);
    } finally {
      await client.destroy();
    }
  });

  it('closes with 4014 when a privileged intent is not enabled for the application', async () => {
    h.fake.setPrivilegedIntents({ messageContent: false });
    const failure = createTestClient(h.fake).then(
      () => null,
      (error: unknown) => error,
    );
    expect(await failure).toMatchObject({ message: 'Used disallowed intents' });
    expect(h.fake.gateway.closes).toEqual([expect.objectContaining({ code: 4014 })]);
  });

  it('closes a raw connection with 4004 on a bad token and acknowledges heartbeats', async () => {
    const gateway = rawGateway(`${h.fake.gatewayUrl}?v=10&encoding=json`);
    expect(await gateway.waitForOp(10)).toMatchObject({ d: { heartbeat_interval: 41_250 } });
    gateway.send({ op: 1, d: null });
    await gateway.waitForOp(11);
    gateway.send({ op: 2, d: { token: 'wrong', intents: 1, properties: {} } });
    expect(await gateway.closed).toEqual({ code: 4004, reason: 'Authentication failed.' });
  });

  it('refuses compressed or ETF connections clearly instead of hanging', async () => {
    const compressed = rawGateway(`${h.fake.gatewayUrl}?v=10&encoding=json&compress=zlib-stream`);
    expect((await compressed.closed).code).toBe(4012);
    const etf = rawGateway(`${h.fake.gatewayUrl}?v=10&encoding=etf`);
    expect(await etf.closed).toMatchObject({ code: 4012, reason: expect.stringMatching(/encoding=json/) as string });
    expect(compressed.frames).toEqual([]);
  });

  it('closes with 4003 when a client sends a payload before identifying', async () => {
    const gateway = rawGateway(`${h.fake.gatewayUrl}?v=10&encoding=json`);
    await gateway.waitForOp(10);
    gateway.send({ op: 3, d: { status: 'online' } });
    expect((await gateway.closed).code).toBe(4003);
  });
});
