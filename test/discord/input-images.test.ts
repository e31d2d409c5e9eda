import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeInputImage } from '../../src/discord/input-images.js';
import { makeTempDir } from '../store/helpers.js';
import { pngDeclaring } from './png-bomb.js';

const files: Record<string, Buffer> = {
  '/bomb.png': pngDeclaring(100_000, 100_000),
  '/wide.png': pngDeclaring(9_000, 6_000),
  '/small.png': pngDeclaring(64, 48),
};
let server: Server;
let baseUrl: string;
let directory: Awaited<ReturnType<typeof makeTempDir>>;

beforeAll(async () => {
  directory = await makeTempDir();
  server = createServer((request, response) => {
    const body = files[request.url ?? ''];
    response.writeHead(body ? 200 : 404, { 'content-type': 'image/png' });
    response.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  await directory.remove();
});

function attachment(name: string) {
  return { url: `${baseUrl}/${name}`, name, size: files[`/${name}`]!.length, contentType: 'image/png' };
}

describe('a member’s image', () => {
  it('of 92 bytes declaring 100,000 × 100,000 pixels is refused from its header, without being decoded or kept', async () => {
    const dir = join(directory.path, 'bomb');
    const refused = storeInputImage(attachment('bomb.png'), dir, 20 * 1024 * 1024, 50_000_000);
    await expect(refused).rejects.toMatchObject({
      identifier: 'attachment-too-many-pixels',
      userMessage:
        'bomb.png is 100000×100000 pixels, more than the 50 megapixels the bot accepts; attach a smaller image.',
    });
    expect(existsSync(dir) ? await readdir(dir) : []).toEqual([]);
  });

  it('just over the configured pixel count (9,000 × 6,000 against 40 megapixels) is refused too', async () => {
    const refused = storeInputImage(attachment('wide.png'), join(directory.path, 'wide'), 20 * 1024 * 1024, 40_000_000);
    await expect(refused).rejects.toMatchObject({ identifier: 'attachment-too-many-pixels' });
  });

  it('within the limit is kept, with its size', async () => {
    const stored = await storeInputImage(attachment('small.png'), join(directory.path, 'ok'), 1024 * 1024, 50_000_000);
    expect(stored).toMatchObject({ width: 64, height: 48 });
    expect(existsSync(stored.path)).toBe(true);
  });
});
