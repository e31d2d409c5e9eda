/**
 * Helpers of the `current`-mode emulator tests: waiting for a job through the jobs API.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { getJson } from '../http.js';

/** A JOB object as `GET /api/jobs/{id}` returns it. */
export type Job = Record<string, unknown> & { readonly id: string; readonly status: string };

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

/** Polls `GET /api/jobs/{id}` until the job is in one of `statuses` (default: finished). */
export async function waitForJob(baseUrl: string, id: string, statuses: ReadonlySet<string> = TERMINAL): Promise<Job> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { status, body } = await getJson<Job>(baseUrl, `/api/jobs/${id}`);
    if (status === 200 && statuses.has(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${JSON.stringify(body)}`);
    await delay(10);
  }
}
