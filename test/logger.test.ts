import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

function capture(secrets: string[] = []) {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const logger = createLogger({ level: 'debug', format: 'json', secrets, destination: stream });
  return { logger, lines };
}

describe('createLogger', () => {
  it('writes JSON lines', () => {
    const { logger, lines } = capture();
    logger.info({ jobId: 'j1' }, 'job queued');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, jobId: 'j1', msg: 'job queued' });
  });

  it('redacts Authorization headers and tokens by path', () => {
    const { logger, lines } = capture();
    logger.info({
      headers: { authorization: 'Bot abc' },
      request: { headers: { Authorization: 'Bot def' } },
      token: 'x',
    });
    expect(lines[0]).not.toMatch(/Bot abc|Bot def|"x"/);
    expect(lines[0]).toContain('[redacted]');
  });

  it('scrubs the bot token wherever it appears in free text', () => {
    const token = 'MTIzNDU2Nzg5.secret-token-value';
    const { logger, lines } = capture([token]);
    logger.error({ err: new Error(`request failed with ${token}`) }, `url had ${token}`);
    expect(lines[0]).not.toContain(token);
    expect(lines[0]).toContain('[redacted]');
  });
});
