/**
 * /queue, /interrupt and /history: reading and editing the queue and the history like ComfyUI's server.py.
 */
import { isRecord } from '../graph/validate.js';
import { pyInt } from '../graph/py-coerce.js';
import { readJson, sendEmpty, sendJson, type Router } from '../server/http-kit.js';
import type { RouteContext } from './context.js';

/** Registers /queue, /interrupt, /history. */
export function addQueueRoutes(router: Router, context: RouteContext): void {
  router.add('GET', '/queue', (_req, res) => {
    const { running, pending } = context.queue.snapshot();
    sendJson(res, 200, { queue_running: running, queue_pending: pending });
  });
  router.add('POST', '/queue', async (req, res) => {
    const body = await readJson(req);
    if (isRecord(body) && body['clear']) context.queue.wipe();
    if (isRecord(body) && 'delete' in body) for (const id of iterable(body['delete'])) context.queue.delete(String(id));
    sendEmpty(res, 200);
  });
  router.add('POST', '/interrupt', async (req, res) => {
    const body = await readJson(req).catch(() => ({}));
    const promptId = isRecord(body) ? body['prompt_id'] : undefined;
    // Targeted interrupts (0.3.56+) only stop the prompt if it is the running one; otherwise nothing happens.
    if (!promptId || context.queue.runningIds().includes(String(promptId))) context.executor.interrupt();
    sendEmpty(res, 200);
  });
  router.add('GET', '/history', (req, res) => {
    const maxItems = req.url.searchParams.get('max_items');
    const offset = req.url.searchParams.get('offset');
    const page = context.queue.historyPage(
      maxItems === null ? undefined : pyInt(maxItems),
      offset === null ? -1 : pyInt(offset),
    );
    sendJson(res, 200, page);
  });
  router.add('GET', '/history/{prompt_id}', (req, res) => {
    const promptId = req.params['prompt_id'] ?? '';
    const entry = context.queue.historyItem(promptId);
    sendJson(res, 200, entry ? { [promptId]: entry } : {});
  });
  router.add('POST', '/history', async (req, res) => {
    const body = await readJson(req);
    if (isRecord(body) && body['clear']) context.queue.wipeHistory();
    if (isRecord(body) && 'delete' in body)
      for (const id of iterable(body['delete'])) context.queue.deleteHistory(String(id));
    sendEmpty(res, 200);
  });
}

function iterable(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return [...value];
  if (isRecord(value)) return Object.keys(value);
  throw new TypeError('object is not iterable');
}
