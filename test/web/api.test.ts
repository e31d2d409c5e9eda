import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOB, readEvents, startWebRig, waitFor, type WebRig } from './harness.js';

let rig: WebRig;

beforeAll(async () => {
  rig = await startWebRig({ env: { MAX_JOBS_PER_MEMBER: '10', MAX_PROMPT_LENGTH: '200' } });
});

afterAll(async () => {
  await rig?.close();
});

const ended = (generation: { status: string }) => ['succeeded', 'failed', 'cancelled'].includes(generation.status);

describe('POST /v1/generations', () => {
  it('answers 201 at once with the id, status and URLs, and the generation succeeds with downloadable outputs', async () => {
    const answer = await rig.api('POST', '/v1/generations', { json: { prompt: 'a red fox --steps 3 --seed 42' } });
    expect(answer.status).toBe(201);
    expect(answer.headers.get('location')).toBe(`/v1/generations/${answer.body.id}`);
    expect(['queued', 'running']).toContain(answer.body.status);
    expect(answer.body.urls).toEqual({
      self: `/v1/generations/${answer.body.id}`,
      events: `/v1/generations/${answer.body.id}/events`,
      cancel: `/v1/generations/${answer.body.id}/cancel`,
      refine: `/v1/generations/${answer.body.id}/refine`,
    });

    const done = await waitFor(rig, answer.body.id, ended, 'the generation to end');
    expect(done.status).toBe('succeeded');
    expect(done.settings).toMatchObject({ prompt: 'a red fox', seed: 42, steps: 3, workflow: 'txt2img' });
    expect(done.outputs).toHaveLength(1);
    const [output] = done.outputs;
    expect(output.content_type).toBe('image/png');
    // The file URL is a capability: no key needed, so <img> tags and webhook receivers can fetch it.
    const file = await fetch(`${rig.url}${output.url}`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await file.arrayBuffer());
    expect(bytes.length).toBe(output.size);
    expect((await sharp(bytes).metadata()).format).toBe('png');
    const forged = await fetch(`${rig.url}${output.url.replace(/\/[\w-]{32}\//, `/${'A'.repeat(32)}/`)}`);
    expect(forged.status).toBe(404);
  });

  it('takes settings as fields as well as flags, and refuses one given both ways with a sentence', async () => {
    const answer = await rig.api('POST', '/v1/generations', {
      json: { prompt: 'a lighthouse', steps: 2, aspect: '16:9', negative: 'fog', count: 2 },
    });
    expect(answer.status).toBe(201);
    const done = await waitFor(rig, answer.body.id, ended, 'the generation to end');
    expect(done.settings).toMatchObject({ aspect: '16:9', negative: 'fog', count: 2, steps: 2 });
    expect(done.outputs).toHaveLength(2);

    const twice = await rig.api('POST', '/v1/generations', { json: { prompt: 'a fox --seed 1', seed: 2 } });
    expect(twice.status).toBe(422);
    expect(twice.body.code).toBe('setting-twice');
    expect(twice.body.detail).toBe('You set seed both as an option and as a flag; keep one.');
  });

  it('returns the same generation for a retry with the same Idempotency-Key, and refuses the key for another body', async () => {
    const before = rig.emulator.received.length;
    const headers = { 'idempotency-key': 'retry-me-1' };
    const first = await rig.api('POST', '/v1/generations', { json: { prompt: 'a retried fox --steps 2' }, headers });
    const again = await rig.api('POST', '/v1/generations', { json: { prompt: 'a retried fox --steps 2' }, headers });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');

    const other = await rig.api('POST', '/v1/generations', { json: { prompt: 'another fox' }, headers });
    expect(other.status).toBe(422);
    expect(other.type).toBe('application/problem+json');
    expect(other.body.code).toBe('idempotency-key-reused');

    // Bob's key is his own: the same Idempotency-Key makes his own generation.
    const bobs = await rig.api('POST', '/v1/generations', {
      json: { prompt: 'a retried fox --steps 2' },
      headers,
      key: BOB,
    });
    expect(bobs.status).toBe(201);
    expect(bobs.body.id).not.toBe(first.body.id);

    await waitFor(rig, first.body.id, ended, 'the first generation');
    await waitFor(rig, bobs.body.id, ended, 'Bob’s generation', 20_000, BOB);
    expect(rig.emulator.received.length - before).toBe(2);
  });

  it('does image-to-image from an uploaded image (multipart) and from an earlier output', async () => {
    const source = await rig.api('POST', '/v1/generations', { json: { prompt: 'a source --steps 2' } });
    const made = await waitFor(rig, source.body.id, ended, 'the source');
    const png = Buffer.from(await (await fetch(`${rig.url}${made.outputs[0].url}`)).arrayBuffer());

    const form = new FormData();
    form.set('prompt', 'the same, at night --steps 2');
    form.set('denoise', '0.5');
    form.set('image', new Blob([png], { type: 'image/png' }), 'source.png');
    const uploaded = await rig.api('POST', '/v1/generations', { body: form });
    expect(uploaded.status).toBe(201);
    const fromUpload = await waitFor(rig, uploaded.body.id, ended, 'the upload generation');
    expect(fromUpload.status).toBe('succeeded');
    expect(fromUpload.workflow).toBe('img2img');
    expect(fromUpload.settings.denoise).toBe(0.5);

    const referenced = await rig.api('POST', '/v1/generations', {
      json: { prompt: 'again from the output --steps 2', image: { generation: source.body.id, output: 0 } },
    });
    expect(referenced.status).toBe(201);
    expect((await waitFor(rig, referenced.body.id, ended, 'the referenced generation')).status).toBe('succeeded');

    const notImage = new FormData();
    notImage.set('prompt', 'a fox');
    notImage.set('image', new Blob(['just text'], { type: 'text/plain' }), 'notes.txt');
    const refused = await rig.api('POST', '/v1/generations', { body: notImage });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('attachment-not-image');
    expect(refused.body.detail).toBe('notes.txt is not an image I can read; attach a PNG, JPEG or WebP picture.');
  });
});

