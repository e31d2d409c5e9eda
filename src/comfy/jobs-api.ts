/**
 * Current ComfyUI's jobs API as the client reads it (PROTOCOL-current.md §1): the jobs still in the queue, and a
 * finished job turned into the shape of a `/history` entry, so the rest of the client reads one shape whatever the
 * server. Lenient like every reader here: a job entry it cannot read is skipped, unknown fields are ignored.
 */
import { z } from 'zod';
import { HistoryEntrySchema, type HistoryEntry, type QueueSnapshot } from './schemas.js';

/** One JOB of `GET /api/jobs` as far as the queue needs it. */
const ActiveJobSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  /** The queue `number`: pending jobs run lowest first. */
  priority: z.number().optional().catch(undefined),
});

/** `GET /api/jobs?status=in_progress,pending`: `jobs` is all the client needs. */
export const JobListSchema = z.looseObject({ jobs: z.array(z.unknown()) });

/** `GET /api/jobs/{id}`: the status, and for a finished job its outputs and history status. */
export const JobDetailSchema = z.looseObject({
  id: z.string().optional().catch(undefined),
  status: z.string(),
  outputs: z.unknown().optional(),
  execution_status: z.unknown().optional(),
  execution_error: z.unknown().optional(),
});
/** A job as `GET /api/jobs/{id}` describes it. */
export type JobDetail = z.infer<typeof JobDetailSchema>;

/** `POST /api/jobs/{id}/cancel`. */
export const JobCancelledSchema = z.looseObject({ cancelled: z.boolean().catch(false) });

/** The running and pending jobs of a list, pending in the order they will run (as `/queue` would say). */
export function queueOfJobs(jobs: readonly unknown[]): QueueSnapshot {
  const running: string[] = [];
  const pending: Array<{ id: string; priority: number }> = [];
  for (const entry of jobs) {
    const job = ActiveJobSchema.safeParse(entry);
    if (!job.success) continue;
    if (job.data.status === 'in_progress') running.push(job.data.id);
    else if (job.data.status === 'pending') {
      pending.push({ id: job.data.id, priority: job.data.priority ?? Number.POSITIVE_INFINITY });
    }
  }
  // The server's heap orders by (number, prompt_id).
  pending.sort((a, b) => a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { running, pending: pending.map((job) => job.id) };
}

/**
 * How a finished job ended, as a history entry: its outputs and the history `status` it carries. When the server
 * leaves `execution_status` out, the job's own status and `execution_error` say it. Undefined while still queued or
 * running (or of a status this client does not know: it is then looked at again later).
 */
export function historyOfJob(job: JobDetail): HistoryEntry | undefined {
  if (!['completed', 'failed', 'cancelled'].includes(job.status)) return undefined;
  const status = job.execution_status ?? statusOf(job);
  const entry = HistoryEntrySchema.safeParse({ outputs: job.outputs ?? {}, status });
  // Outputs of a shape nobody can read: the status still says how it ended.
  return entry.success ? entry.data : HistoryEntrySchema.parse({ outputs: {}, status });
}

function statusOf(job: JobDetail): unknown {
  if (job.status === 'completed') return { status_str: 'success', completed: true, messages: [] };
  const messages =
    job.status === 'cancelled'
      ? [['execution_interrupted', { prompt_id: job.id ?? '' }]]
      : job.execution_error === undefined
        ? []
        : [['execution_error', job.execution_error]];
  return { status_str: 'error', completed: false, messages };
}
