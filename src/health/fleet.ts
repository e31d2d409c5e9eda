/**
 * Puts a running engine on the fleet's roll call: its share of the work is read from the runner (the jobs it runs
 * now, the jobs that ended here since the start), its checks are the engine's plus the faces', and its shards are
 * whatever its Discord client connects.
 */
import type { Engine } from '../engine.js';
import { isTerminalEvent } from '../jobs/events.js';
import { engineChecks, type HealthCheck } from './checks.js';
import { joinFleet, type FleetPresence, type ProcessRecord, type ProcessShare } from './fleet-presence.js';

export interface JoinOptions {
  /** The faces' checks (the Discord gateway), reported beside the engine's. */
  readonly checks?: Readonly<Record<string, HealthCheck>>;
  /** The shards this process connects; none for a process without a gateway. */
  readonly shards?: ProcessRecord['shards'];
  /** The name operators know this process by; the queue engine's (`COMFYCORD_PROCESS_NAME`, else `<host>-<pid>`). */
  readonly name?: string;
  /** Tests shorten the heartbeat. */
  readonly heartbeatMs?: number;
}

/** Joins the roll call; call `leave()` before the store closes. */
export async function joinFleetWith(engine: Engine, options: JoinOptions = {}): Promise<FleetPresence> {
  const { runner, store, logger } = engine;
  const ended = { succeeded: 0, failed: 0, cancelled: 0 };
  runner.onEvent((_job, event) => {
    if (isTerminalEvent(event)) ended[event.type] += 1;
  });
  const name = options.name ?? runner.engine.processName;
  const share = (): ProcessShare => ({
    // In a fleet the snapshot shows every process's jobs: this process's share is the jobs it carries.
    running: runner
      .snapshot()
      .active.filter((job) => job.process === undefined || job.process === name)
      .map(({ jobId, memberId, server }) => ({ jobId, memberId, server })),
    ended,
  });
  return joinFleet({
    store,
    logger: logger.child({ module: 'fleet' }),
    name,
    shards: options.shards ?? null,
    checks: { ...options.checks, ...engineChecks(store, runner) },
    share,
    heartbeatMs: options.heartbeatMs,
  });
}
