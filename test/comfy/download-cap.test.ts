/**
 * The output size cap: a file over the limit is refused from its Content-Length before a byte is read, and one whose
 * server sends no length (or a false one) is cut off once the count passes the limit, never held whole in memory.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComfyClient } from '../../src/comfy/client.js';
import { ComfyOutputTooLargeError } from '../../src/comfy/errors.js';
import { recordFault } from '../faults/ledger.js';

const MIB = 1024 * 1024;
let server: Server;
let baseUrl: string;
/** How many bytes the last chunked answer got to write before the client hung up. */
let chunkedBytesWritten = 0;

beforeAll(async () => {
  server = createServer((request, response) => {
    const name = new URL(request.url ?? '/', 'http://x').searchParams.get('filename');
    if (name === 'declared.png') {
      response.writeHead(200, { 'content-type': 'image/png', 'content-length': String(3 * MIB) });
      response.end(Buffer.alloc(3 * MIB));
      return;
    }
    if (name === 'small.png') {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(Buffer.alloc(1000, 7));
      return;
    }
    // No Content-Length: chunks until the client gives up, at most 64 MiB.
    response.writeHead(200, { 'content-type': 'video/mp4' });
    chunkedBytesWritten = 0;
    const chunk = Buffer.alloc(64 * 1024);
    const write = () => {
      while (chunkedBytesWritten < 64 * MIB && !response.destroyed) {
        chunkedBytesWritten += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', write);
      }
      response.end();
    };
    write();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  server.close();
});

function client(maxDownloadBytes: number): ComfyClient {
  return new ComfyClient({ name: 'capped', baseUrl, maxDownloadBytes });
}

describe('downloading an output', () => {
  it('reads a file under the limit whole', async () => {
    const download = await client(2 * MIB).download({ filename: 'small.png', subfolder: '', type: 'output' });
    expect(download.bytes).toEqual(Buffer.alloc(1000, 7));
  });

  it('refuses a file whose Content-Length is over the limit, with a sentence naming the limit', async () => {
    const refused = client(2 * MIB).download({ filename: 'declared.png', subfolder: '', type: 'output' });
    await expect(refused).rejects.toBeInstanceOf(ComfyOutputTooLargeError);
    await expect(refused).rejects.toMatchObject({
      identifier: 'output-too-large',
      userMessage: 'The result was larger than the bot accepts (2 MB).',
    });
    recordFault("an output larger than the bot's download cap", []);
  });

  it('stops reading a file sent without a length once it passes the limit', async () => {
    const refused = client(2 * MIB).download({ filename: 'endless.mp4', subfolder: '', type: 'output' });
    await expect(refused).rejects.toThrow(/over the limit of 2097152 bytes/);
    // The connection was dropped long before the server's 64 MiB were through.
    expect(chunkedBytesWritten).toBeLessThan(16 * MIB);
  });
});
