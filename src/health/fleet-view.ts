/**
 * What the roll call says about the fleet as a whole: which shards no live process holds, which processes fail a
 * check, and each process's share of the work. Pure functions over the records, shared by `/healthz`, `/metrics`
 * and `/queue`.
 */
import { text } from '../i18n/catalog.js';
import type { ProcessRecord } from './fleet-presence.js';

/** The fleet as `/healthz` shows it. */
export interface FleetReport {
  /** `ok` when every process passes its checks and every shard is held; `degraded` otherwise, with the reasons. */
  readonly status: 'ok' | 'degraded';
  readonly problems: readonly string[];
  readonly processes: readonly ProcessReport[];
  /** The bot's shard count and the shards no live process connects; absent when no process runs a gateway. */
  readonly shards?: { readonly count: number; readonly missing: readonly number[] };
}

/** One process in the report. */
export interface ProcessReport {
  readonly name: string;
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly lastHeartbeatSecondsAgo: number;
  readonly shards: readonly number[] | null;
  readonly checks: Readonly<Record<string, string>>;
  readonly running: number;
  readonly ended: ProcessRecord['ended'];
}

/** The shards of the bot no live process connects, or undefined when none runs a gateway. */
export function shardCoverage(roster: readonly ProcessRecord[]): { count: number; missing: number[] } | undefined {
  const sharded = roster.flatMap((record) => (record.shards ? [record.shards] : []));
  if (sharded.length === 0) return undefined;
  const count = Math.max(...sharded.map((shards) => shards.count));
  const held = new Set(sharded.flatMap((shards) => shards.ids));
  return { count, missing: Array.from({ length: count }, (_, id) => id).filter((id) => !held.has(id)) };
}

/** The processes whose checks fail, and shards nobody holds, as sentences for operators. */
export function fleetProblems(roster: readonly ProcessRecord[]): string[] {
  const problems: string[] = [];
  if (roster.length === 0) problems.push('no comfycord process is on the roll call');
  for (const record of roster) {
    const failing = Object.entries(record.checks).filter(([, state]) => state !== 'ok');
    for (const [check, reason] of failing) problems.push(`${record.name}: ${check}: ${reason}`);
  }
  const counts = new Set(roster.flatMap((record) => (record.shards ? [record.shards.count] : [])));
  if (counts.size > 1) problems.push(`processes disagree on the shard count (${[...counts].join(', ')})`);
  const coverage = shardCoverage(roster);
  if (coverage && coverage.missing.length > 0) {
    problems.push(`no live process connects shard ${coverage.missing.join(', ')} of ${coverage.count}`);
  }
  return problems;
}

/**
 * The `/healthz` view of the fleet. `carried`, when given, counts each process's running jobs from the shared queue
 * as the answering process sees it now, fresher than the heartbeats (which may be seconds old).
 */
export function reportFleet(
  roster: readonly ProcessRecord[],
  now = Date.now(),
  carried?: (processName: string) => number,
): FleetReport {
  const problems = fleetProblems(roster);
  const coverage = shardCoverage(roster);
  return {
    status: problems.length === 0 ? 'ok' : 'degraded',
    problems,
    processes: roster.map((record) => ({
      name: record.name,
      pid: record.pid,
      host: record.host,
      startedAt: new Date(record.startedAt).toISOString(),
      lastHeartbeatSecondsAgo: Math.max(0, Math.round((now - record.heartbeatAt) / 100) / 10),
      shards: record.shards ? record.shards.ids : null,
      checks: record.checks,
      running: carried ? carried(record.name) : record.running.length,
      ended: record.ended,
    })),
    ...(coverage ? { shards: coverage } : {}),
  };
}

/**
 * The processes as members see them in `/queue`, in the member's language: numbered, never named (a default name
 * carries the host's name), with the shards they hold and the jobs they run.
 */
export function describeProcessesForMembers(roster: readonly ProcessRecord[], locale?: string | null): string[] {
  if (roster.length <= 1) return [];
  const lines = [text(locale, 'queue.processes', { count: roster.length })];
  roster.forEach((record, index) => {
    const ids = record.shards?.ids ?? [];
    const shards =
      record.shards === null
        ? ''
        : text(locale, ids.length === 1 ? 'queue.shard' : 'queue.shards', { ids: ids.join(', ') });
    const work =
      record.running.length === 0
        ? text(locale, 'queue.idle')
        : text(locale, 'queue.busy', { count: record.running.length });
    lines.push(text(locale, 'queue.processLine', { number: index + 1, shards, work }));
  });
  return lines;
}
