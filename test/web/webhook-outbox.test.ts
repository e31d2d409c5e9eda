/**
 * The webhook outbox shared by several processes on one store (a fleet): a message left by a process that stopped is
 * sent by another, and a message two processes both have scheduled is sent once (each try is leased in the store).
 * Two senders on one store stand for two processes here (leased as on Redis); test/jobs/fleet-web.test.ts kills a
 * real process.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { openStore, type Store } from '../../src/store/index.js';
import { AddressGuard } from '../../src/web/webhook-addresses.js';
import { webhookPolicy } from '../../src/web/webhook-policy.js';
import { WebhookSender } from '../../src/web/webhooks.js';
import { WEBHOOK_SECRET } from './harness.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

let dir: string;
let store: Store;
let receiver: WebhookReceiver;
let answers: number[] = [];
const senders: WebhookSender[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'comfycord-outbox-'));
  store = await openStore(`sqlite://${path.join(dir, 'store.sqlite')}`, silentLogger());
  // Each answer takes a moment, so two processes' tries of one message would overlap were they both to send.
  receiver = await startWebhookReceiver((response) => {
    const status = answers.shift() ?? 200;
    setTimeout(() => response.writeHead(status).end(), 100);
  });
});

afterEach(async () => {
  await Promise.all(senders.splice(0).map((sender) => sender.stop()));
});

afterAll(async () => {
  await receiver?.close();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A sender as one process of the fleet has it. */
function process(): WebhookSender {
  const guard = new AddressGuard(['127.0.0.1']);
  const sender = new WebhookSender({
    store,
    secret: WEBHOOK_SECRET,
    policy: webhookPolicy([`${receiver.url}/hooks/`], WEBHOOK_SECRET, guard),
    guard,
    logger: silentLogger(),
    backoffMs: [50, 50],
    // As on Redis, the store of a fleet.
    leased: true,
  });
  senders.push(sender);
  return sender;
}

const sent = (id: string) => receiver.received.filter(({ headers }) => headers['webhook-id'] === id);

async function untilSent(id: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await store.index('web-webhooks-pending').list('all')).includes(id) || sent(id).length === 0) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${id}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the webhook outbox of a fleet', () => {
  it('sends a message a stopped process left, from another process, once', async () => {
    const first = process();
    await first.enqueue('msg_left', `${receiver.url}/hooks/left`, { left: true });
    // Stopped before its first try (as if killed): the message waits in the store.
    await first.stop();
    expect(sent('msg_left')).toHaveLength(0);

    await process().resume();
    await untilSent('msg_left');
    expect(sent('msg_left')).toHaveLength(1);
  });

  it('sends a message two processes both have scheduled once, tries and retries included', async () => {
    // The first two tries fail, so both processes also hold it for its retries.
    answers = [500, 500];
    const [one, two] = [process(), process()];
    await one.enqueue('msg_both', `${receiver.url}/hooks/both`, { both: true });
    await two.resume();
    await untilSent('msg_both');
    // Every try under way has ended: nothing more can come.
    await Promise.all([one.stop(), two.stop()]);
    const tries = sent('msg_both');
    // The try, its two retries (the last received), and not one more.
    expect(tries).toHaveLength(3);
    expect(new Set(tries.map(({ body }) => body))).toEqual(new Set([JSON.stringify({ both: true })]));
  });
});
