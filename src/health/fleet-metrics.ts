/**
 * The fleet in Prometheus terms: which processes are on the roll call, each one's share of the work labelled by its
 * name, and the shards no live process holds. Every process serves the same figures (they come from the shared
 * store), so scraping any one of them shows the whole fleet; the per-process metrics beside them stay its own.
 */
import { Gauge, type Registry } from 'prom-client';
import type { FleetPresence, ProcessRecord } from './fleet-presence.js';
import { shardCoverage } from './fleet-view.js';

/** A roll call read once per scrape, however many gauges ask for it. */
function rosterPerScrape(fleet: FleetPresence): () => Promise<readonly ProcessRecord[]> {
  let last: { at: number; roster: Promise<ProcessRecord[]> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > 250) last = { at: Date.now(), roster: fleet.roster() };
    return last.roster;
  };
}

/** Adds the `comfycord_fleet_*` gauges to `registry`. */
export function registerFleetMetrics(registry: Registry, fleet: FleetPresence): void {
  const roster = rosterPerScrape(fleet);
  const perProcess = (
    name: string,
    help: string,
    value: (record: ProcessRecord, now: number) => number,
  ): Gauge<'process'> =>
    new Gauge({
      name,
      help,
      labelNames: ['process'],
      registers: [registry],
      async collect() {
        this.reset();
        const now = Date.now();
        for (const record of await roster()) this.set({ process: record.name }, value(record, now));
      },
    });
  new Gauge({
    name: 'comfycord_fleet_processes',
    help: 'comfycord processes on the roll call (their heartbeat has not expired)',
    registers: [registry],
    async collect() {
      this.set((await roster()).length);
    },
  });
  new Gauge({
    name: 'comfycord_fleet_process_info',
    help: 'Each process on the roll call; this_process is 1 for the one answering the scrape',
    labelNames: ['process', 'shards', 'this_process'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const record of await roster()) {
        const shards = record.shards ? `${record.shards.ids.join(',')}/${record.shards.count}` : 'none';
        this.set({ process: record.name, shards, this_process: record.id === fleet.id ? '1' : '0' }, 1);
      }
    },
  });
  perProcess('comfycord_fleet_process_jobs_running', 'Jobs each process is running on ComfyUI servers', (record) => {
    return record.running.length;
  });
  perProcess('comfycord_fleet_process_healthy', 'Whether every check of a process passed at its last heartbeat', (r) =>
    Object.values(r.checks).every((state) => state === 'ok') ? 1 : 0,
  );
  perProcess(
    'comfycord_fleet_process_heartbeat_age_seconds',
    'Seconds since a process last renewed its record',
    (r, now) => Math.max(0, (now - r.heartbeatAt) / 1000),
  );
  new Gauge({
    name: 'comfycord_fleet_process_jobs_ended',
    help: 'Jobs that ended in each process since it started, by outcome',
    labelNames: ['process', 'outcome'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const record of await roster()) {
        for (const [outcome, count] of Object.entries(record.ended)) this.set({ process: record.name, outcome }, count);
      }
    },
  });
  new Gauge({
    name: 'comfycord_fleet_shards_missing',
    help: 'Shards of the bot that no live process connects',
    registers: [registry],
    async collect() {
      this.set(shardCoverage(await roster())?.missing.length ?? 0);
    },
  });
}
