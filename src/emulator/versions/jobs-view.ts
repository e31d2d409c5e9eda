/**
 * Current ComfyUI's jobs view of the queue and history (`comfy_execution/jobs.py`, PROTOCOL-current.md §1): one JOB
 * object per prompt, statuses, counts, the preview output, filtering, sorting and pagination.
 */

/** The job statuses, in the order error messages list them. */
export const JOB_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
/** One of `JOB_STATUSES`. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** A queue item as `/queue` lists it: `[number, prompt_id, graph, extra_data, outputs_to_execute]`. */
export type QueueTuple = readonly unknown[];

/** A history entry as `/history` lists it. */
export interface HistoryItem {
  readonly prompt: readonly unknown[];
  readonly outputs: Record<string, unknown>;
  readonly status: { status_str: string; completed: boolean; messages: Array<[string, unknown]> } | null;
}

/** What `GET /api/jobs` filters, sorts and pages by. */
export interface JobQuery {
  readonly statuses: readonly JobStatus[];
  readonly workflowId: string | undefined;
  readonly sortBy: 'created_at' | 'execution_duration';
  readonly sortOrder: 'asc' | 'desc';
  readonly limit: number | undefined;
  readonly offset: number;
}

type Job = Record<string, unknown>;

const PREVIEWABLE_MEDIA = new Set(['images', 'video', 'audio', '3d', 'text']);
const THREE_D_EXTENSIONS = ['.obj', '.fbx', '.gltf', '.glb', '.usdz'];
const TEXT_EXTENSIONS = ['.txt', '.md', '.json'];
const TEXT_PREVIEW_MAX = 1024;

/** A pending or running prompt as a JOB (`normalize_queue_item`); `detail` adds the workflow. */
export function queueJob(item: QueueTuple, status: 'pending' | 'in_progress', detail: boolean): Job {
  const [priority, id, prompt, extraData] = item;
  const { createTime, workflowId } = metadataOf(extraData);
  const job = pruned({
    id,
    status,
    priority,
    create_time: createTime,
    outputs_count: 0,
    previewable_outputs_count: 0,
    workflow_id: workflowId,
  });
  if (detail) job['workflow'] = { prompt, extra_data: extraData };
  return job;
}

/** A finished prompt as a JOB (`normalize_history_item`); `detail` adds outputs, execution status and workflow. */
export function historyJob(id: string, entry: HistoryItem, detail: boolean): Job {
  const [priority, , prompt, extraData] = entry.prompt;
  const { createTime, workflowId } = metadataOf(extraData);
  let start: unknown;
  let end: unknown;
  let executionError: unknown;
  let interrupted = false;
  for (const message of entry.status?.messages ?? []) {
    const [name, data] = message;
    if (!isRecord(data)) continue;
    if (name === 'execution_start') start = data['timestamp'];
    else if (name === 'execution_success' || name === 'execution_error' || name === 'execution_interrupted') {
      end = data['timestamp'];
      if (name === 'execution_error') executionError = data;
      else if (name === 'execution_interrupted') interrupted = true;
    }
  }
  const statusStr = entry.status?.status_str;
  const status: JobStatus = statusStr === 'error' ? (interrupted ? 'cancelled' : 'failed') : 'completed';
  const { count, preview } = outputsSummary(entry.outputs);
  const job = pruned({
    id,
    status,
    priority,
    create_time: createTime,
    execution_start_time: start,
    execution_end_time: end,
    execution_error: executionError,
    outputs_count: count,
    previewable_outputs_count: previewableCount(entry.outputs),
    preview_output: preview,
    workflow_id: workflowId,
  });
  if (detail) {
    job['outputs'] = normalizedOutputs(entry.outputs);
    job['execution_status'] = entry.status;
    job['workflow'] = { prompt, extra_data: extraData };
  }
  return job;
}

/** Every job matching the query, sorted and paged (`get_all_jobs`), with the total before paging. */
export function listJobs(
  running: readonly QueueTuple[],
  pending: readonly QueueTuple[],
  history: ReadonlyMap<string, HistoryItem>,
  query: JobQuery,
): { jobs: Job[]; total: number } {
  let jobs: Job[] = [];
  if (query.statuses.includes('in_progress')) jobs.push(...running.map((item) => queueJob(item, 'in_progress', false)));
  if (query.statuses.includes('pending')) jobs.push(...pending.map((item) => queueJob(item, 'pending', false)));
  const finished: readonly JobStatus[] = query.statuses.filter(
    (status) => status !== 'pending' && status !== 'in_progress',
  );
  if (finished.length > 0) {
    for (const [id, entry] of history) {
      const job = historyJob(id, entry, false);
      if (finished.includes(job['status'] as JobStatus)) jobs.push(job);
    }
  }
  if (query.workflowId) jobs = jobs.filter((job) => job['workflow_id'] === query.workflowId);
  jobs = sortJobs(jobs, query.sortBy, query.sortOrder);
  const total = jobs.length;
  const paged = jobs.slice(query.offset, query.limit === undefined ? undefined : query.offset + query.limit);
  return { jobs: paged, total };
}

