import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebRig, WEBHOOK_SECRET, type WebRig } from './harness.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './webhook-receiver.js';

let receiver: WebhookReceiver;
let receiverUrl: string;
let received: ReceivedWebhook[];
/** The statuses the receiver answers with, in turn; 200 once they run out. */
let answers: number[] = [];
let rig: WebRig;

beforeAll(async () => {
  receiver = await startWebhookReceiver((response) => response.writeHead(answers.shift() ?? 200).end());
  ({ url: receiverUrl, received } = receiver);
  rig = await startWebRig({
    env: {
      WEB_WEBHOOK_SECRET: WEBHOOK_SECRET,
      WEB_WEBHOOK_ALLOW: `${receiverUrl}/hooks/`,
      WEB_WEBHOOK_PRIVATE_NETWORKS: '127.0.0.1',
    },
  });
});

afterAll(async () => {
  await rig?.close();
  await receiver?.close();
});

/** The Standard Webhooks check, written from the specification (not from the server's code). */
function verify(message: ReceivedWebhook): boolean {
  const id = String(message.headers['webhook-id']);
  const timestamp = String(message.headers['webhook-timestamp']);
  const key = Buffer.from(WEBHOOK_SECRET.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${message.body}`).digest('base64');
  const signatures = String(message.headers['webhook-signature']).split(' ');
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
  return fresh && signatures.includes(`v1,${expected}`);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('webhooks', () => {
  it('posts the finished generation, signed so that a receiver can verify it', async () => {
    received.length = 0;
    const created = await rig.api('POST', '/v1/generations', {
      json: { prompt: 'a hooked fox --steps 2', webhook: `${receiverUrl}/hooks/done` },
    });
    expect(created.status).toBe(201);
    await until(() => received.length === 1, 'the webhook');
    const [message] = received;
    expect(verify(message!)).toBe(true);
    expect(message!.headers['webhook-id']).toBe(`msg_${created.body.id}`);
    const payload = JSON.parse(message!.body);
    expect(payload.type).toBe('generation.succeeded');
    expect(payload.data.id).toBe(created.body.id);
    expect(payload.data.status).toBe('succeeded');
    // Absolute URLs: the receiver can fetch the image with no key.
    const image = await fetch(payload.data.outputs[0].url);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');

    const tampered = { ...message!, body: message!.body.replace('succeeded', 'failed') };
    expect(verify(tampered)).toBe(false);
  });

  it('retries a receiver that fails, with the same message id, until it answers 2xx', async () => {
    received.length = 0;
    answers = [500, 503];
    const created = await rig.api('POST', '/v1/generations', {
      json: { prompt: 'a retried hook --steps 2', webhook: `${receiverUrl}/hooks/flaky` },
    });
    await until(() => received.length === 3, 'three tries');
    expect(new Set(received.map((message) => message.headers['webhook-id']))).toEqual(
      new Set([`msg_${created.body.id}`]),
    );
    expect(received.every(verify)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received).toHaveLength(3);
  });

  it('keeps an unsent webhook across a restart and sends it after', async () => {
    received.length = 0;
    answers = [503, 503, 503, 503];
    const created = await rig.api('POST', '/v1/generations', {
      json: { prompt: 'a hook across a restart --steps 2', webhook: `${receiverUrl}/hooks/later` },
    });
    await until(() => received.length >= 1, 'the first try');
    await rig.stopApp();
    answers = [];
    const before = received.length;
    await rig.startApp();
    await until(
      () => received.length > before && received.at(-1)!.headers['webhook-id'] === `msg_${created.body.id}`,
      'the try after the restart',
    );
    expect(verify(received.at(-1)!)).toBe(true);
    expect(JSON.parse(received.at(-1)!.body).data.status).toBe('succeeded');
  });

  it('refuses a webhook outside the allow-list, and the loopback too unless listed', async () => {
    for (const url of ['https://evil.example.com/hook', 'http://127.0.0.1:9/elsewhere', `${receiverUrl}/other/`]) {
      const answer = await rig.api('POST', '/v1/generations', { json: { prompt: 'a fox', webhook: url } });
      expect(answer.status).toBe(422);
      expect(answer.body.code).toBe('webhook-refused');
      expect(answer.body.detail).toMatch(
        /^Webhooks may not be sent to .*; the operator allows only the hosts listed in WEB_WEBHOOK_ALLOW\.$/,
      );
    }
  });
});
