import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeDiscord } from './fake-discord.js';
import { GlobalRateLimiter } from './global-rate-limit.js';
import { useFakeDiscord } from './test-harness.js';

/** Two HTTP clients with their own connections, as two bot processes would have. */
const agents: Agent[] = [];
function newProcess(): Agent {
  const agent = new Agent();
  agents.push(agent);
  return agent;
}

async function call(fake: FakeDiscord, agent: Agent, method: 'GET' | 'PATCH', path: string, auth = true) {
  const response = await request(`${fake.apiUrl}/v10${path}`, {
    dispatcher: agent,
    method,
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bot ${fake.token}` } : {}) },
    body: method === 'PATCH' ? '{"content":"x"}' : undefined,
  });
  const body = (await response.body.json()) as Record<string, unknown>;
  return { status: response.statusCode, headers: response.headers, body };
}

describe('the global limiter', () => {
  const limiter = () => new GlobalRateLimiter({ requestsPerSecond: 50 });

  it("refuses the 51st request of a second with Discord's answer: global, retry_after to the ms, Retry-After rounded up", () => {
    const global = limiter();
    for (let index = 0; index < 50; index += 1) expect(global.take('token', '/users/@me', 1000 + index)).toBeNull();
    expect(global.take('token', '/channels/1/messages', 1400)).toEqual({
      status: 429,
      headers: { 'retry-after': '1', 'x-ratelimit-global': 'true', 'x-ratelimit-scope': 'global' },
      body: { message: 'You are being rate limited.', retry_after: 0.6, global: true },
    });
    expect(global.take('another-bot', '/users/@me', 1400)).toBeNull();
    expect(global.take('token', '/users/@me', 2000)).toBeNull();
    expect(global.refused).toBe(1);
  });

  it('never counts interaction callbacks and interaction webhooks', () => {
    const global = limiter();
    for (let index = 0; index < 50; index += 1) global.take('token', '/users/@me', 1000);
    expect(global.take('token', '/interactions/1/tok3n/callback', 1001)).toBeNull();
    expect(global.take('token', '/webhooks/2/tok3n/messages/@original', 1001)).toBeNull();
    expect(global.take('token', '/webhooks/2/tok3n', 1001)).toBeNull();
    expect(global.take('token', '/users/@me', 1001)).not.toBeNull();
  });
});

describe("the fake's global rate limit: 50 requests per second per bot token", () => {
  const h = useFakeDiscord({ login: false });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.close()));
  });

  it('counts the requests of every connection together: no window lets more than 50 through', async () => {
    const [first, second] = [newProcess(), newProcess()];
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, index) => call(h.fake, index % 2 === 0 ? first : second, 'GET', '/users/@me')),
    );
    // Replays the windows from the arrival times (a loaded machine may spread the burst over more than one).
    let window = { endsAt: -1, accepted: 0 };
    for (const recorded of [...h.fake.calls].sort((a, b) => a.seq - b.seq)) {
      if (recorded.receivedAt >= window.endsAt) window = { endsAt: recorded.receivedAt + 1000, accepted: 0 };
      expect(recorded.status).toBe(window.accepted < 50 ? 200 : 429);
      if (recorded.status === 200) window.accepted += 1;
    }
    expect(h.fake.globalRateLimited).toBe(answers.filter((answer) => answer.status === 429).length);
  });

  it('takes requests again once the second is over', async () => {
    const agent = newProcess();
    await Promise.all(Array.from({ length: 51 }, () => call(h.fake, agent, 'GET', '/users/@me')));
    // The refusal's retry_after, or a whole second when the machine was too slow to send 51 within one.
    const refused = h.fake.calls.find((recorded) => recorded.status === 429);
    const wait = refused ? (refused.response as { retry_after: number }).retry_after : 1;
    await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 20));
    expect((await call(h.fake, agent, 'GET', '/users/@me')).status).toBe(200);
  });

  it('leaves interaction webhooks out of the count, as Discord does', async () => {
    const agent = newProcess();
    const webhook = `/webhooks/${h.fake.applicationId}/not-a-live-token/messages/@original`;
    const answers = await Promise.all(Array.from({ length: 60 }, () => call(h.fake, agent, 'PATCH', webhook)));
    expect(answers.some((answer) => answer.status === 429)).toBe(false);
    const botCalls = await Promise.all(Array.from({ length: 50 }, () => call(h.fake, agent, 'GET', '/users/@me')));
    expect(botCalls.every((answer) => answer.status === 200)).toBe(true);
  });

  it('counts a request without the bot token against nobody', async () => {
    const agent = newProcess();
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => call(h.fake, agent, 'GET', '/users/@me', false)),
    );
    expect(answers.every((answer) => answer.status === 401)).toBe(true);
    expect(h.fake.globalRateLimited).toBe(0);
  });
});