/** Python's stable `sorted(..., reverse=...)`: equal keys keep their order either way. */
function sortJobs(jobs: Job[], sortBy: JobQuery['sortBy'], order: JobQuery['sortOrder']): Job[] {
  const key = (job: Job): number => {
    if (sortBy === 'execution_duration') {
      const start = numberOr0(job['execution_start_time']);
      const end = numberOr0(job['execution_end_time']);
      return start && end ? end - start : 0;
    }
    return numberOr0(job['create_time']);
  };
  const direction = order === 'desc' ? -1 : 1;
  return jobs
    .map((job, index) => ({ job, index, key: key(job) }))
    .sort((a, b) => (a.key - b.key) * direction || a.index - b.index)
    .map(({ job }) => job);
}

function outputsSummary(outputs: Record<string, unknown>): { count: number; preview: unknown } {
  let count = 0;
  let preview: Job | undefined;
  let fallback: Job | undefined;
  let textFile: Job | undefined;
  let text: Job | undefined;
  for (const [nodeId, nodeOutput] of Object.entries(outputs)) {
    if (!isRecord(nodeOutput)) continue;
    for (const [mediaType, items] of Object.entries(nodeOutput)) {
      if (mediaType === 'animated' || !Array.isArray(items)) continue;
      for (let item of items as unknown[]) {
        if (!isRecord(item)) {
          const normalized = normalizedItem(item);
          if (normalized === undefined) {
            if (mediaType === 'text' && preview === undefined && item !== null) {
              text ??= { ...textPreview(pyText(item)), nodeId, mediaType };
            }
            continue;
          }
          item = normalized;
        }
        const entry = item as Job;
        count += 1;
        if (preview !== undefined || !isPreviewable(mediaType, entry)) continue;
        const enriched: Job = { ...entry, nodeId };
        if (!('mediaType' in entry)) enriched['mediaType'] = mediaType;
        if (isTextPreview(mediaType, entry)) textFile ??= enriched;
        else if (entry['type'] === 'output') preview = enriched;
        else fallback ??= enriched;
      }
    }
  }
  return { count, preview: preview ?? fallback ?? textFile ?? text };
}

function previewableCount(outputs: Record<string, unknown>): number {
  let count = 0;
  for (const nodeOutput of Object.values(outputs)) {
    if (!isRecord(nodeOutput)) continue;
    for (const [mediaType, items] of Object.entries(nodeOutput)) {
      if (mediaType === 'animated' || !Array.isArray(items)) continue;
      for (const raw of items as unknown[]) {
        const item = isRecord(raw) ? raw : normalizedItem(raw);
        if (item !== undefined && isPreviewable(mediaType, item)) count += 1;
      }
    }
  }
  return count;
}

/** History outputs with null items removed and bare 3D file names turned into file entries. */
function normalizedOutputs(outputs: Record<string, unknown>): Record<string, unknown> {
  const normalized: Record<string, unknown> = {};
  for (const [nodeId, nodeOutput] of Object.entries(outputs)) {
    if (!isRecord(nodeOutput)) {
      normalized[nodeId] = nodeOutput;
      continue;
    }
    const node: Record<string, unknown> = {};
    for (const [mediaType, items] of Object.entries(nodeOutput)) {
      node[mediaType] =
        mediaType === 'animated' || !Array.isArray(items)
          ? items
          : (items as unknown[]).filter((item) => item !== null).map((item) => normalizedItem(item) ?? item);
    }
    normalized[nodeId] = node;
  }
  return normalized;
}

function normalizedItem(item: unknown): Job | undefined {
  if (isRecord(item)) return item;
  if (typeof item === 'string' && hasExtension(item, THREE_D_EXTENSIONS)) {
    return { filename: item, type: 'output', subfolder: '', mediaType: '3d' };
  }
  return undefined;
}

function isPreviewable(mediaType: string, item: Job): boolean {
  if (PREVIEWABLE_MEDIA.has(mediaType)) return true;
  const format = typeof item['format'] === 'string' ? item['format'] : '';
  if (format.startsWith('video/') || format.startsWith('audio/')) return true;
  const filename = typeof item['filename'] === 'string' ? item['filename'] : '';
  return hasExtension(filename, THREE_D_EXTENSIONS) || hasExtension(filename, TEXT_EXTENSIONS);
}

function isTextPreview(mediaType: string, item: Job): boolean {
  return (
    mediaType === 'text' || hasExtension(typeof item['filename'] === 'string' ? item['filename'] : '', TEXT_EXTENSIONS)
  );
}

function textPreview(value: string): Job {
  return value.length <= TEXT_PREVIEW_MAX
    ? { content: value }
    : { content: value.slice(0, TEXT_PREVIEW_MAX), truncated: true };
}

/** `str(item)` for the text values nodes put in their UI (strings, or a tuple's first element). */
function pyText(item: unknown): string {
  if (Array.isArray(item)) return item.length > 0 ? String(item[0]) : '';
  return String(item);
}

function metadataOf(extraData: unknown): { createTime: unknown; workflowId: unknown } {
  const data = isRecord(extraData) ? extraData : {};
  const pngInfo = isRecord(data['extra_pnginfo']) ? data['extra_pnginfo'] : {};
  const workflow = isRecord(pngInfo['workflow']) ? pngInfo['workflow'] : {};
  return { createTime: data['create_time'], workflowId: workflow['id'] };
}

function hasExtension(filename: string, extensions: readonly string[]): boolean {
  const lower = filename.toLowerCase();
  return extensions.some((extension) => lower.endsWith(extension));
}

function numberOr0(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

/** `prune_dict`: keys whose value is None (null or absent) are dropped. */
function pruned(job: Job): Job {
  return Object.fromEntries(Object.entries(job).filter(([, value]) => value !== undefined && value !== null));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
