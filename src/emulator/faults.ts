/**
 * The emulator's runtime knobs and the `faults` object tests use to make it slow, failing, disconnected or down.
 */
import type { Logger } from 'pino';
import type { EmulatorFaults } from './api.js';
import type { InjectedFailure } from './exec/node-runner.js';
import type { Listener } from './server/listener.js';
import type { WebSocketHub } from './ws/hub.js';

/** Mutable settings read by the running emulator. */
export interface RuntimeKnobs {
  stepMs: number;
  viewDelayMs: number;
  readonly failures: InjectedFailure[];
  /** POST /prompt's `number` counter. */
  counter: number;
  /** `/system_stats` raises (see `EmulatorFaults.failSystemStats`). */
  systemStatsFails: boolean;
}

/** Builds the faults object over the knobs, the hub and the listener. */
export function createFaults(
  knobs: RuntimeKnobs,
  hub: WebSocketHub,
  listener: Listener,
  logger: Logger,
): EmulatorFaults {
  return {
    get stepMs() {
      return knobs.stepMs;
    },
    set stepMs(value: number) {
      knobs.stepMs = value;
    },
    get viewDelayMs() {
      return knobs.viewDelayMs;
    },
    set viewDelayMs(value: number) {
      knobs.viewDelayMs = value;
    },
    failNode: (match, exceptionMessage, exceptionType = 'Exception') => {
      knobs.failures.push({
        nodeId: match.nodeId,
        classType: match.classType,
        message: exceptionMessage,
        exceptionType,
      });
    },
    clearFailures: () => {
      knobs.failures.length = 0;
    },
    dropWebSockets: () => hub.dropAll(),
    failSystemStats: (on) => {
      knobs.systemStatsFails = on;
    },
    refuseConnections: (on) => {
      listener.refuse(on).catch((error: unknown) => logger.error({ err: error }, 'emulator could not listen again'));
    },
  };
}
