/**
 * Current ComfyUI's jobs API (PROTOCOL-current.md §1): `GET /api/jobs`, `GET /api/jobs/{id}`,
 * `POST /api/jobs/{id}/cancel` and `POST /api/jobs/cancel`. Registered only in `current` mode; ComfyUI registers them
 * with their `/api` prefix, so they answer at `/api/jobs` and `/api/api/jobs` but not at `/jobs`.
 */
import { isRecord } from '../graph/validate.js';
import { pyInt } from '../graph/py-coerce.js';
import { MalformedBodyError, readJson, sendJson, type Router } from '../server/http-kit.js';
import { pyRepr } from '../server/py-json.js';
import { JOB_STATUSES, historyJob, listJobs, queueJob, type JobQuery, type JobStatus } from '../versions/jobs-view.js';
import { isCanonicalUuid } from '../versions/prompt-id.js';
import type { RouteContext } from './context.js';

/** Registers the jobs API. */
export function addJobsRoutes(router: Router, context: RouteContext): void {
  router.add('GET', '/api/jobs', (req, res) => {
    const query = parseQuery(req.url.searchParams);
    if ('error' in query) return sendJson(res, 400, { error: query.error });
    const { running, pending } = context.queue.snapshot();
    const { jobs, total } = listJobs(running, pending, context.queue.historyEntries(), query);
    const pagination = {
      offset: query.offset,
      limit: query.limit ?? null,
      total,
      has_more: query.offset + jobs.length < total,
    };
    sendJson(res, 200, { jobs, pagination });
  });
  router.add('GET', '/api/jobs/{job_id}', (req, res) => {
    const job = findJob(context, req.params['job_id'] ?? '');
    if (job === undefined) return sendJson(res, 404, { error: 'Job not found' });
    sendJson(res, 200, job);
  });
  router.add('POST', '/api/jobs/{job_id}/cancel', (req, res) => {
    sendJson(res, 200, { cancelled: cancelJob(context, req.params['job_id'] ?? '') });
  });
  router.add('POST', '/api/jobs/cancel', async (req, res) => {
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (error) {
      if (!(error instanceof MalformedBodyError)) throw error;
      return sendJson(res, 400, { error: 'Request body must be valid JSON' });
    }
    const ids = isRecord(body) ? body['job_ids'] : undefined;
    if (!Array.isArray(ids)) return sendJson(res, 400, { error: 'job_ids must be a list' });
    const invalid = ids.filter((id) => !isCanonicalUuid(id)).map((id) => (typeof id === 'string' ? id : pyRepr(id)));
    if (invalid.length > 0) {
      return sendJson(res, 400, { error: 'job_ids contains invalid id(s)', invalid_ids: invalid });
    }
    // Every id is tried (no short-circuit): one cancelled is enough for `true`.
    const results = (ids as string[]).map((id) => cancelJob(context, id));
    sendJson(res, 200, { cancelled: results.some(Boolean) });
  });
}

/** History first, then running, then pending (`get_job`). */
function findJob(context: RouteContext, id: string): Record<string, unknown> | undefined {
  const entry = context.queue.historyItem(id);
  if (entry) return historyJob(id, entry, true);
  const { running, pending } = context.queue.snapshot();
  const active = running.find((item) => item[1] === id);
  if (active) return queueJob(active, 'in_progress', true);
  const waiting = pending.find((item) => item[1] === id);
  return waiting ? queueJob(waiting, 'pending', true) : undefined;
}

/** `cancel_job`: interrupts the prompt only if it is still the running one, or removes it from the pending queue. */
function cancelJob(context: RouteContext, id: string): boolean {
  const interruptIfRunning = (): boolean => {
    if (!context.queue.runningIds().includes(id)) return false;
    context.executor.interrupt();
    return true;
  };
  if (context.queue.runningIds().includes(id)) return interruptIfRunning();
  if (context.queue.snapshot().pending.some((item) => item[1] === id)) {
    return context.queue.delete(id) || interruptIfRunning();
  }
  return false;
}

function parseQuery(params: URLSearchParams): JobQuery | { error: string } {
  let statuses: JobStatus[] = [...JOB_STATUSES];
  const status = params.get('status');
  if (status) {
    const wanted = status
      .split(',')
      .map((value) => value.trim().toLowerCase())
      .filter(Boolean);
    const invalid = wanted.filter((value) => !(JOB_STATUSES as readonly string[]).includes(value));
    if (invalid.length > 0) {
      return { error: `Invalid status value(s): ${invalid.join(', ')}. Valid values: ${JOB_STATUSES.join(', ')}` };
    }
    statuses = wanted as JobStatus[];
  }
  const sortBy = (params.get('sort_by') ?? 'created_at').toLowerCase();
  const sortOrder = (params.get('sort_order') ?? 'desc').toLowerCase();
  if (sortBy !== 'created_at' && sortBy !== 'execution_duration') {
    return { error: "sort_by must be 'created_at' or 'execution_duration'" };
  }
  if (sortOrder !== 'asc' && sortOrder !== 'desc') return { error: "sort_order must be 'asc' or 'desc'" };
  let limit: number | undefined;
  if (params.has('limit')) {
    limit = integerOrUndefined(params.get('limit'));
    if (limit === undefined) return { error: 'limit must be an integer' };
    if (limit <= 0) return { error: 'limit must be a positive integer' };
  }
  const offset = integerOrUndefined(params.get('offset') ?? '0');
  if (offset === undefined) return { error: 'offset must be an integer' };
  return {
    statuses,
    workflowId: params.get('workflow_id') ?? undefined,
    sortBy,
    sortOrder,
    limit,
    offset: Math.max(0, offset),
  };
}

/** Python's `int(text)`, or undefined where it raises ValueError. */
function integerOrUndefined(text: string | null): number | undefined {
  try {
    return pyInt(text ?? '');
  } catch {
    return undefined;
  }
}
