/**
 * WEB_PUBLIC_URL: behind a proxy, callers reach the web face at another address than the one it listens on. Answers,
 * event streams, webhooks and the OpenAPI document then carry absolute URLs under that address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEvents, startWebRig, waitFor, WEBHOOK_SECRET, type WebRig } from './harness.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

const PUBLIC = 'https://images.example.org/comfy';

let rig: WebRig;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  rig = await startWebRig({
    env: {
      WEB_PUBLIC_URL: `${PUBLIC}/`,
      WEB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      WEB_WEBHOOK_ALLOW: `${receiver.url}/hooks/`,
      WEB_WEBHOOK_PRIVATE_NETWORKS: '127.0.0.1',
    },
  });
});

afterAll(async () => {
  await rig?.close();
  await receiver?.close();
});

const ended = (generation: { status: string }) => ['succeeded', 'failed', 'cancelled'].includes(generation.status);

describe('WEB_PUBLIC_URL', () => {
  it('makes every URL in answers, event streams and webhooks absolute under the public address', async () => {
    const created = await rig.api('POST', '/v1/generations', {
      json: { prompt: 'a fox behind a proxy --steps 2', webhook: `${receiver.url}/hooks/public` },
    });
    expect(created.status).toBe(201);
    const self = `${PUBLIC}/v1/generations/${created.body.id}`;
    expect(created.headers.get('location')).toBe(self);
    expect(created.body.urls).toEqual({
      self,
      events: `${self}/events`,
      cancel: `${self}/cancel`,
      refine: `${self}/refine`,
    });

    const events = await readEvents(`${rig.url}/v1/generations/${created.body.id}/events`);
    const end = events.find((event) => event.event === 'end');
    expect(end?.data.outputs[0].url).toMatch(new RegExp(`^${PUBLIC}/v1/files/${created.body.id}/0/`));

    const done = await waitFor(rig, created.body.id, ended, 'the generation to end');
    expect(done.outputs[0].url.startsWith(`${PUBLIC}/v1/files/`)).toBe(true);
    // The path under the public address is the one the endpoint serves.
    expect((await fetch(rig.url + done.outputs[0].url.slice(PUBLIC.length))).status).toBe(200);

    const deadline = Date.now() + 20_000;
    while (receiver.received.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const payload = JSON.parse(receiver.received[0]!.body);
    expect(payload.data.urls.self).toBe(self);
    expect(payload.data.outputs[0].url).toBe(done.outputs[0].url);
  });

  it('names the public address as the server of the OpenAPI document', async () => {
    const document = await rig.api('GET', '/v1/openapi.json');
    expect(document.body.servers).toEqual([{ url: PUBLIC }]);
  });

  it('leaves answers relative when unset (the other suites check the relative form)', async () => {
    const { loadConfig } = await import('../../src/config.js');
    expect(loadConfig({}).web.publicUrl).toBeUndefined();
    expect(loadConfig({ WEB_PUBLIC_URL: 'https://a.example/x//' }).web.publicUrl).toBe('https://a.example/x');
    expect(() => loadConfig({ WEB_PUBLIC_URL: 'ftp://a.example' })).toThrow(/WEB_PUBLIC_URL must be an http/);
  });
});
