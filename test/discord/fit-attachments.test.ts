import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fitAttachments, MAX_OUTPUT_DECODE_PIXELS } from '../../src/discord/fit-attachments.js';
import { pngDeclaring } from './png-bomb.js';

/** A noisy PNG: noise does not compress, so the file is about width × height × 3 bytes. */
async function noisyPng(width: number, height: number): Promise<Buffer> {
  return sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

describe('fitAttachments', () => {
  it('leaves files alone when they fit', async () => {
    const png = await noisyPng(64, 64);
    const result = await fitAttachments([{ name: 'a.png', data: png, contentType: 'image/png' }], 10 * 1024 * 1024);
    expect(result.notes).toEqual([]);
    expect(result.files[0]!.data).toBe(png);
  });

  it('re-encodes an oversize PNG under the limit and says so', async () => {
    const png = await noisyPng(1024, 1024);
    const limit = 1024 * 1024;
    expect(png.length).toBeGreaterThan(limit);
    const result = await fitAttachments([{ name: 'fox.png', data: png, contentType: 'image/png' }], limit);
    const file = result.files[0]!;
    expect(file.data.length).toBeLessThanOrEqual(limit);
    expect(file.name).toMatch(/^fox\.(webp|jpg)$/);
    expect(result.notes[0]).toMatch(/^Re-encoded .* to fit Discord's 1 MiB upload limit\.$/);
    const metadata = await sharp(file.data).metadata();
    expect(['webp', 'jpeg']).toContain(metadata.format);
  });

  it('shares the limit between several images', async () => {
    const images = await Promise.all(
      [0, 1, 2, 3].map(async (index) => ({
        name: `${index}.png`,
        data: await noisyPng(512, 512),
        contentType: 'image/png',
      })),
    );
    const limit = 1024 * 1024;
    const result = await fitAttachments(images, limit);
    expect(result.files).toHaveLength(4);
    expect(result.files.reduce((sum, file) => sum + file.data.length, 0)).toBeLessThanOrEqual(limit);
  });

  it('leaves out a video that does not fit, and names it', async () => {
    const video = { name: 'clip.mp4', data: randomBytes(300_000), contentType: 'video/mp4' };
    const result = await fitAttachments([video], 200_000);
    expect(result.files).toEqual([]);
    expect(result.notes).toEqual(["clip.mp4 is larger than Discord's 0.2 MiB upload limit and was left out."]);
  });

  it('leaves out a decompression bomb over the upload limit with a sentence, without decoding it', async () => {
    const bomb = pngDeclaring(100_000, 100_000);
    const result = await fitAttachments([{ name: 'bomb.png', data: bomb, contentType: 'image/png' }], 1);
    expect(result.files).toEqual([]);
    expect(result.notes).toEqual([
      `bomb.png is 100000×100000 pixels, too large for Discord's 0 MiB upload limit and for the bot to shrink ` +
        `(at most ${MAX_OUTPUT_DECODE_PIXELS / 1_000_000} megapixels); it was left out.`,
    ]);
  });

  it('says what it left out in the member’s language', async () => {
    const bomb = pngDeclaring(100_000, 100_000);
    const result = await fitAttachments([{ name: 'bomb.png', data: bomb, contentType: 'image/png' }], 1, {
      locale: 'de',
    });
    expect(result.notes).toEqual([
      'bomb.png hat 100000×100000 Pixel, zu groß für Discords Upload-Grenze von 0 MiB und zum Verkleinern durch den ' +
        `Bot (höchstens ${MAX_OUTPUT_DECODE_PIXELS / 1_000_000} Megapixel); es wurde weggelassen.`,
    ]);
  });

  it('decodes outputs only up to the pixel limit it is given', async () => {
    const png = await noisyPng(1100, 1100);
    const limit = 1024 * 1024;
    const result = await fitAttachments([{ name: 'fox.png', data: png, contentType: 'image/png' }], limit, {
      maxPixels: 1_000_000,
    });
    expect(result.files).toEqual([]);
    expect(result.notes[0]).toBe(
      "fox.png is 1100×1100 pixels, too large for Discord's 1 MiB upload limit and for the bot to shrink " +
        '(at most 1 megapixels); it was left out.',
    );
  });

  it('leaves out an image it cannot decode instead of failing the delivery', async () => {
    const png = await noisyPng(1024, 1024);
    const broken = Buffer.concat([png.subarray(0, 4096), Buffer.alloc(2 * 1024 * 1024)]);
    const result = await fitAttachments([{ name: 'torn.png', data: broken, contentType: 'image/png' }], 1024 * 1024);
    expect(result.files).toEqual([]);
    expect(result.notes).toEqual(["torn.png is larger than Discord's 1 MiB upload limit and was left out."]);
  });
});