describe('GET /v1/generations/{id}/events', () => {
  it('streams status, queue position, progress and the end, then closes', async () => {
    const answer = await rig.api('POST', '/v1/generations', { json: { prompt: 'a streamed fox --steps 8' } });
    const events = await readEvents(`${rig.url}${answer.body.urls.events}`);
    const names = events.map((event) => event.event);
    expect(names[0]).toBe('status');
    expect(names).toContain('progress');
    expect(names.at(-1)).toBe('end');
    const progress = events.filter((event) => event.event === 'progress').map((event) => event.data);
    expect(progress.at(-1)).toMatchObject({ value: 8, max: 8, percent: 100 });
    const end = events.at(-1)!.data;
    expect(end.status).toBe('succeeded');
    expect(end.outputs).toHaveLength(1);
    // Event ids are this process's hub and a rising number, so a client can resume with Last-Event-ID.
    const ids = events.map((event) => /^([0-9a-f]+)-(\d+)$/.exec(event.id ?? '')).map((match) => match!);
    expect(new Set(ids.map((match) => match[1])).size).toBe(1);
    const numbers = ids.map((match) => Number(match[2])).filter((n) => n > 0);
    expect(numbers.length).toBeGreaterThan(2);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  });

  it('answers a stream of a finished generation with its end at once', async () => {
    const answer = await rig.api('POST', '/v1/generations', { json: { prompt: 'a finished fox --steps 2' } });
    await waitFor(rig, answer.body.id, ended, 'the end');
    const events = await readEvents(`${rig.url}${answer.body.urls.events}`);
    expect(events.map((event) => event.event)).toEqual(['end']);
    expect(events[0]!.data.status).toBe('succeeded');
  });
});

