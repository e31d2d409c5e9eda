/**
 * Who is calling: with API keys configured, the key in `Authorization: Bearer …` names the caller, and each key is a
 * member of its own for the fair queue, the limits and the history. With no key configured the API trusts the
 * machine it runs on and nobody else: it answers only requests from a loopback address.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebApiKey } from '../config.js';
import { ApiProblem } from './problem.js';

/** The caller of one request. */
export interface Caller {
  /** The key's name (`local` without keys): shown in logs, never the key itself. */
  readonly name: string;
  /** The member id the job layer counts limits and fairness by; apart from Discord's numeric ids. */
  readonly memberId: string;
}

/** The member id of a web caller named `name`. */
export function webMemberId(name: string): string {
  return `web:${name}`;
}

/** Whether a socket address is this machine. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return plain === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(plain);
}

/** Finds the caller of a request, or throws the 401/403 problem to answer. */
export function authenticate(request: IncomingMessage, keys: readonly WebApiKey[]): Caller {
  if (keys.length === 0) {
    if (isLoopback(request.socket.remoteAddress)) return { name: 'local', memberId: webMemberId('local') };
    throw new ApiProblem(
      403,
      'loopback-only',
      'This comfycord answers only on its own machine until the operator sets WEB_API_KEYS.',
    );
  }
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) {
    throw new ApiProblem(401, 'unauthorized', 'Send your API key as "Authorization: Bearer <key>".');
  }
  const given = digest(match[1]!);
  // Every key is compared, in constant time, so the answer's timing says nothing about which key came close.
  let found: WebApiKey | undefined;
  for (const key of keys) if (timingSafeEqual(given, digest(key.key))) found ??= key;
  if (!found) throw new ApiProblem(401, 'unauthorized', 'That API key is not valid; check it with the operator.');
  return { name: found.name, memberId: webMemberId(found.name) };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
