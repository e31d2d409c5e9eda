/**
 * `POST /v1/uploads`: an image uploaded once and used later, by its id, as a generation's input image. Checked like
 * every input image, owned by the key that uploaded it, kept as long as input images are.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, startWebRig, waitFor, type WebRig } from './harness.js';

let rig: WebRig;

beforeAll(async () => {
  rig = await startWebRig({
    env: { MAX_JOBS_PER_MEMBER: '10', MAX_ATTACHMENT_MB: '1', MAX_IMAGE_MEGAPIXELS: '1', INPUT_RETENTION_HOURS: '6' },
  });
});

afterAll(async () => {
  await rig?.close();
});

const ended = (generation: { status: string }) => ['succeeded', 'failed', 'cancelled'].includes(generation.status);

async function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 90, b: 20 } } })
    .png()
    .toBuffer();
}

function upload(bytes: Buffer | string, name: string, field = 'file', type = 'image/png'): FormData {
  const form = new FormData();
  form.set(field, new Blob([bytes], { type }), name);
  return form;
}

describe('POST /v1/uploads', () => {
  it('keeps an image and describes it, with its id, URL and when it expires', async () => {
    const bytes = await png(64, 48);
    const answer = await rig.api('POST', '/v1/uploads', { body: upload(bytes, 'fox.png') });
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      url: `/v1/uploads/${answer.body.id}`,
      filename: 'fox.png',
      content_type: 'image/png',
      size: bytes.length,
      width: 64,
      height: 48,
    });
    expect(answer.body.id).toMatch(/^upl_[\w-]{16}$/);
    expect(answer.headers.get('location')).toBe(answer.body.url);
    // Kept as long as input images are: INPUT_RETENTION_HOURS.
    const kept = Date.parse(answer.body.expires_at) - Date.parse(answer.body.created_at);
    expect(kept).toBe(6 * 3600 * 1000);

    const again = await rig.api('GET', answer.body.url);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(answer.body);
  });

  it('reads a multipart body whose boundary mixes cases, as browsers write it', async () => {
    const boundary = '----WebKitFormBoundaryQx7AbCdEfGh';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.png"\r\n`),
      Buffer.from('Content-Type: image/png\r\n\r\n'),
      await png(16, 16),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const answer = await fetch(`${rig.url}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ALICE}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    expect(answer.status).toBe(201);
    expect(await answer.json()).toMatchObject({ filename: 'b.png', width: 16, height: 16 });
  });

  it('starts image-to-image from an upload named by its id', async () => {
    const bytes = await png(96, 96);
    const uploaded = await rig.api('POST', '/v1/uploads', { body: upload(bytes, 'start.png') });
    const before = rig.emulator.received.length;
    const created = await rig.api('POST', '/v1/generations', {
      json: { prompt: 'the same, at dusk --steps 2', denoise: 0.6, image: { upload: uploaded.body.id } },
    });
    expect(created.status).toBe(201);
    const done = await waitFor(rig, created.body.id, ended, 'the generation from the upload');
    expect(done.status).toBe('succeeded');
    expect(done.workflow).toBe('img2img');
    expect(done.settings.denoise).toBe(0.6);
    // ComfyUI loaded the very bytes uploaded.
    const [prompt] = rig.emulator.received.slice(before);
    const load = Object.values(prompt!.prompt).find(
      (node) => (node as { class_type: string }).class_type === 'LoadImage',
    ) as { inputs: { image: string } };
    const [subfolder, filename] = load.inputs.image.split('/');
    const view = await fetch(`${rig.emulator.url}/view?filename=${filename}&subfolder=${subfolder}&type=input`);
    expect(view.status).toBe(200);
    expect(Buffer.from(await view.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('is owned by the key that uploaded it: another key can neither read nor use it', async () => {
    const uploaded = await rig.api('POST', '/v1/uploads', { body: upload(await png(32, 32), 'mine.png') });
    const read = await rig.api('GET', uploaded.body.url, { key: BOB });
    expect(read.status).toBe(404);
    expect(read.body.code).toBe('upload-unknown');
    const used = await rig.api('POST', '/v1/generations', {
      key: BOB,
      json: { prompt: 'borrowed', image: { upload: uploaded.body.id } },
    });
    expect(used.status).toBe(422);
    expect(used.body.code).toBe('upload-unknown');
    expect(used.body.detail).toBe(
      `There is no upload ${uploaded.body.id} among yours; uploads are kept 6 hours, then upload again.`,
    );
  });

  it('says so when the upload is no longer kept', async () => {
    const bytes = await png(40, 40);
    const uploaded = await rig.api('POST', '/v1/uploads', { body: upload(bytes, 'gone.png') });
    for (const file of await readdir(path.join(rig.dataDir, 'inputs'))) {
      await rm(path.join(rig.dataDir, 'inputs', file));
    }
    const used = await rig.api('POST', '/v1/generations', {
      json: { prompt: 'too late', image: { upload: uploaded.body.id } },
    });
    expect(used.status).toBe(422);
    expect(used.body.code).toBe('upload-expired');
    expect(used.body.detail).toBe(`The upload ${uploaded.body.id} is no longer kept; upload the image again.`);
  });

  it('refuses what is not an image, too many pixels, too many bytes, and a body without the file', async () => {
    const text = await rig.api('POST', '/v1/uploads', { body: upload('just text', 'notes.txt', 'file', 'text/plain') });
    expect(text.status).toBe(422);
    expect(text.body.code).toBe('attachment-not-image');
    expect(text.body.detail).toBe('notes.txt is not an image I can read; attach a PNG, JPEG or WebP picture.');

    const huge = await rig.api('POST', '/v1/uploads', { body: upload(await png(1200, 1000), 'huge.png') });
    expect(huge.status).toBe(422);
    expect(huge.body.code).toBe('attachment-too-many-pixels');
    expect(huge.body.detail).toMatch(/^huge\.png is 1200×1000 pixels, more than the 1 megapixels/);

    const heavy = await rig.api('POST', '/v1/uploads', { body: upload(Buffer.alloc(1024 * 1024 + 10), 'heavy.png') });
    expect(heavy.status).toBe(413);
    expect(heavy.body.code).toBe('upload-too-large');
    expect(heavy.body.detail).toBe('heavy.png is larger than 1 MiB; upload a smaller image.');

    const wrongField = await rig.api('POST', '/v1/uploads', { body: upload(await png(8, 8), 'a.png', 'image') });
    expect(wrongField.status).toBe(422);
    expect(wrongField.body.detail).toBe('Send one image file in a field named file, and nothing else.');

    const badId = await rig.api('POST', '/v1/generations', { json: { prompt: 'a fox', image: { upload: 'x' } } });
    expect(badId.status).toBe(422);
    expect(badId.body.detail).toBe(
      'Image.upload must be an id POST /v1/uploads answered, such as upl_3Jb9xQ2mT0aL5vZk.',
    );

    const json = await rig.api('POST', '/v1/uploads', { json: { file: 'a.png' } });
    expect(json.status).toBe(415);
    expect(json.type).toBe('application/problem+json');
  });

  it('is in the OpenAPI document, and generations accept an upload as their image', async () => {
    const document = (await rig.api('GET', '/v1/openapi.json')).body;
    expect(Object.keys(document.paths['/v1/uploads'])).toEqual(['post']);
    expect(document.paths['/v1/uploads'].post.responses['201'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Upload',
    });
    expect(document.components.schemas.Upload.required).toEqual(
      expect.arrayContaining(['id', 'url', 'content_type', 'size', 'width', 'height', 'expires_at']),
    );
    const image = document.components.schemas.CreateGeneration.properties.image;
    const branches = JSON.stringify(image);
    expect(branches).toContain('"upload"');
    expect(branches).toContain('"generation"');
  });
});
