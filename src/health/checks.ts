/**
 * Health checks: each answers ok or the reason it is not. The engine's own (the store answers, a ComfyUI server is
 * up) are here; the faces add theirs (the Discord gateway). `/healthz` runs them on demand, and the fleet roll call
 * runs them at every heartbeat so any process can say how the others stand.
 */
import { z } from 'zod';
import type { JobRunner } from '../jobs/runner.js';
import type { Store } from '../store/index.js';

/** One check: ok, or the reason it is not. */
export type HealthCheck = () => Promise<{ ok: true } | { ok: false; reason: string }>;

/** The engine's checks: `store` (a write and a read back) and `comfyui` (at least one server up). */
export function engineChecks(store: Store, runner: Pick<JobRunner, 'snapshot'>): Record<string, HealthCheck> {
  const probe = store.collection('health', z.object({ at: z.number() }), { version: 1 });
  return {
    store: async () => {
      await probe.set('probe', { at: Date.now() }, 60_000);
      return (await probe.get('probe'))
        ? { ok: true }
        : { ok: false, reason: 'the store did not return what was written' };
    },
    comfyui: async () => {
      const servers = runner.snapshot().servers;
      const down = servers.filter((server) => server.health !== 'up').map((server) => server.name);
      return down.length < servers.length
        ? { ok: true }
        : { ok: false, reason: `no ComfyUI server is up (${down.join(', ')})` };
    },
  };
}

/** Runs every check at once: `ok` or the reason, by name, in the order given. A check that throws fails with it. */
export async function runChecks(checks: Readonly<Record<string, HealthCheck>>): Promise<Record<string, string>> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const result = await check().catch((error: unknown) => ({ ok: false as const, reason: String(error) }));
      return [name, result.ok ? 'ok' : result.reason] as const;
    }),
  );
  return Object.fromEntries(results);
}
