/**
 * The page's static files, built by Vite (`npm run build`) into `dist/page` and served as they are: no CDN, no
 * server-side rendering. Hashed asset names are cached for good; `index.html` never.
 */
import { createReadStream, existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

/** The built page of this checkout: `dist/page` beside the `package.json` above this file. */
export function defaultPageDir(): string {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return path.join(dir, 'dist', 'page');
}

/** Serves `urlPath` from `dir`; false when there is no such file. */
export async function servePageFile(dir: string, urlPath: string, response: ServerResponse): Promise<boolean> {
  const relative = urlPath === '/' ? 'index.html' : decodeURIComponent(urlPath).replace(/^\/+/, '');
  const file = path.resolve(dir, relative);
  // Nothing outside the page's directory, whatever the path says.
  if (!file.startsWith(path.resolve(dir) + path.sep)) return false;
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return false;
  const immutable = relative.startsWith('assets/');
  response.writeHead(200, {
    'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Content-Length': info.size,
    'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  createReadStream(file).pipe(response);
  return true;
}
