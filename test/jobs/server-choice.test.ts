import { describe, expect, it } from 'vitest';
import { chooseServer, hasFreeSlot, smoothDuration, type ServerLoad } from '../../src/jobs/server-choice.js';

function server(name: string, overrides: Partial<ServerLoad> = {}): ServerLoad {
  return { name, healthy: true, inFlight: 0, capacity: 2, averageDurationMs: undefined, ...overrides };
}

const anyWorkflow = () => true;

describe('chooseServer', () => {
  it('prefers the server with fewer jobs in flight when speeds are unknown', () => {
    const servers = [server('a', { inFlight: 1 }), server('b')];
    expect(chooseServer(servers, anyWorkflow)?.name).toBe('b');
  });

  it('takes the first configured server among equals', () => {
    expect(chooseServer([server('a'), server('b')], anyWorkflow)?.name).toBe('a');
  });

  it('skips servers that are down or full', () => {
    const servers = [server('a', { healthy: false }), server('b', { inFlight: 2 }), server('c', { inFlight: 1 })];
    expect(chooseServer(servers, anyWorkflow)?.name).toBe('c');
  });

  it('skips servers that cannot run the workflow', () => {
    const servers = [server('a'), server('b', { inFlight: 1 })];
    expect(chooseServer(servers, (name) => name === 'b')?.name).toBe('b');
  });

  it('returns nothing when no server can take the job now', () => {
    const servers = [server('a', { inFlight: 2 }), server('b', { healthy: false })];
    expect(chooseServer(servers, anyWorkflow)).toBeUndefined();
    expect(chooseServer([server('c')], () => false)).toBeUndefined();
  });

  it('keeps a fast server busy before giving work to a much slower one', () => {
    const servers = [
      server('slow', { averageDurationMs: 3000 }),
      server('fast', { inFlight: 1, averageDurationMs: 1000 }),
    ];
    expect(chooseServer(servers, anyWorkflow)?.name).toBe('fast');
  });

  it('gives work to the slower server when the fast one is already loaded', () => {
    const servers = [
      server('slow', { averageDurationMs: 1500 }),
      server('fast', { inFlight: 1, averageDurationMs: 1000 }),
    ];
    expect(chooseServer(servers, anyWorkflow)?.name).toBe('slow');
  });

  it('treats a server without history as average, so it gets work', () => {
    const servers = [server('known', { inFlight: 1, averageDurationMs: 1000 }), server('new')];
    expect(chooseServer(servers, anyWorkflow)?.name).toBe('new');
  });
});

describe('hasFreeSlot', () => {
  it('is true only for a healthy server below its capacity', () => {
    expect(hasFreeSlot(server('a', { inFlight: 1 }))).toBe(true);
    expect(hasFreeSlot(server('a', { inFlight: 2 }))).toBe(false);
    expect(hasFreeSlot(server('a', { healthy: false }))).toBe(false);
  });
});

describe('smoothDuration', () => {
  it('starts from the first measurement and then moves part of the way', () => {
    expect(smoothDuration(undefined, 1000)).toBe(1000);
    expect(smoothDuration(1000, 2000, 0.5)).toBe(1500);
  });
});
