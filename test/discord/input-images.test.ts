import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rm, rmdir, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DISK_FULL_SENTENCE, storeInputImage } from '../../src/discord/input-images.js';
import { InputFiles, INPUTS_FULL_SENTENCE } from '../../src/jobs/input-files.js';
import { silentLogger } from '../../src/logger.js';
import { recordFault } from '../faults/ledger.js';
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

/** The input folder at `dir`, capped at `maxBytes`, whose open jobs use `inUse`. */
function folderAt(dir: string, maxBytes = 100 * 1024 * 1024, inUse: string[] = []): InputFiles {
  return new InputFiles({
    dir,
    retentionMs: 24 * 60 * 60 * 1000,
    maxBytes,
    inUse: async () => new Set(inUse),
    logger: silentLogger(),
  });
}

/** Writes a file of `size` bytes last touched an hour ago (past the grace a new image gets). */
async function oldFile(path: string, size: number): Promise<void> {
  await writeFile(path, Buffer.alloc(size, 7));
  const anHourAgo = new Date(Date.now() - 60 * 60 * 1000);
  await utimes(path, anHourAgo, anHourAgo);
}

/**
 * A 64 KiB tmpfs mounted at a fresh directory, for a real ENOSPC from the kernel; undefined (and one line saying so)
 * where this process may not mount (not root, no `mount`, a container without the capability).
 */
function mountSmallDisk(): { dir: string; unmount: () => void } | undefined {
  const dir = join(tmpdir(), `comfycord-full-disk-${process.pid}-${Date.now()}`);
  try {
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    process.stderr.write('skipped: the full-disk input test (cannot mount a small tmpfs here; it needs root)\n');
    void rmdir(dir).catch(() => undefined);
    return undefined;
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', [dir]);
      execFileSync('rmdir', [dir]);
    },
  };
}

/** Fills the disk under `path` until the kernel says it is full. */
async function fillUp(path: string): Promise<void> {
  for (;;) {
    try {
      await appendFile(path, Buffer.alloc(4096, 1));
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOSPC') return;
      throw error;
    }
  }
}

describe('a member’s image', () => {
  it('of 92 bytes declaring 100,000 × 100,000 pixels is refused from its header, without being decoded or kept', async () => {
    const dir = join(directory.path, 'bomb');
    const refused = storeInputImage(attachment('bomb.png'), folderAt(dir), 20 * 1024 * 1024, 50_000_000);
    await expect(refused).rejects.toMatchObject({
      identifier: 'attachment-too-many-pixels',
      userMessage:
        'bomb.png is 100000×100000 pixels, more than the 50 megapixels the bot accepts; attach a smaller image.',
    });
    expect(existsSync(dir) ? await readdir(dir) : []).toEqual([]);
  });

  it('just over the configured pixel count (9,000 × 6,000 against 40 megapixels) is refused too', async () => {
    const refused = storeInputImage(
      attachment('wide.png'),
      folderAt(join(directory.path, 'wide')),
      20 * 1024 * 1024,
      40_000_000,
    );
    await expect(refused).rejects.toMatchObject({ identifier: 'attachment-too-many-pixels' });
  });

  it('within the limit is kept, with its size', async () => {
    const stored = await storeInputImage(
      attachment('small.png'),
      folderAt(join(directory.path, 'ok')),
      1024 * 1024,
      50_000_000,
    );
    expect(stored).toMatchObject({ width: 64, height: 48 });
    expect(existsSync(stored.path)).toBe(true);
  });

  it('is refused with one sentence when the folder is full of images open jobs still need, and nothing is written', async () => {
    const dir = join(directory.path, 'full');
    await mkdir(dir);
    const needed = join(dir, 'needed.png');
    await oldFile(needed, 990);
    const refused = storeInputImage(attachment('small.png'), folderAt(dir, 1000, [needed]), 1024 * 1024);
    await expect(refused).rejects.toMatchObject({ identifier: 'inputs-full', userMessage: INPUTS_FULL_SENTENCE });
    expect(await readdir(dir)).toEqual(['needed.png']);
    expect((await readFile(needed)).length).toBe(990);
  });

  it('makes room in a full folder by deleting an image no open job needs', async () => {
    const dir = join(directory.path, 'room');
    await mkdir(dir);
    await oldFile(join(dir, 'unused.png'), 990);
    const stored = await storeInputImage(attachment('small.png'), folderAt(dir, 1000), 1024 * 1024);
    expect(await readdir(dir)).toEqual([stored.path.slice(dir.length + 1)]);
  });
});

describe('a member’s image on a full disk', () => {
  const disk = mountSmallDisk();

  it.skipIf(disk === undefined)(
    'is refused with one sentence on a real ENOSPC, leaving no partial file, and kept once there is room',
    async () => {
      const dir = disk!.dir;
      try {
        const filler = join(dir, 'filler');
        await fillUp(filler);
        const before = await readFile(filler);
        const refused = storeInputImage(attachment('small.png'), folderAt(dir), 1024 * 1024);
        await expect(refused).rejects.toMatchObject({
          identifier: 'inputs-disk-full',
          userMessage: DISK_FULL_SENTENCE,
        });
        // Nothing half-written stays, and what was there is untouched.
        expect(await readdir(dir)).toEqual(['filler']);
        expect((await readFile(filler)).equals(before)).toBe(true);

        await rm(filler);
        const stored = await storeInputImage(attachment('small.png'), folderAt(dir), 1024 * 1024);
        expect((await readFile(stored.path)).equals(files['/small.png']!)).toBe(true);
        recordFault('a full disk for members’ input images', [{ deliveries: 0, sentences: 1 }]);
      } finally {
        disk!.unmount();
      }
    },
  );
});
