/**
 * GET /view: files from output/, input/ or temp/ with ComfyUI's checks and status codes, raw (with ETag and
 * Last-Modified like aiohttp's FileResponse) or re-encoded (`preview=webp;90`, `channel=rgb|a`).
 */
import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import sharp from 'sharp';
import { commonPath, splitAnnotation } from '../media/save-path.js';
import { sendBytes, sendEmpty, type EmulatorRequest, type Router } from '../server/http-kit.js';
import type { RouteContext } from './context.js';
import type { ServerResponse } from 'node:http';

const CONTENT_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/x-wav',
  '.flac': 'audio/flac',
  '.json': 'application/json',
  '.txt': 'text/plain',
};

/** Registers /view. */
export function addViewRoute(router: Router, context: RouteContext): void {
  router.add('GET', '/view', async (req, res) => {
    const waitMs = context.viewDelayMs();
    if (waitMs > 0) await delay(waitMs);
    const file = locate(req, context);
    if (typeof file === 'number') {
      sendEmpty(res, file);
      return;
    }
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      sendEmpty(res, 404);
      return;
    }
    await answer(req, res, file, info);
  });
}

/** Resolves the request to a file path, or to the status ComfyUI answers with. */
function locate(req: EmulatorRequest, context: RouteContext): string | number {
  const query = req.url.searchParams;
  const requested = query.get('filename');
  if (requested === null) return 404;
  const { name, type: annotated } = splitAnnotation(requested);
  if (!name) return 400;
  if (name.startsWith('/') || name.includes('..')) return 400;
  const folders: Record<string, string> = {
    output: context.environment.outputDir,
    input: context.environment.inputDir,
    temp: context.environment.tempDir,
  };
  let folder = folders[annotated ?? query.get('type') ?? 'output'];
  if (folder === undefined) return 400;
  const subfolder = query.get('subfolder');
  if (subfolder !== null) {
    const full = path.join(folder, subfolder);
    if (commonPath(path.resolve(full), folder) !== folder) return 403;
    folder = full;
  }
  return path.join(folder, path.basename(name));
}

async function answer(
  req: EmulatorRequest,
  res: ServerResponse,
  file: string,
  info: { mtimeMs: number; size: number; mtime: Date },
): Promise<void> {
  const query = req.url.searchParams;
  const filename = path.basename(file);
  const disposition = { 'Content-Disposition': `filename="${filename}"` };
  const preview = query.get('preview');
  const channel = query.get('channel') ?? 'rgba';
  if (preview !== null) {
    const encoded = await reencode(file, preview, channel);
    sendBytes(res, 200, encoded.bytes, { ...disposition, 'Content-Type': `image/${encoded.format}` });
    return;
  }
  if (channel === 'rgb' || channel === 'a') {
    const bytes = await extractChannel(file, channel);
    sendBytes(res, 200, bytes, { ...disposition, 'Content-Type': 'image/png' });
    return;
  }
  const etag = `"${Math.round(info.mtimeMs * 1e6).toString(16)}-${info.size.toString(16)}"`;
  const headers = {
    ...disposition,
    'Content-Type': CONTENT_TYPES[path.extname(filename).toLowerCase()] ?? 'application/octet-stream',
    Etag: etag,
    'Last-Modified': info.mtime.toUTCString(),
    'Accept-Ranges': 'bytes',
  };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { Etag: etag, 'Last-Modified': headers['Last-Modified'] });
    res.end();
    return;
  }
  sendBytes(res, 200, await readFile(file), headers);
}

async function reencode(file: string, preview: string, channel: string): Promise<{ bytes: Buffer; format: string }> {
  const parts = preview.split(';');
  let format = parts[0] ?? '';
  if (!['webp', 'jpeg'].includes(format) || channel.includes('a')) format = 'webp';
  const last = parts[parts.length - 1] ?? '';
  const quality = /^\d+$/.test(last) ? Math.min(100, Math.max(1, Number(last))) : 90;
  let image = sharp(await readFile(file));
  if (format === 'jpeg' || channel === 'rgb') image = image.removeAlpha();
  const bytes = format === 'jpeg' ? await image.jpeg({ quality }).toBuffer() : await image.webp({ quality }).toBuffer();
  return { bytes, format };
}

async function extractChannel(file: string, channel: 'rgb' | 'a'): Promise<Buffer> {
  const image = sharp(await readFile(file));
  if (channel === 'rgb') return image.removeAlpha().png().toBuffer();
  const meta = await image.metadata();
  const { data, info } = await image.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const out = Buffer.alloc(info.width * info.height * 4);
  for (let pixel = 0; pixel < info.width * info.height; pixel += 1) {
    out[pixel * 4 + 3] = meta.hasAlpha ? (data[pixel * 4 + 3] ?? 255) : 255;
  }
  return sharp(out, { raw: { width: info.width, height: info.height, channels: 4 } })
    .png()
    .toBuffer();
}
