import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { assembleApng, crc32, readChunks, withTextChunks } from '../../../src/emulator/media/png-chunks.js';

const solid = (colour: string) =>
  sharp({ create: { width: 4, height: 3, channels: 3, background: colour } })
    .png()
    .toBuffer();

describe('PNG chunk surgery', () => {
  it('computes the PNG CRC-32', () => {
    expect(crc32(Buffer.from('IEND')).toString(16)).toBe('ae426082');
  });

  it('inserts tEXt chunks after IHDR and keeps the image readable', async () => {
    const png = withTextChunks(await solid('#ff0000'), [['prompt', '{"1": {}}']]);
    expect(
      readChunks(png)
        .map((chunk) => chunk.type)
        .slice(0, 2),
    ).toEqual(['IHDR', 'tEXt']);
    expect(readChunks(png)[1]?.data.toString('latin1')).toBe('prompt\u0000{"1": {}}');
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: 4, height: 3 });
  });

  it('assembles an animated PNG whose default image is the first frame', async () => {
    const apng = assembleApng([await solid('#ff0000'), await solid('#0000ff')], 100);
    const types = readChunks(apng).map((chunk) => chunk.type);
    expect(types).toEqual(['IHDR', 'acTL', 'fcTL', 'IDAT', 'fcTL', 'fdAT', 'IEND']);
    const { data } = await sharp(apng).raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 3)]).toEqual([255, 0, 0]);
  });
});
