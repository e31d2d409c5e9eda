import { DiscordAPIError, HTTPError } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { useFakeDiscord } from './test-harness.js';

describe('injected faults and unexpected calls', () => {
  const h = useFakeDiscord();

  function general() {
    const channel = h.client.channels.cache.get(h.fake.channel.id);
    if (!channel?.isSendable()) throw new Error('expected a sendable channel');
    return channel;
  }

  it('survives 429s: discord.js waits for Retry-After and the message gets through', async () => {
    const fault = h.fake.inject({
      method: 'POST',
      match: '/channels/:channelId/messages',
      status: 429,
      times: 2,
      retryAfter: 0.05,
    });
    await expect(general().send('hello')).resolves.toMatchObject({ content: 'hello' });
    expect(fault.hits).toBe(2);
    const posts = h.fake.calls.filter((c) => c.route === '/channels/:channelId/messages');
    expect(posts.map((c) => [c.status, c.injected])).toEqual([
      [429, true],
      [429, true],
      [200, false],
    ]);
    expect(posts[0]?.response).toEqual({ message: 'You are being rate limited.', retry_after: 0.05, global: false });
  });

  it('retries a 5xx and gives up after three retries', async () => {
    h.fake.inject({ match: /\/messages$/, status: 500, times: 1 });
    await expect(general().send('once')).resolves.toMatchObject({ content: 'once' });
    h.fake.inject({ match: /\/messages$/, status: 502, times: 4 });
    const error = await general()
      .send('never')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HTTPError);
    expect(error).toMatchObject({ status: 502 });
    expect(h.fake.calls.filter((c) => c.status === 502)).toHaveLength(4);
  });

  it('answers an unknown route with 404 and records it as unhandled', async () => {
    const error = await h.client.rest.get(`/guilds/${h.fake.guild.id}/bans`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ status: 404, code: 0 });
    expect(h.fake.unhandledCalls.map((c) => `${c.method} ${c.path}`)).toEqual([`GET /guilds/${h.fake.guild.id}/bans`]);
    expect(() => h.fake.assertNoUnhandledCalls()).toThrow(/bans/);
  });

  it('requires the bot token on bot routes', async () => {
    const response = await fetch(`${h.fake.apiUrl}/v10/channels/${h.fake.channel.id}`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ message: '401: Unauthorized', code: 0 });
    const call = await h.fake.waitFor((c) => c.status === 401);
    expect(call.authorized).toBe(false);
  });
});

describe('injected Discord errors', () => {
  const h = useFakeDiscord();

  it.each([
    [403, 50013, 'Missing Permissions'],
    [413, 40005, 'Request entity too large'],
    [404, 10003, 'Unknown Channel'],
    [404, 10008, 'Unknown Message'],
    [404, 10015, 'Unknown Webhook'],
  ])('answers %i with code %i and Discord’s message, as a DiscordAPIError', async (status, code, message) => {
    const channel = h.client.channels.cache.get(h.fake.channel.id);
    if (!channel?.isSendable()) throw new Error('expected a sendable channel');
    h.fake.inject({ method: 'POST', match: '/channels/:channelId/messages', status, code });
    const error = await channel.send('refused').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ status, code, rawError: { message, code } });
    await expect(channel.send('then accepted')).resolves.toMatchObject({ content: 'then accepted' });
  });

  it('can hit only the calls that upload files', async () => {
    const channel = h.client.channels.cache.get(h.fake.channel.id);
    if (!channel?.isSendable()) throw new Error('expected a sendable channel');
    h.fake.inject({ match: (call) => call.files > 0, status: 413, code: 40005, times: Infinity });
    await expect(channel.send('text passes')).resolves.toMatchObject({ content: 'text passes' });
    const upload = channel.send({ content: 'a file', files: [{ attachment: Buffer.from('x'), name: 'x.txt' }] });
    await expect(upload).rejects.toMatchObject({ code: 40005 });
  });
});

describe('rate limits', () => {
  const h = useFakeDiscord({ rateLimit: { limit: 2, windowMs: 300 } });

  it('sends X-RateLimit headers that discord.js paces itself by, so a burst gets through without a 429', async () => {
    const channel = h.client.channels.cache.get(h.fake.channel.id);
    if (!channel?.isSendable()) throw new Error('expected a sendable channel');
    const sent = await Promise.all([1, 2, 3, 4, 5].map((n) => channel.send(`burst ${n}`)));
    expect(sent.map((m) => m.content)).toEqual(['burst 1', 'burst 2', 'burst 3', 'burst 4', 'burst 5']);
    const posts = h.fake.calls.filter((c) => c.route === '/channels/:channelId/messages');
    expect(posts.map((c) => c.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('answers a caller that ignores the headers with 429 and Retry-After', async () => {
    const url = `${h.fake.apiUrl}/v10/channels/${h.fake.channel.id}`;
    const headers = { authorization: `Bot ${h.fake.token}` };
    const statuses: number[] = [];
    let last: Response | null = null;
    for (let i = 0; i < 3; i += 1) {
      last = await fetch(url, { headers });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last?.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(await last?.json()).toMatchObject({ message: 'You are being rate limited.', global: false });
  });
});
