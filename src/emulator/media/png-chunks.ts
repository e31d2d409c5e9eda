/**
 * Just enough PNG chunk surgery for what sharp cannot write: ComfyUI's tEXt metadata (`prompt`, `workflow`) and
 * animated PNGs (acTL / fcTL / fdAT) assembled from single-frame PNGs.
 */

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CRC_TABLE = buildCrcTable();

/** One parsed chunk. */
export interface PngChunk {
  readonly type: string;
  readonly data: Buffer;
}

/** Splits a PNG into chunks (throws on anything that is not a PNG). */
export function readChunks(png: Buffer): PngChunk[] {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG');
  const chunks: PngChunk[] = [];
  let offset = 8;
  while (offset + 8 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    chunks.push({ type, data: png.subarray(offset + 8, offset + 8 + length) });
    offset += 12 + length;
  }
  return chunks;
}

/** Joins chunks back into a PNG file. */
export function writeChunks(chunks: readonly PngChunk[]): Buffer {
  return Buffer.concat([SIGNATURE, ...chunks.map((chunk) => encodeChunk(chunk.type, chunk.data))]);
}

/** Adds tEXt chunks right after IHDR, as Pillow's PngInfo does. */
export function withTextChunks(png: Buffer, entries: ReadonlyArray<readonly [string, string]>): Buffer {
  if (entries.length === 0) return png;
  const chunks = readChunks(png);
  const text = entries.map(([key, value]) => ({
    type: 'tEXt',
    data: Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(value, 'latin1')]),
  }));
  return writeChunks([chunks[0] as PngChunk, ...text, ...chunks.slice(1)]);
}

/** Assembles an animated PNG from same-sized single-frame PNGs shown `delayMs` each, looping forever. */
export function assembleApng(frames: readonly Buffer[], delayMs: number): Buffer {
  const parsed = frames.map(readChunks);
  const first = parsed[0];
  if (!first) throw new Error('an animated PNG needs at least one frame');
  const ihdr = first.find((chunk) => chunk.type === 'IHDR');
  if (!ihdr) throw new Error('PNG without IHDR');
  const actl = Buffer.alloc(8);
  actl.writeUInt32BE(frames.length, 0);
  const out: PngChunk[] = [ihdr, { type: 'acTL', data: actl }];
  let sequence = 0;
  for (const [index, chunks] of parsed.entries()) {
    out.push({ type: 'fcTL', data: frameControl(sequence++, ihdr.data, delayMs) });
    for (const idat of chunks.filter((chunk) => chunk.type === 'IDAT')) {
      if (index === 0) {
        out.push(idat);
        continue;
      }
      const seq = Buffer.alloc(4);
      seq.writeUInt32BE(sequence++, 0);
      out.push({ type: 'fdAT', data: Buffer.concat([seq, idat.data]) });
    }
  }
  out.push({ type: 'IEND', data: Buffer.alloc(0) });
  return writeChunks(out);
}

function frameControl(sequence: number, ihdr: Buffer, delayMs: number): Buffer {
  const data = Buffer.alloc(26);
  data.writeUInt32BE(sequence, 0);
  data.writeUInt32BE(ihdr.readUInt32BE(0), 4);
  data.writeUInt32BE(ihdr.readUInt32BE(4), 8);
  data.writeUInt16BE(Math.max(0, Math.min(65535, Math.round(delayMs))), 20);
  data.writeUInt16BE(1000, 22);
  return data;
}

function encodeChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** CRC-32 as PNG defines it (Node 20 has no `zlib.crc32`). */
export function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}
