/**
 * POST /upload/image: multipart parsing with the web Request API, ComfyUI's folder checks, de-duplication by
 * content hash and `name (1).png` renaming on conflict.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { commonPath } from '../media/save-path.js';
import { sendEmpty, sendJson, type EmulatorRequest, type Router } from '../server/http-kit.js';
import type { RouteContext } from './context.js';

/** Registers /upload/image. */
export function addUploadRoute(router: Router, context: RouteContext): void {
  router.add('POST', '/upload/image', async (req, res) => {
    const form = await readForm(req);
    const image = form?.get('image');
    if (!form || !(image instanceof Blob) || !('name' in image) || !image.name) {
      sendEmpty(res, 400);
      return;
    }
    const type = String(form.get('type') ?? 'input');
    const folders: Record<string, string> = {
      input: context.environment.inputDir,
      temp: context.environment.tempDir,
      output: context.environment.outputDir,
    };
    const uploadDir = folders[type];
    // ComfyUI fails with an UnboundLocalError (500) on an unknown type.
    if (uploadDir === undefined) throw new Error(`unknown upload type ${type}`);
    const subfolder = String(form.get('subfolder') ?? '');
    const bytes = Buffer.from(await image.arrayBuffer());
    const overwrite = String(form.get('overwrite') ?? '');
    const saved = await store(
      uploadDir,
      subfolder,
      String(image.name),
      bytes,
      overwrite === 'true' || overwrite === '1',
    );
    if (saved === undefined) {
      sendEmpty(res, 400);
      return;
    }
    sendJson(res, 200, { name: saved, subfolder, type });
  });
}

async function readForm(req: EmulatorRequest): Promise<FormData | undefined> {
  const contentType = req.headers['content-type'];
  if (contentType === undefined) return undefined;
  const request = new Request('http://emulator.invalid/upload', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: await req.body(),
  });
  return request.formData().catch(() => undefined);
}

/** Writes the upload and returns the name it got, or undefined when the path escapes the folder. */
async function store(
  uploadDir: string,
  subfolder: string,
  filename: string,
  bytes: Buffer,
  overwrite: boolean,
): Promise<string | undefined> {
  const folder = path.join(uploadDir, path.normalize(subfolder));
  let target = path.resolve(folder, filename);
  if (commonPath(uploadDir, target) !== uploadDir) return undefined;
  await mkdir(folder, { recursive: true });
  const { name: stem, ext } = path.parse(filename);
  let name = filename;
  if (!overwrite) {
    for (let index = 1; existsSync(target); index += 1) {
      if (await sameContent(target, bytes)) return name;
      name = `${stem} (${index})${ext}`;
      target = path.join(folder, name);
    }
  }
  await writeFile(target, bytes);
  return name;
}

async function sameContent(file: string, bytes: Buffer): Promise<boolean> {
  const digest = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
  return digest(await readFile(file)) === digest(bytes);
}
