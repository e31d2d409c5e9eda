/**
 * The read-only view `/queue` and the metrics show: who waits where, what runs on which server, and how the servers
 * are. Plain data, taken at one instant.
 */
import type { JobRecord, JobState } from './model.js';
import type { ServerStatus } from './server-pool.js';

/** A job waiting in the bot's queue. */
export interface WaitingJobView {
  readonly jobId: string;
  readonly memberId: string;
  readonly workflow: string;
  /** 1-based place in the queue. */
  readonly position: number;
  readonly createdAt: number;
}

/** A job on a server. */
export interface ActiveJobView {
  readonly jobId: string;
  readonly memberId: string;
  readonly workflow: string;
  readonly server: string;
  readonly state: Extract<JobState, 'submitted' | 'running'>;
  readonly startedAt: number | undefined;
}

/** Everything the runner is doing now. */
export interface RunnerSnapshot {
  readonly waiting: readonly WaitingJobView[];
  readonly active: readonly ActiveJobView[];
  readonly servers: readonly ServerStatus[];
  /** Every server has been down longer than the outage timeout: new jobs are refused until one is back. */
  readonly outage: boolean;
}

/** One member's part of a snapshot. */
export interface MemberJobsView {
  readonly waiting: readonly WaitingJobView[];
  readonly active: readonly ActiveJobView[];
}

/** The jobs of one member in a snapshot. */
export function jobsOfMember(snapshot: RunnerSnapshot, memberId: string): MemberJobsView {
  return {
    waiting: snapshot.waiting.filter((job) => job.memberId === memberId),
    active: snapshot.active.filter((job) => job.memberId === memberId),
  };
}

/** The jobs on each server, by server name. */
export function jobsByServer(snapshot: RunnerSnapshot): Map<string, ActiveJobView[]> {
  const byServer = new Map<string, ActiveJobView[]>(snapshot.servers.map((server) => [server.name, []]));
  for (const job of snapshot.active) byServer.get(job.server)?.push(job);
  return byServer;
}

/** Builds a snapshot from the runner's jobs, the queue positions and the server each active job is on. */
export function buildSnapshot(
  jobs: Iterable<JobRecord>,
  positions: ReadonlyMap<string, number>,
  serverOf: (jobId: string) => string | undefined,
  servers: readonly ServerStatus[],
  outage = false,
): RunnerSnapshot {
  const waiting: WaitingJobView[] = [];
  const active: ActiveJobView[] = [];
  for (const job of jobs) {
    const { id: jobId, memberId, workflow } = job;
    const position = positions.get(jobId);
    if (position !== undefined) waiting.push({ jobId, memberId, workflow, position, createdAt: job.createdAt });
    const server = serverOf(jobId);
    if (server !== undefined && (job.state === 'submitted' || job.state === 'running')) {
      active.push({ jobId, memberId, workflow, server, state: job.state, startedAt: job.startedAt });
    }
  }
  waiting.sort((a, b) => a.position - b.position);
  return { waiting, active, servers, outage };
}
