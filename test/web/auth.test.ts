import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { authenticate, isLoopback } from '../../src/web/auth.js';
import { ApiProblem } from '../../src/web/problem.js';

const KEYS = [
  { name: 'alice', key: 'alice-key-0123456789abcdef' },
  { name: 'ci', key: 'ci-key-0123456789abcdef0000' },
];

function request(remoteAddress: string, authorization?: string): IncomingMessage {
  return { socket: { remoteAddress }, headers: authorization ? { authorization } : {} } as unknown as IncomingMessage;
}

function refusal(call: () => unknown): ApiProblem {
  try {
    call();
  } catch (error) {
    if (error instanceof ApiProblem) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('authenticate', () => {
  it('takes each key as a member of its own', () => {
    expect(authenticate(request('10.0.0.7', `Bearer ${KEYS[1]!.key}`), KEYS)).toEqual({
      name: 'ci',
      memberId: 'web:ci',
    });
  });

  it('refuses a missing or wrong key with 401 from anywhere, loopback included', () => {
    expect(refusal(() => authenticate(request('127.0.0.1'), KEYS)).status).toBe(401);
    expect(refusal(() => authenticate(request('127.0.0.1', 'Bearer nope-nope-nope-nope'), KEYS)).code).toBe(
      'unauthorized',
    );
  });

  it('without keys answers loopback callers only', () => {
    expect(authenticate(request('127.0.0.1'), []).memberId).toBe('web:local');
    expect(authenticate(request('::ffff:127.0.0.1'), []).name).toBe('local');
    expect(authenticate(request('::1'), []).name).toBe('local');
    const stranger = refusal(() => authenticate(request('192.168.1.20'), []));
    expect(stranger.status).toBe(403);
    expect(stranger.detail).toBe(
      'This comfycord answers only on its own machine until the operator sets WEB_API_KEYS.',
    );
  });

  it('knows loopback addresses from others', () => {
    expect(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'].every(isLoopback)).toBe(true);
    expect(['10.0.0.1', '::ffff:10.0.0.1', '1::1', undefined].some(isLoopback)).toBe(false);
  });
});
