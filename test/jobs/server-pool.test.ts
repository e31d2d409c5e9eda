import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ComfyProtocolError, type ComfyServer, type ObjectInfo } from '../../src/comfy/index.js';
import { NO_OBJECT_INFO } from '../../src/comfy/object-info.js';
import { serversDownError } from '../../src/jobs/outage.js';
import { ServerPool } from '../../src/jobs/server-pool.js';
import { buildReady, shippedSource } from '../workflows/helpers.js';
import { readObjectInfo, recordedObjectInfo, withModelFiles } from '../comfy/fixtures/node-info.js';

/** A server that answers /system_stats, and /object_info with whatever the test sets. */
function fakeServer(objectInfo: () => Promise<ObjectInfo>, systemStats = async () => ({})): ComfyServer {
  const server = {
    systemStats,
    objectInfo,
    close: async () => undefined,
  };
  return server as unknown as ComfyServer;
}

const txt2img = buildReady(shippedSource('txt2img'));
const workflows = { get: () => txt2img, list: () => [txt2img] };
let pool: ServerPool | undefined;

afterEach(async () => {
  await pool?.stop();
});

function startPool(
  objectInfo: () => Promise<ObjectInfo>,
  lines: string[],
  systemStats?: () => Promise<unknown>,
): { ups: string[]; downs: string[]; cleared: string[] } {
  const events = { ups: [] as string[], downs: [] as string[], cleared: [] as string[] };
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString());
        callback();
      },
    }),
  );
  pool = new ServerPool({
    servers: [{ name: 'real', url: 'http://127.0.0.1:1' }] as never,
    connect: () => fakeServer(objectInfo, systemStats as never),
    workflows,
    promptsPerServer: 1,
    logger,
    healthIntervalMs: 20,
    onUp: (name) => events.ups.push(name),
    onDown: (name) => events.downs.push(name),
    onCleared: (name) => events.cleared.push(name),
  });
  pool.start('client');
  return events;
}

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited > 5_000) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('a server a request could not reach', () => {
  const info = readObjectInfo(
    withModelFiles(recordedObjectInfo(), { checkpoints: ['v1-5-pruned-emaonly.safetensors'] }),
  );

  it('takes no job until a check answers, then is offered again', async () => {
    let held: Promise<void> | undefined;
    let answer = (): void => undefined;
    const events = startPool(
      async () => info,
      [],
      async () => held,
    );
    await until(() => events.ups.length > 0);
    expect(pool!.choose(() => true)).toBe('real');
    held = new Promise((resolve) => (answer = resolve));
    pool!.suspect('real');
    // Still up (one refused connection is not an outage), but a job handed back by it must not go straight back.
    expect(pool!.status()[0]?.health).toBe('up');
    expect(pool!.choose(() => true)).toBeUndefined();
    expect(pool!.hasFreeSlot()).toBe(false);
    held = undefined;
    answer();
    await until(() => events.cleared.length > 0);
    expect(events.cleared).toEqual(['real']);
    expect(pool!.choose(() => true)).toBe('real');
    expect(events.downs).toEqual([]);
  });

  it('stays out of the choice until its failed checks count it as down', async () => {
    let refuse = false;
    const events = startPool(
      async () => info,
      [],
      async () => {
        if (refuse) throw new Error('connect ECONNREFUSED');
      },
    );
    await until(() => events.ups.length > 0);
    refuse = true;
    pool!.suspect('real');
    expect(pool!.choose(() => true)).toBeUndefined();
    await until(() => events.downs.length > 0);
    expect(pool!.choose(() => true)).toBeUndefined();
    expect(events.cleared).toEqual([]);
  });
});

describe('the server pool and /object_info', () => {
  it('takes a server up with the workflows its real 0.3.64 node list allows', async () => {
    const info = readObjectInfo(
      withModelFiles(recordedObjectInfo(), { checkpoints: ['v1-5-pruned-emaonly.safetensors'] }),
    );
    const events = startPool(async () => info, []);
    await until(() => events.ups.length > 0);
    expect([...(pool!.capabilities('real')?.workflows ?? [])]).toEqual(['txt2img']);
    expect(pool!.capabilities('real')?.ranges.get('txt2img')?.seed).toEqual({ min: 0, max: 2 ** 64 });
  });

  it('keeps a server whose node list is unusable up (it answered), running nothing, until a later answer is usable', async () => {
    const lines: string[] = [];
    let answer: 'bad' | 'good' = 'bad';
    const info = readObjectInfo(
      withModelFiles(recordedObjectInfo(), { checkpoints: ['v1-5-pruned-emaonly.safetensors'] }),
    );
    const events = startPool(async () => {
      if (answer === 'good') return info;
      throw new ComfyProtocolError('real', 'GET /object_info', 'its body is a list, not an object of node types');
    }, lines);
    await until(() => events.ups.length > 0);
    expect(events.downs).toEqual([]);
    expect(pool!.capabilities('real')?.workflows.size).toBe(0);
    const warning = lines
      .map((line) => JSON.parse(line) as { msg: string })
      .find((line) => line.msg.includes('answered'));
    expect(warning?.msg).toBe('GET /object_info answered, but its body is a list, not an object of node types');
    answer = 'good';
    await until(() => (pool!.capabilities('real')?.workflows.size ?? 0) > 0);
    expect(events.downs).toEqual([]);
  });

  it('counts a server whose health check gets a 500 as down but answering, and logs what it answered', async () => {
    const lines: string[] = [];
    const problem = new ComfyProtocolError(
      'real',
      'GET /system_stats',
      'HTTP 500: 500 Internal Server Error Server got itself in trouble',
      500,
    );
    const events = startPool(
      async () => NO_OBJECT_INFO,
      lines,
      async () => {
        throw problem;
      },
    );
    await until(() => events.downs.length > 0);
    expect(pool!.status()[0]).toMatchObject({ health: 'down', answering: true });
    const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toContain(
      'comfy server is not usable: GET /system_stats answered HTTP 500: 500 Internal Server Error Server got itself in trouble',
    );
    expect(serversDownError('all down', true).userMessage).toBe(
      'The image servers are answering with errors right now; please try again in a few minutes.',
    );
  });
});