describe('refining', () => {
  it('follows the thread grammar: + appends, flags change just those, again rerolls, text replaces', async () => {
    const first = await rig.api('POST', '/v1/generations', { json: { prompt: 'a cat --steps 2 --seed 5' } });
    await waitFor(rig, first.body.id, ended, 'the first');

    const appended = await rig.api('POST', `/v1/generations/${first.body.id}/refine`, {
      json: { text: '+ in the rain --seed 7' },
    });
    expect(appended.status).toBe(201);
    expect(appended.body.parent_id).toBe(first.body.id);
    const rained = await waitFor(rig, appended.body.id, ended, 'the refine');
    expect(rained.status).toBe('succeeded');
    expect(rained.settings).toMatchObject({ prompt: 'a cat in the rain', seed: 7, steps: 2 });

    const again = await rig.api('POST', `/v1/generations/${appended.body.id}/refine`, { json: { text: 'again' } });
    const rerolled = await waitFor(rig, again.body.id, ended, 'the reroll');
    expect(rerolled.settings.prompt).toBe('a cat in the rain');
    expect(rerolled.settings.seed).not.toBe(7);

    const replaced = await rig.api('POST', `/v1/generations/${first.body.id}/refine`, { json: { text: 'a dog' } });
    const dog = await waitFor(rig, replaced.body.id, ended, 'the replacement');
    expect(dog.settings).toMatchObject({ prompt: 'a dog', seed: 5, steps: 2 });

    const upscaled = await rig.api('POST', `/v1/generations/${first.body.id}/refine`, { json: { action: 'upscale' } });
    expect(upscaled.status).toBe(201);
    const big = await waitFor(rig, upscaled.body.id, ended, 'the upscale');
    expect(big.status).toBe('succeeded');
    expect(big.workflow).toMatch(/upscale/);

    const bad = await rig.api('POST', `/v1/generations/${first.body.id}/refine`, { json: { text: '--sed 3' } });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('bad-flag');
    expect(bad.body.detail).toMatch(/^--sed is not a flag I know; use one of --ar/);
  });
});

describe('cancelling', () => {
  it('cancels a queued generation and a running one; a finished one answers 409', async () => {
    rig.emulator.faults.stepMs = 100;
    try {
      const running = await rig.api('POST', '/v1/generations', { json: { prompt: 'a long one --steps 60' } });
      const second = await rig.api('POST', '/v1/generations', { json: { prompt: 'a second --steps 60' } });
      const waiting = await rig.api('POST', '/v1/generations', { json: { prompt: 'a waiting one --steps 60' } });
      await waitFor(rig, running.body.id, (generation) => generation.status === 'running', 'the first to run');
      const queued = await waitFor(rig, waiting.body.id, (generation) => generation.status === 'queued', 'a queue');
      expect(queued.position).toBe(1);

      const cancelQueued = await rig.api('POST', `/v1/generations/${waiting.body.id}/cancel`);
      expect(cancelQueued.status).toBe(202);
      expect((await waitFor(rig, waiting.body.id, ended, 'the queued one to end')).status).toBe('cancelled');

      const cancelRunning = await rig.api('POST', `/v1/generations/${running.body.id}/cancel`);
      expect(cancelRunning.status).toBe(202);
      expect((await waitFor(rig, running.body.id, ended, 'the running one to end')).status).toBe('cancelled');
      await rig.api('POST', `/v1/generations/${second.body.id}/cancel`);
      await waitFor(rig, second.body.id, ended, 'the second to end');

      const late = await rig.api('POST', `/v1/generations/${running.body.id}/cancel`);
      expect(late.status).toBe(409);
      expect(late.body.detail).toBe('This generation has already cancelled.');
    } finally {
      rig.emulator.faults.stepMs = 2;
    }
  });
});

describe('history, workflows and the document', () => {
  it('lists the caller’s generations newest first, and nobody else’s', async () => {
    const mine = await rig.api('POST', '/v1/generations', { json: { prompt: 'for the history --steps 2' } });
    const list = await rig.api('GET', '/v1/generations?limit=2');
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(2);
    expect(list.body.data[0].id).toBe(mine.body.id);
    expect(list.body.total).toBeGreaterThan(2);
    expect(list.body.page_count).toBe(Math.ceil(list.body.total / 2));
    const bobs = await rig.api('GET', '/v1/generations?limit=100', { key: BOB });
    expect(bobs.body.data.map((generation: { id: string }) => generation.id)).not.toContain(mine.body.id);
    const stranger = await rig.api('GET', `/v1/generations/${mine.body.id}`, { key: BOB });
    expect(stranger.status).toBe(404);
    expect(stranger.body.code).toBe('generation-unknown');
  });

  it('lists the workflows with the settings each accepts and their ranges', async () => {
    const answer = await rig.api('GET', '/v1/workflows');
    expect(answer.status).toBe(200);
    const txt2img = answer.body.data.find((workflow: { name: string }) => workflow.name === 'txt2img');
    expect(txt2img.kind).toBe('text-to-image');
    const steps = txt2img.settings.find((setting: { name: string }) => setting.name === 'steps');
    expect(steps).toMatchObject({ required: false, min: expect.any(Number), max: expect.any(Number) });
  });

  it('serves an OpenAPI 3.1 document generated from the request schemas', async () => {
    const answer = await rig.api('GET', '/v1/openapi.json', { key: null });
    expect(answer.status).toBe(200);
    expect(answer.body.openapi).toBe('3.1.0');
    const create = answer.body.components.schemas.CreateGeneration;
    expect(create.required).toEqual(['prompt']);
    expect(create.additionalProperties).toBe(false);
    expect(create.properties.count).toMatchObject({ type: 'integer', minimum: 1, maximum: 4 });
    expect(Object.keys(answer.body.paths)).toContain('/v1/generations/{id}/refine');
  });
});

