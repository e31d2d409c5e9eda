import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComfyClient } from '../../src/comfy/client.js';
import { ComfyProtocolError } from '../../src/comfy/errors.js';
import { ComfyHttp } from '../../src/comfy/http.js';
import { cliConfig, runCli } from '../cli/helpers.js';
import { recordedObjectInfo } from './fixtures/node-info.js';

/** What the stand-in server answers on a route: a status, a content type and a body. */
interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

const json = (body: unknown): Answer => ({ status: 200, type: 'application/json', body: JSON.stringify(body) });
// What aiohttp sends when a handler raises.
const AIOHTTP_500: Answer = {
  status: 500,
  type: 'text/plain; charset=utf-8',
  body: '500 Internal Server Error\n\nServer got itself in trouble',
};

// A tiny server on 127.0.0.1 that answers each route as a test sets it (the recorded body of a real ComfyUI 0.3.64
// by default), standing in for servers the emulator does not imitate.
const answers = new Map<string, Answer>();
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const answer = answers.get(new URL(request.url ?? '/', 'http://x').pathname) ?? json({});
    response.writeHead(answer.status, { 'content-type': answer.type }).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function serve(path: string, answer: Answer): void {
  answers.set(path, answer);
}

async function failureOf(call: (client: ComfyClient) => Promise<unknown>): Promise<ComfyProtocolError> {
  const client = new ComfyClient({ name: 'real', baseUrl: url });
  try {
    await call(client);
  } catch (error) {
    if (error instanceof ComfyProtocolError) return error;
    throw error;
  } finally {
    await client.close();
  }
  throw new Error('expected the call to fail');
}

describe('what the client makes of answers', () => {
  it('reads the whole /object_info a real 0.3.64 server sent', async () => {
    serve('/object_info', json(recordedObjectInfo()));
    const client = new ComfyClient({ name: 'real', baseUrl: url });
    try {
      const info = await client.objectInfo();
      expect(info.nodes.size).toBe(478);
    } finally {
      await client.close();
    }
  });

  it('says a body that is not an object of node types is unusable, naming the route', async () => {
    serve('/object_info', json(['KSampler']));
    const error = await failureOf((client) => client.objectInfo());
    expect(error.problem).toBe('GET /object_info answered, but its body is a list, not an object of node types');
    expect(error.userMessage).toBe('The image server gave an answer the bot could not understand.');
  });

  it('turns a 500 with a plain-text body into a sentence', async () => {
    serve('/object_info', AIOHTTP_500);
    const error = await failureOf((client) => client.objectInfo());
    expect(error.status).toBe(500);
    expect(error.problem).toBe(
      'GET /object_info answered HTTP 500: 500 Internal Server Error Server got itself in trouble',
    );
    expect(error.userMessage).toBe('The image server ran into an internal error; please try again.');
  });

  it('turns a 500 to POST /prompt whose text names server files into a sentence that does not', async () => {
    serve('/prompt', {
      status: 500,
      type: 'text/plain',
      body: "500 Internal Server Error\n\nTypeError at /home/comfy/ComfyUI/execution.py: 'int' object",
    });
    const agent = new Agent();
    const http = new ComfyHttp('real', url, agent, 5_000);
    const error = await http.postPrompt({ prompt: {}, client_id: 'c', prompt_id: 'p' }).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    await agent.close();
    expect(error).toBeInstanceOf(ComfyProtocolError);
    expect((error as ComfyProtocolError).problem).toMatch(
      /^POST \/prompt answered HTTP 500: 500 Internal Server Error/,
    );
    expect((error as ComfyProtocolError).userMessage).toBe(
      'The image server ran into an internal error; please try again.',
    );
  });

  it('names the field of a history entry it cannot use', async () => {
    serve('/history/abc', json({ abc: { prompt: [], outputs: 'none', status: null } }));
    const agent = new Agent();
    const http = new ComfyHttp('real', url, agent, 5_000);
    const error = await http.history('abc').then(
      () => undefined,
      (failure: unknown) => failure,
    );
    await agent.close();
    expect(error).toBeInstanceOf(ComfyProtocolError);
    expect((error as ComfyProtocolError).problem).toBe(
      'GET /history/{id} answered, but history.abc.outputs is a string, not an object',
    );
  });
});

describe('npm run generate against a real 0.3.64 /object_info', () => {
  it('checks the workflows against it instead of calling its answer unusable', async () => {
    serve('/object_info', json(recordedObjectInfo()));
    const config = cliConfig({ COMFY_URLS: `real=${url}` });
    const check = await runCli(['--check'], config);
    expect(check.stdout).toContain(`real (${url}): answered, 478 node types`);
    expect(check.stdout).toContain('real: txt2img: server real lacks checkpoint v1-5-pruned-emaonly.safetensors');
    const run = await runCli(['a red fox'], config);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(/unusable|No ComfyUI server answered/);
    expect(run.stderr).toContain('No server can run txt2img: server real lacks checkpoint');
  });

  it('says the server answered, and what was wrong, when its body truly is unusable', async () => {
    serve('/object_info', json('nothing here'));
    const config = cliConfig({ COMFY_URLS: `real=${url}` });
    const run = await runCli(['a red fox'], config);
    expect(run.stderr).not.toMatch(/No ComfyUI server answered|could not be reached/);
    expect(run.stderr).toContain(
      `server real at ${url}: GET /object_info answered, but its body is a string, not an object of node types`,
    );
    const check = await runCli(['--check'], config);
    expect(check.stdout).toContain('GET /object_info answered, but its body is a string');
    expect(check.stdout).toContain('not checked (its node list could not be used)');
  });
});
