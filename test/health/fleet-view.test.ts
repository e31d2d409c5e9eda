import { describe, expect, it } from 'vitest';
import type { ProcessRecord } from '../../src/health/fleet-presence.js';
import { describeProcessesForMembers, fleetProblems, reportFleet, shardCoverage } from '../../src/health/fleet-view.js';

function process(name: string, overrides: Partial<ProcessRecord> = {}): ProcessRecord {
  return {
    id: `${name}-id`,
    name,
    pid: 100,
    host: 'host-1',
    startedAt: Date.UTC(2026, 0, 1),
    heartbeatAt: Date.UTC(2026, 0, 1, 0, 0, 10),
    shards: null,
    checks: { gateway: 'ok', store: 'ok', comfyui: 'ok' },
    running: [],
    ended: { succeeded: 0, failed: 0, cancelled: 0 },
    ...overrides,
  };
}

describe('the fleet view', () => {
  it('finds the shards no live process holds', () => {
    const roster = [
      process('a', { shards: { ids: [0, 2], count: 4 } }),
      process('b', { shards: { ids: [1], count: 4 } }),
    ];
    expect(shardCoverage(roster)).toEqual({ count: 4, missing: [3] });
    expect(fleetProblems(roster)).toEqual(['no live process connects shard 3 of 4']);
  });

  it('says nothing of shards when no process runs a gateway', () => {
    expect(shardCoverage([process('web')])).toBeUndefined();
    expect(reportFleet([process('web')])).not.toHaveProperty('shards');
  });

  it('names the process and the check that fails, and processes that disagree on the shard count', () => {
    const roster = [
      process('a', { shards: { ids: [0], count: 2 }, checks: { gateway: 'not connected to the Discord gateway' } }),
      process('b', { shards: { ids: [1], count: 3 } }),
    ];
    expect(fleetProblems(roster)).toEqual([
      'a: gateway: not connected to the Discord gateway',
      'processes disagree on the shard count (2, 3)',
      'no live process connects shard 2 of 3',
    ]);
  });

  it('reports an empty roll call as a problem', () => {
    expect(reportFleet([])).toMatchObject({
      status: 'degraded',
      problems: ['no comfycord process is on the roll call'],
    });
  });

  it('reports each process with its shards, its running jobs and how long ago it was heard from', () => {
    const roster = [
      process('a', {
        shards: { ids: [0], count: 1 },
        running: [{ jobId: 'j1', memberId: 'm1', server: 'emu' }],
        ended: { succeeded: 3, failed: 1, cancelled: 0 },
      }),
    ];
    const report = reportFleet(roster, Date.UTC(2026, 0, 1, 0, 0, 12, 340));
    expect(report).toEqual({
      status: 'ok',
      problems: [],
      shards: { count: 1, missing: [] },
      processes: [
        {
          name: 'a',
          pid: 100,
          host: 'host-1',
          startedAt: '2026-01-01T00:00:00.000Z',
          lastHeartbeatSecondsAgo: 2.3,
          shards: [0],
          checks: { gateway: 'ok', store: 'ok', comfyui: 'ok' },
          running: 1,
          ended: { succeeded: 3, failed: 1, cancelled: 0 },
        },
      ],
    });
  });

  it('shows members numbered processes with their shards and work, and never a name or host', () => {
    const roster = [
      process('host-1-100', { shards: { ids: [0], count: 2 }, running: [{ jobId: 'j', memberId: 'm', server: 's' }] }),
      process('host-2-200', { shards: { ids: [1], count: 2 } }),
    ];
    const lines = describeProcessesForMembers(roster);
    expect(lines).toEqual(['Bot processes: 2.', '• process 1, shard 0: 1 running', '• process 2, shard 1: idle']);
    expect(lines.join('\n')).not.toMatch(/host/);
    expect(describeProcessesForMembers(roster, 'de')).toEqual([
      'Bot-Prozesse: 2.',
      '• Prozess 1, Shard 0: 1 in Arbeit',
      '• Prozess 2, Shard 1: frei',
    ]);
    const web = process('web-300', { shards: null });
    expect(describeProcessesForMembers([...roster, web], 'fr')[3]).toBe('• processus 3 : libre');
  });

  it('shows members nothing about processes when there is only one', () => {
    expect(describeProcessesForMembers([process('solo')])).toEqual([]);
  });
});
