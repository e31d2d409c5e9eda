/**
 * ComfyUI's origin-only middleware: a browser page on another site must not queue work on a loopback server, so a
 * request whose Origin names a different host[:port] than its Host header gets a bare 403 (HTTP and WebSocket alike).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** True when ComfyUI would answer this request with 403. */
export function isForeignOrigin(headers: IncomingHttpHeaders): boolean {
  const host = headers.host?.toLowerCase();
  const origin = headers.origin;
  if (host === undefined || origin === undefined) return false;
  const hostParts = splitHostPort(host);
  const originParts = parseOrigin(origin);
  if (!isLoopback(hostParts.hostname)) return false;
  // Like ComfyUI: when one side names no port, compare host names only.
  const hostSide = originParts.port === undefined ? hostParts.hostname : host;
  const originSide = hostParts.port === undefined ? originParts.hostname : originParts.netloc;
  if (!hostSide || !originSide) return false;
  return hostSide !== originSide;
}

function splitHostPort(netloc: string): { hostname: string; port: string | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(netloc);
  if (bracketed) return { hostname: bracketed[1] ?? '', port: bracketed[2] };
  const colon = netloc.lastIndexOf(':');
  if (colon === -1) return { hostname: netloc, port: undefined };
  return { hostname: netloc.slice(0, colon), port: netloc.slice(colon + 1) || undefined };
}

function parseOrigin(origin: string): { netloc: string; hostname: string; port: string | undefined } {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(origin);
  const netloc = (match?.[1] ?? '').toLowerCase().replace(/^.*@/, '');
  const parts = splitHostPort(netloc);
  return { netloc, hostname: parts.hostname, port: parts.port };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
