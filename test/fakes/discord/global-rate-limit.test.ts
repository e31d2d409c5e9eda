import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeDiscord } from './fake-discord.js';
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

describe("the fake's global rate limit: 50 requests per second per bot token", () => {
  const h = useFakeDiscord({ login: false });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((agent) => agent.close()));
  });

  it('counts the requests of every connection together and refuses those past 50 within the second', async () => {
    const [first, second] = [newProcess(), newProcess()];
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, index) => call(h.fake, index % 2 === 0 ? first : second, 'GET', '/users/@me')),
    );
    // The window opens with the first request; on a loaded machine the burst may outlast it.
    const start = Math.min(...h.fake.calls.map((recorded) => recorded.receivedAt));
    const inFirstSecond = h.fake.calls.filter((recorded) => recorded.receivedAt < start + 1000);
    expect(inFirstSecond.filter((recorded) => recorded.status === 200)).toHaveLength(50);
    expect(inFirstSecond.filter((recorded) => recorded.status === 429)).toHaveLength(inFirstSecond.length - 50);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(h.fake.globalRateLimited).toBe(refused.length);
    for (const answer of refused) {
      expect(answer.body).toEqual({
        message: 'You are being rate limited.',
        retry_after: expect.any(Number) as number,
        global: true,
      });
      expect(answer.body.retry_after).toBeGreaterThan(0);
      expect(answer.body.retry_after).toBeLessThanOrEqual(1);
      expect(answer.headers).toMatchObject({
        'retry-after': '1',
        'x-ratelimit-global': 'true',
        'x-ratelimit-scope': 'global',
      });
    }
  });

  it('takes requests again once the second is over', async () => {
    const agent = newProcess();
    await Promise.all(Array.from({ length: 51 }, () => call(h.fake, agent, 'GET', '/users/@me')));
    const refused = h.fake.calls.find((recorded) => recorded.status === 429);
    const wait = (refused?.response as { retry_after: number }).retry_after;
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
