/**
 * The read-only view `/queue` and the metrics show: who waits where, what runs on which server, and how the servers
 * are. Plain data, taken at one instant.
 */
import type { QueueState } from './engine/queue-state.js';
import type { JobState } from './model.js';
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
  /** The process that carries it (a fleet's; undefined when it has not said yet). */
  readonly process?: string | undefined;
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

/** Builds a snapshot from the shared queue's state, its positions, and this process's view of the servers. */
export function buildSnapshot(
  state: QueueState,
  positions: ReadonlyMap<string, number>,
  servers: readonly ServerStatus[],
  outage = false,
): RunnerSnapshot {
  const waiting: WaitingJobView[] = [];
  for (const job of state.waitingJobs()) {
    const position = positions.get(job.id);
    if (position === undefined) continue;
    const { id: jobId, memberId, workflow, createdAt } = job;
    waiting.push({ jobId, memberId, workflow, position, createdAt });
  }
  const active: ActiveJobView[] = [];
  for (const [jobId, handOff] of Object.entries(state.handOffs)) {
    const { memberId, workflow, server, startedAt, process } = handOff;
    if (server === undefined) continue;
    const running = startedAt !== undefined;
    active.push({ jobId, memberId, workflow, server, state: running ? 'running' : 'submitted', startedAt, process });
  }
  waiting.sort((a, b) => a.position - b.position);
  return { waiting, active, servers, outage };
}
