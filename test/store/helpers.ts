import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

/** A logger whose JSON lines the test can read back. */
export function captureLogs(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: createLogger({ level: 'warn', format: 'json', destination }), lines: () => lines };
}

/** The warnings logged so far (pino level 40). */
export function warningsIn(lines: Record<string, unknown>[]): Record<string, unknown>[] {
  return lines.filter((line) => line.level === 40);
}

/** A fresh temporary directory, removed by the returned function. */
export async function makeTempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'comfycord-store-'));
  return { path, remove: async () => rm(path, { recursive: true, force: true }) };
}
