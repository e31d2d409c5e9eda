/**
 * Which server runs the next job: pure, so the policy can be read and tested on its own.
 *
 * A server qualifies when it is healthy, has a free slot and can run the job's workflow. Among those, the one that
 * would finish this job soonest wins: its jobs in flight plus this one, times how long a job takes there. A server
 * with no history yet is assumed to be as fast as the average of the others, so a new or restarted server gets work.
 */

/** What the choice needs to know of one server. */
export interface ServerLoad {
  readonly name: string;
  readonly healthy: boolean;
  /** Prompts this bot has on the server now: submitted and running. */
  readonly inFlight: number;
  /** The most prompts the server may hold at once. */
  readonly capacity: number;
  /** The smoothed duration of the jobs it finished; undefined before the first one. */
  readonly averageDurationMs: number | undefined;
}

/** True when a server could take one more job right now (whatever the workflow). */
export function hasFreeSlot(server: ServerLoad): boolean {
  return server.healthy && server.inFlight < server.capacity;
}

/** The best server for a job, or undefined when none of those that can run it is free now. */
export function chooseServer(
  servers: readonly ServerLoad[],
  canRun: (serverName: string) => boolean,
): ServerLoad | undefined {
  const candidates = servers.filter((server) => hasFreeSlot(server) && canRun(server.name));
  if (candidates.length === 0) return undefined;
  const fallbackDuration = averageKnownDuration(servers);
  const expectedFinish = (server: ServerLoad) => (server.inFlight + 1) * (server.averageDurationMs ?? fallbackDuration);
  // Stable: among equals the first configured server wins, then fewer jobs in flight.
  return candidates.reduce((best, server) => {
    const difference = expectedFinish(server) - expectedFinish(best);
    if (difference < 0) return server;
    if (difference === 0 && server.inFlight < best.inFlight) return server;
    return best;
  });
}

function averageKnownDuration(servers: readonly ServerLoad[]): number {
  const known = servers.map((server) => server.averageDurationMs).filter((value) => value !== undefined);
  if (known.length === 0) return 1;
  return known.reduce((sum, value) => sum + value, 0) / known.length;
}

/** Exponentially smoothed average: recent jobs count most, one slow job does not swing it. */
export function smoothDuration(previous: number | undefined, latestMs: number, weight = 0.3): number {
  return previous === undefined ? latestMs : previous + weight * (latestMs - previous);
}