describe('bad input', () => {
  const cases: [
    string,
    () => Promise<{ status: number; type: string | null; body: Record<string, unknown> }>,
    number,
    string,
  ][] = [
    ['no key', () => rig.api('GET', '/v1/generations', { key: null }), 401, 'unauthorized'],
    ['a wrong key', () => rig.api('GET', '/v1/generations', { key: 'not-a-key-at-all-000000' }), 401, 'unauthorized'],
    [
      'an unknown field',
      () => rig.api('POST', '/v1/generations', { json: { prompt: 'x', colour: 'red' } }),
      422,
      'invalid-request',
    ],
    [
      'a wrong type',
      () => rig.api('POST', '/v1/generations', { json: { prompt: 'x', count: 'four' } }),
      422,
      'invalid-request',
    ],
    [
      'a count out of range',
      () => rig.api('POST', '/v1/generations', { json: { prompt: 'x', count: 9 } }),
      422,
      'invalid-request',
    ],
    ['a bad flag', () => rig.api('POST', '/v1/generations', { json: { prompt: 'a fox --ar wide' } }), 422, 'bad-flag'],
    [
      'an unknown workflow',
      () => rig.api('POST', '/v1/generations', { json: { prompt: 'x', workflow: 'nope' } }),
      422,
      'unknown-workflow',
    ],
    [
      'a prompt too long',
      () => rig.api('POST', '/v1/generations', { json: { prompt: 'x'.repeat(201) } }),
      422,
      'prompt-too-long',
    ],
    [
      'a webhook nobody allowed',
      () => rig.api('POST', '/v1/generations', { json: { prompt: 'x', webhook: 'http://169.254.169.254/latest' } }),
      422,
      'webhooks-disabled',
    ],
    [
      'broken JSON',
      () => rig.api('POST', '/v1/generations', { body: '{"prompt":', headers: { 'content-type': 'application/json' } }),
      400,
      'invalid-json',
    ],
    [
      'plain text',
      () => rig.api('POST', '/v1/generations', { body: 'a fox', headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported-media-type',
    ],
    ['an unknown generation', () => rig.api('GET', '/v1/generations/doesnotexist'), 404, 'generation-unknown'],
    ['an unknown route', () => rig.api('GET', '/v1/nothing-here'), 404, 'not-found'],
    ['a wrong method', () => rig.api('DELETE', '/v1/generations'), 405, 'method-not-allowed'],
    [
      'an empty refine',
      () => rig.api('POST', '/v1/generations/doesnotexist/refine', { json: { text: '' } }),
      404,
      'generation-unknown',
    ],
  ];
  it.each(cases)('answers %s with a problem+json and one sentence', async (_what, call, status, code) => {
    const answer = await call();
    expect(answer.status).toBe(status);
    expect(answer.type).toBe('application/problem+json');
    expect(answer.body).toMatchObject({ status, code, type: 'about:blank' });
    expect(answer.body['detail']).toMatch(/^[A-Z0-9-].*[.!]$/);
    expect(String(answer.body['detail']).split(/\.\s/).length).toBe(1);
    expect(String(answer.body['detail'])).not.toMatch(/127\.0\.0\.1|\/tmp|at .*\.ts/);
  });
});
