/**
 * A TCP proxy in front of a real redis-server that can lose a connection at the one moment that matters: after Redis
 * executed a change of the fleet's queue (an EXEC on a connection that WATCHes it, or a script on its key), before its
 * answer reaches the client. The client sees its connection lost with the outcome unknown; Redis has committed the
 * change. New connections can be held back meanwhile, so another process changes the queue before the client is back.
 */
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/** The proxy: its URL, how many connections it cut, and the switch for the next cut. */
export interface RedisCut {
  readonly url: string;
  readonly cuts: number;
  /** The next transaction of a queue change is executed by Redis, and its connection lost before the answer. */
  cutAfterNextQueueChange(): void;
  /** New connections wait (their bytes kept) until `letConnectionsIn()`. */
  holdConnections(): void;
  letConnectionsIn(): void;
  close(): Promise<void>;
}

const WATCHES_QUEUE = /\r\nWATCH\r\n\$\d+\r\ncomfycord:fleet:queue\r\n/i;
const EXEC = /\r\nEXEC\r\n/i;
const SCRIPT_ON_QUEUE = /\r\nEVAL(SHA)?\r\n[\s\S]*\r\ncomfycord:fleet:queue\r\n/i;
/** The change's answer: EXEC's array (a null one when the watched key changed), or a script's number. */
const CHANGE_ANSWER = /(^|\r\n)(\*-?\d+|:-?\d+)\r\n/;

export async function startRedisCut(redisPort: number): Promise<RedisCut> {
  let armed = false;
  let cuts = 0;
  let held: Array<() => void> | undefined;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (held === undefined) return pipe(client);
    client.pause();
    held.push(() => pipe(client));
  });
  const pipe = (client: Socket) => {
    client.resume();
    const upstream = connect(redisPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let watchesQueue = false;
    let cutOnAnswer = false;
    let answer = '';
    const cut = () => {
      cuts += 1;
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (WATCHES_QUEUE.test(text)) watchesQueue = true;
      if (armed && ((watchesQueue && EXEC.test(text)) || SCRIPT_ON_QUEUE.test(text))) {
        armed = false;
        cutOnAnswer = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cutOnAnswer) return void client.write(chunk);
      // Held back until the EXEC's own answer is in: by then Redis has executed the transaction.
      answer += chunk.toString('latin1');
      if (CHANGE_ANSWER.test(answer)) cut();
    });
    for (const socket of [client, upstream]) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    url: `redis://127.0.0.1:${address.port}`,
    get cuts() {
      return cuts;
    },
    cutAfterNextQueueChange: () => {
      armed = true;
    },
    holdConnections: () => {
      held ??= [];
    },
    letConnectionsIn: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const letIn of waiting) letIn();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
