import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DiscordAPIError, REST } from 'discord.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDiscordTransport, type DiscordTransport } from '../../src/discord/rest-transport.js';

/** What the server saw of one request. */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

let server: Server;
let transport: DiscordTransport;
let rest: REST;
const seen: Seen[] = [];
let connections = 0;
/** Answers to give, in order; the default is 200 with `{"ok":true}`. */
let answers: { status: number; headers?: Record<string, string>; body?: unknown }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      const answer = answers.shift() ?? { status: 200, body: { ok: true } };
      const json = answer.body === undefined ? {} : { 'content-type': 'application/json' };
      res.writeHead(answer.status, { ...json, ...answer.headers });
      res.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  transport = createDiscordTransport();
  const { port } = server.address() as AddressInfo;
  rest = new REST({ api: `http://127.0.0.1:${port}/api`, makeRequest: transport.makeRequest }).setToken('t0k3n');
});

afterAll(async () => {
  rest.clearHashSweeper();
  rest.clearHandlerSweeper();
  await transport.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
  answers = [];
});

describe('the Discord REST transport', () => {
  it('sends JSON with discord.js’s headers and hands back the parsed answer', async () => {
    answers = [{ status: 200, body: { id: '42', content: 'hi' } }];
    const answer = await rest.post('/channels/1/messages', { body: { content: 'hi' } });
    expect(answer).toEqual({ id: '42', content: 'hi' });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/api/v10/channels/1/messages' });
    expect(seen[0]!.headers).toMatchObject({ authorization: 'Bot t0k3n', 'content-type': 'application/json' });
    expect(JSON.parse(seen[0]!.body.toString())).toEqual({ content: 'hi' });
  });

  it('uploads files as multipart with the boundary its content type names', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 255]);
    await rest.post('/channels/1/messages', { body: { content: 'a file' }, files: [{ name: 'x.png', data: png }] });
    const type = seen[0]!.headers['content-type'] ?? '';
    const boundary = /boundary=(.+)$/.exec(type)?.[1];
    expect(type).toMatch(/^multipart\/form-data/);
    expect(boundary).toBeDefined();
    const parsed = await new Response(seen[0]!.body, { headers: { 'content-type': type } }).formData();
    const file = parsed.get('files[0]') as File;
    expect(file.name).toBe('x.png');
    expect(Buffer.from(await file.arrayBuffer())).toEqual(png);
    expect(JSON.parse(parsed.get('payload_json') as string)).toEqual({ content: 'a file' });
    expect(Number(seen[0]!.headers['content-length'])).toBe(seen[0]!.body.length);
  });

  it('turns Discord’s error JSON into a DiscordAPIError with its code', async () => {
    answers = [{ status: 404, body: { message: 'Unknown Message', code: 10008 } }];
    const failure = await rest.get('/channels/1/messages/2').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DiscordAPIError);
    expect(failure).toMatchObject({ code: 10008, status: 404 });
  });

  it('lets discord.js read the rate-limit headers and retry after a 429', async () => {
    answers = [
      {
        status: 429,
        headers: { 'retry-after': '0.05', 'x-ratelimit-scope': 'user', 'x-ratelimit-global': 'false' },
        body: { message: 'You are being rate limited.', retry_after: 0.05, global: false },
      },
      { status: 200, body: { ok: 'second time' } },
    ];
    await expect(rest.get('/channels/9')).resolves.toEqual({ ok: 'second time' });
    expect(seen).toHaveLength(2);
  });

  it('answers 204 with no body, and keeps connections open for the requests that follow', async () => {
    answers = [{ status: 204 }, { status: 204 }, { status: 204 }];
    await rest.delete('/channels/1/messages/5');
    const before = connections;
    await rest.delete('/channels/1/messages/6');
    await rest.delete('/channels/1/messages/7');
    expect(seen).toHaveLength(3);
    expect(connections).toBe(before);
  });
});
