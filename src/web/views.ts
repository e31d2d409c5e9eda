/**
 * What the API says about a generation, put together from the web record (who, settings, outcome, files), the job
 * record (where it is while it runs) and the live state (position, progress).
 */
import type { JobRecord } from '../jobs/model.js';
import type { OutputFiles } from './output-files.js';
import type { GenerationView } from './schemas.js';
import type { WebGeneration } from './web-records.js';

// The values a binding chooses that a caller wants to see (and to reuse: the seed above all).
const APPLIED_KEYS = ['seed', 'width', 'height', 'count', 'steps', 'cfg', 'denoise', 'negative', 'checkpoint'];

/** The settings a job used: the caller's, with the values the binding chose; the input image's server name left out. */
export function settingsUsed(job: JobRecord): Record<string, unknown> {
  const { image: _image, ...given } = job.settings;
  const applied = Object.fromEntries(
    APPLIED_KEYS.filter((key) => ['number', 'string'].includes(typeof job.applied[key])).map((key) => [
      key,
      job.applied[key],
    ]),
  );
  return { ...given, ...applied, workflow: job.workflow };
}

/** Everything a view is made of. */
export interface ViewParts {
  readonly record: WebGeneration;
  readonly job: JobRecord | undefined;
  readonly position: number | undefined;
  readonly progress: { value: number; max: number } | undefined;
}

/**
 * The API's description of a generation. Its URLs start with `origin` (WEB_PUBLIC_URL, or where the endpoint listens
 * for a webhook's receiver), or are relative when it is empty.
 */
export function viewOf(
  { record, job, position, progress }: ViewParts,
  files: OutputFiles,
  origin = '',
): GenerationView {
  const base = `${origin}/v1/generations/${record.id}`;
  const outcome = record.outcome;
  const status = outcome?.status ?? liveStatus(job, record);
  const view: GenerationView = {
    id: record.id,
    status,
    workflow: record.workflow,
    settings: record.settings,
    outputs: (outcome?.outputs ?? []).map((output, index) => ({
      url: origin + files.urlOf(record.id, index, output),
      content_type: output.contentType,
      size: output.size,
      filename: output.filename,
    })),
    created_at: new Date(record.createdAt).toISOString(),
    urls: { self: base, events: `${base}/events`, cancel: `${base}/cancel`, refine: `${base}/refine` },
  };
  if (status === 'queued' && position !== undefined) view.position = position;
  if (status === 'running' && progress !== undefined && progress.max > 0) {
    view.progress = { ...progress, percent: Math.round((100 * progress.value) / progress.max) };
  }
  if (outcome?.error) view.error = outcome.error;
  if (!outcome && job === undefined && !record.pending) view.error = LOST;
  if (record.parentId !== undefined) view.parent_id = record.parentId;
  if (outcome) view.finished_at = new Date(outcome.finishedAt).toISOString();
  return view;
}

const LOST = { code: 'job-lost', message: 'This generation was lost before it finished; please start it again.' };

function liveStatus(job: JobRecord | undefined, record: WebGeneration): GenerationView['status'] {
  // Accepted, and its job about to be made (now, or by the next start after a crash).
  if (job === undefined) return record.pending ? 'queued' : 'failed';
  if (job.state === 'waiting') return 'queued';
  // A job that ended but whose files are still being kept reads as running until they are.
  return 'running';
}
