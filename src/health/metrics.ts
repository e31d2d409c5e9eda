/**
 * Prometheus metrics (prom-client): jobs by outcome, queue length, jobs in flight per member, job duration and
 * wait-time histograms, server health, and Discord REST errors; with a fleet, every process on the roll call with its
 * share of the work, labelled by process name (`comfycord_fleet_*`, the same from whichever process is scraped). A
 * registry of our own, so tests can run several bots in one process without their metrics colliding.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobEvent } from '../jobs/events.js';
import type { JobRecord } from '../jobs/model.js';
import type { RunnerSnapshot } from '../jobs/snapshot.js';
import type { FleetPresence } from './fleet-presence.js';
import { registerFleetMetrics } from './fleet-metrics.js';

export interface Metrics {
  readonly registry: Registry;
  /** The runner's listener: counts outcomes and measures times. */
  readonly onJobEvent: (job: JobRecord, event: JobEvent) => void;
  /** Counts a Discord REST answer (errors only are kept). */
  readonly onDiscordResponse: (method: string, status: number) => void;
}

/** Creates the metrics, reading queue and server state from `snapshot` (and the fleet's roll call) at each scrape. */
export function createMetrics(snapshot: () => RunnerSnapshot, fleet?: FleetPresence): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'comfycord_process_' });
  if (fleet) registerFleetMetrics(registry, fleet);
  const jobs = new Counter({
    name: 'comfycord_jobs_total',
    help: 'Jobs that ended, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'comfycord_job_duration_seconds',
    help: 'Time from queueing to the end of a job',
    labelNames: ['outcome'],
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  const wait = new Histogram({
    name: 'comfycord_job_wait_seconds',
    help: 'Time a job waited in the bot before a server took it',
    buckets: [0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  });
  const discordErrors = new Counter({
    name: 'comfycord_discord_rest_errors_total',
    help: 'Discord REST answers with an error status',
    labelNames: ['method', 'status'],
    registers: [registry],
  });
  new Gauge({
    name: 'comfycord_queue_length',
    help: 'Jobs waiting in the bot',
    registers: [registry],
    collect() {
      this.set(snapshot().waiting.length);
    },
  });
  new Gauge({
    name: 'comfycord_member_jobs_in_flight',
    help: 'Jobs waiting or running, per member with any',
    labelNames: ['member'],
    registers: [registry],
    collect() {
      // Reset first: members whose jobs ended must disappear rather than linger at their last value.
      this.reset();
      const current = snapshot();
      const counts = new Map<string, number>();
      for (const job of [...current.waiting, ...current.active])
        counts.set(job.memberId, (counts.get(job.memberId) ?? 0) + 1);
      for (const [member, count] of counts) this.set({ member }, count);
    },
  });
  new Gauge({
    name: 'comfycord_server_up',
    help: 'Whether a ComfyUI server is healthy (1) or not (0)',
    labelNames: ['server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const server of snapshot().servers) this.set({ server: server.name }, server.health === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'comfycord_server_jobs_in_flight',
    help: 'Prompts a ComfyUI server holds for the bot',
    labelNames: ['server'],
    registers: [registry],
    collect() {
      this.reset();
      for (const server of snapshot().servers) this.set({ server: server.name }, server.inFlight);
    },
  });

  return {
    registry,
    onJobEvent(job, event) {
      if (event.type === 'submitted') wait.observe((Date.now() - job.createdAt) / 1000);
      if (event.type === 'succeeded' || event.type === 'failed' || event.type === 'cancelled') {
        jobs.inc({ outcome: event.type });
        duration.observe({ outcome: event.type }, ((job.finishedAt ?? Date.now()) - job.createdAt) / 1000);
      }
    },
    onDiscordResponse(method, status) {
      if (status >= 400) discordErrors.inc({ method, status: String(status) });
    },
  };
}
