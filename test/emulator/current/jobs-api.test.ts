/**
 * The emulator's `current` mode serves the jobs API as PROTOCOL-current.md §1 documents it: list, detail, cancel
 * (single and batch), statuses, pagination and errors; at `/api/jobs` and `/api/api/jobs`, never at `/jobs`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';
import { basicGraph, textToImageGraph } from '../graphs.js';
import { getJson, postJson, queuePrompt } from '../http.js';
import { waitForJob, type Job } from './helpers.js';

type JobList = { jobs: Job[]; pagination: Record<string, unknown> };

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('the current-mode emulator jobs API', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator({ stepMs: 1, version: 'current', checkpoints: ['random_sd15_slim.safetensors'] });
  });

  afterEach(() => {
    emulator.faults.stepMs = 1;
    emulator.faults.clearFailures();
  });

  afterAll(async () => {
    await emulator.close();
  });

  /** Runs a prompt to its end and returns its detail. */
  async function runToEnd(body: Record<string, unknown>): Promise<Job> {
    const { prompt_id: id } = await queuePrompt(emulator.url, { client_id: 'jobs-test', ...body });
    return waitForJob(emulator.url, id);
  }

  it('details a completed job: counts, preview, times, outputs, execution status and workflow', async () => {
    const job = await runToEnd({
      prompt: basicGraph(255, 'jobs'),
      extra_data: { extra_pnginfo: { workflow: { id: 'wf-1' } } },
    });
    expect(Object.keys(job)).toEqual([
      'id',
      'status',
      'priority',
      'create_time',
      'execution_start_time',
      'execution_end_time',
      'outputs_count',
      'previewable_outputs_count',
      'preview_output',
      'workflow_id',
      'outputs',
      'execution_status',
      'workflow',
    ]);
    expect(job).toMatchObject({
      status: 'completed',
      outputs_count: 2,
      previewable_outputs_count: 2,
      workflow_id: 'wf-1',
    });
    expect(job['preview_output']).toMatchObject({ subfolder: '', type: 'output', nodeId: '3', mediaType: 'images' });
    expect(job['execution_end_time']).toBeGreaterThanOrEqual(job['execution_start_time'] as number);
    const history = (await getJson<Record<string, Record<string, unknown>>>(emulator.url, `/history/${job.id}`)).body;
    expect(job['outputs']).toEqual(history[job.id]!['outputs']);
    expect(job['execution_status']).toEqual(history[job.id]!['status']);
    const tuple = history[job.id]!['prompt'] as unknown[];
    expect(job['workflow']).toEqual({ prompt: tuple[2], extra_data: tuple[3] });
    expect(job['priority']).toBe(tuple[0]);
  });

  it('says failed with the execution_error data when a node raises', async () => {
    emulator.faults.failNode({ classType: 'ImageInvert' }, 'boom');
    const job = await runToEnd({ prompt: basicGraph(1, 'fails') });
    expect(job.status).toBe('failed');
    expect(job['execution_error']).toMatchObject({
      node_id: '2',
      node_type: 'ImageInvert',
      exception_message: 'boom\n',
    });
  });

  it('is served at /api/jobs and /api/api/jobs but not at /jobs', async () => {
    expect((await getJson(emulator.url, '/api/jobs')).status).toBe(200);
    expect((await getJson(emulator.url, '/api/api/jobs')).status).toBe(200);
    const bare = await fetch(`${emulator.url}/jobs`);
    expect([bare.status, await bare.text()]).toEqual([404, '404: Not Found']);
  });

  it('answers 404 Job not found for an unknown id, without checking its form', async () => {
    for (const id of [UNKNOWN_ID, 'not-a-uuid']) {
      const answer = await getJson(emulator.url, `/api/jobs/${id}`);
      expect([answer.status, answer.body]).toEqual([404, { error: 'Job not found' }]);
    }
  });

  it('lists running and pending jobs, then cancels each: interrupted, or removed from the queue', async () => {
    emulator.faults.stepMs = 100;
    const running = await queuePrompt(emulator.url, { client_id: 'jobs-test', prompt: textToImageGraph(1, 200) });
    await waitForJob(emulator.url, running.prompt_id, new Set(['in_progress']));
    const pending = await queuePrompt(emulator.url, { client_id: 'jobs-test', prompt: textToImageGraph(2, 200) });

    const active = (await getJson<JobList>(emulator.url, '/api/jobs?status=in_progress,PENDING')).body;
    expect(active.jobs.map((job) => [job.id, job.status])).toEqual(
      expect.arrayContaining([
        [running.prompt_id, 'in_progress'],
        [pending.prompt_id, 'pending'],
      ]),
    );
    const waiting = (await getJson<Job>(emulator.url, `/api/jobs/${pending.prompt_id}`)).body;
    expect(Object.keys(waiting)).toEqual([
      'id',
      'status',
      'priority',
      'create_time',
      'outputs_count',
      'previewable_outputs_count',
      'workflow',
    ]);

    const cancelPending = await postJson(emulator.url, `/api/jobs/${pending.prompt_id}/cancel`, '');
    expect([cancelPending.status, cancelPending.body]).toEqual([200, { cancelled: true }]);
    expect((await getJson(emulator.url, `/api/jobs/${pending.prompt_id}`)).status).toBe(404);

    const cancelRunning = await postJson(emulator.url, `/api/jobs/${running.prompt_id}/cancel`, '');
    expect(cancelRunning.body).toEqual({ cancelled: true });
    const cancelled = await waitForJob(emulator.url, running.prompt_id);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled).not.toHaveProperty('execution_error');

    expect((await postJson(emulator.url, `/api/jobs/${running.prompt_id}/cancel`, '')).body).toEqual({
      cancelled: false,
    });
    expect((await postJson(emulator.url, `/api/jobs/${UNKNOWN_ID}/cancel`, '')).body).toEqual({ cancelled: false });
    expect((await postJson(emulator.url, '/api/jobs/whatever/cancel', '')).body).toEqual({ cancelled: false });
  });

  it('cancels in a batch: true when any was cancelled, unknown ids are no-ops', async () => {
    emulator.faults.stepMs = 100;
    const running = await queuePrompt(emulator.url, { client_id: 'jobs-test', prompt: textToImageGraph(3, 200) });
    await waitForJob(emulator.url, running.prompt_id, new Set(['in_progress']));
    const answer = await postJson(emulator.url, '/api/jobs/cancel', { job_ids: [UNKNOWN_ID, running.prompt_id] });
    expect([answer.status, answer.body]).toEqual([200, { cancelled: true }]);
    expect((await waitForJob(emulator.url, running.prompt_id)).status).toBe('cancelled');
    expect((await postJson(emulator.url, '/api/jobs/cancel', { job_ids: [] })).body).toEqual({ cancelled: false });
    expect((await postJson(emulator.url, '/api/jobs/cancel', { job_ids: [UNKNOWN_ID] })).body).toEqual({
      cancelled: false,
    });
  });

  it('refuses a bad batch body with the documented errors, cancelling nothing', async () => {
    const cases: Array<[unknown, unknown]> = [
      ['{nope', { error: 'Request body must be valid JSON' }],
      [{ job_ids: 'abc' }, { error: 'job_ids must be a list' }],
      [{}, { error: 'job_ids must be a list' }],
      [
        { job_ids: ['ABC', 123, null, UNKNOWN_ID] },
        { error: 'job_ids contains invalid id(s)', invalid_ids: ['ABC', '123', 'None'] },
      ],
    ];
    for (const [body, expected] of cases) {
      const answer = await postJson(emulator.url, '/api/jobs/cancel', body);
      expect([answer.status, answer.body]).toEqual([400, expected]);
    }
  });

  it('filters, sorts and pages the list, with has_more', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1)
      ids.push((await runToEnd({ prompt: basicGraph(index, `page${index}`) })).id);
    const all = (await getJson<JobList>(emulator.url, '/api/jobs?status=completed&sort_order=asc')).body;
    const order = all.jobs.map((job) => job.id).filter((id) => ids.includes(id));
    expect(order).toEqual(ids);
    const times = all.jobs.map((job) => job['create_time'] as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const total = all.pagination['total'] as number;
    const page = (
      await getJson<JobList>(emulator.url, `/api/jobs?status=completed&sort_order=asc&limit=2&offset=${total - 3}`)
    ).body;
    expect(page.jobs.map((job) => job.id)).toEqual(ids.slice(0, 2));
    expect(page.pagination).toEqual({ offset: total - 3, limit: 2, total, has_more: true });
    const last = (await getJson<JobList>(emulator.url, `/api/jobs?status=completed&sort_order=asc&offset=${total - 1}`))
      .body;
    expect(last.jobs.map((job) => job.id)).toEqual([ids[2]]);
    expect(last.pagination).toEqual({ offset: total - 1, limit: null, total, has_more: false });
    const negative = (await getJson<JobList>(emulator.url, '/api/jobs?offset=-5&limit=1')).body;
    expect(negative.pagination).toMatchObject({ offset: 0, limit: 1 });

    const newest = (await getJson<JobList>(emulator.url, '/api/jobs?status=completed&limit=1')).body;
    expect(newest.jobs.map((job) => job.id)).toEqual([ids[2]]);
    expect(newest.jobs[0]).not.toHaveProperty('outputs');
    expect(newest.jobs[0]).not.toHaveProperty('workflow');
    const byDuration = (await getJson<JobList>(emulator.url, '/api/jobs?sort_by=EXECUTION_DURATION')).body;
    const durations = byDuration.jobs.map((job) =>
      typeof job['execution_end_time'] === 'number'
        ? (job['execution_end_time'] as number) - (job['execution_start_time'] as number)
        : 0,
    );
    expect(durations).toEqual([...durations].sort((a, b) => b - a));
    expect(byDuration.pagination['total']).toBeGreaterThan(total);
    const byWorkflow = (await getJson<JobList>(emulator.url, '/api/jobs?workflow_id=none-such')).body;
    expect(byWorkflow).toEqual({ jobs: [], pagination: { offset: 0, limit: null, total: 0, has_more: false } });
  });

  it('refuses bad list parameters with the documented 400 bodies', async () => {
    const cases: Array<[string, string]> = [
      [
        'status=done,completed',
        'Invalid status value(s): done. Valid values: pending, in_progress, completed, failed, cancelled',
      ],
      ['sort_by=create_time', "sort_by must be 'created_at' or 'execution_duration'"],
      ['sort_order=up', "sort_order must be 'asc' or 'desc'"],
      ['limit=0', 'limit must be a positive integer'],
      ['limit=-3', 'limit must be a positive integer'],
      ['limit=ten', 'limit must be an integer'],
      ['offset=1.5', 'offset must be an integer'],
    ];
    for (const [query, error] of cases) {
      const answer = await getJson(emulator.url, `/api/jobs?${query}`);
      expect([query, answer.status, answer.body]).toEqual([query, 400, { error }]);
    }
  });
});
