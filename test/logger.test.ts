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
  it('masks interaction tokens in URLs and leaves request bodies of errors out', () => {
    const { logger, lines } = capture();
    const token = 'aW50ZXJhY3Rpb246MTU3NDc4MDI5NjQwOTI1MTg0OA:FNZW5kgO5ZIbGIA32mB3klpMwFtpyMx';
    const error = Object.assign(new Error('Unknown Webhook'), {
      url: `http://127.0.0.1/api/v10/webhooks/1574780295314538497/${token}/messages/@original`,
      requestBody: { files: [{ name: 'a.png', data: [1, 2, 3] }], json: {} },
    });
    logger.warn({ err: error }, `PATCH /interactions/1574780296409251848/${token}/callback failed`);
    expect(lines[0]).not.toContain(token);
    expect(lines[0]).toContain('webhooks/1574780295314538497/[redacted]/messages');
    expect(lines[0]).toContain('interactions/1574780296409251848/[redacted]/callback');
    expect(JSON.parse(lines[0]!).err).not.toHaveProperty('requestBody');
  });

  it('names the process on every line, its child loggers too', () => {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const logger = createLogger({ level: 'info', format: 'json', destination: stream, processName: 'bot-eu-1' });
    logger.info('started');
    logger.child({ module: 'discord' }).warn('slow');
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ process: 'bot-eu-1', pid: process.pid, msg: 'started' }),
      expect.objectContaining({ process: 'bot-eu-1', module: 'discord', msg: 'slow' }),
    ]);
  });

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
