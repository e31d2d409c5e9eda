/**
 * Webhooks go to addresses on the internet only: a listed host that resolves to this machine, the metadata address or
 * a private network is refused unless the operator listed that network in WEB_WEBHOOK_PRIVATE_NETWORKS, and the
 * connection goes to the address that was checked, whatever the name resolves to by then.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { openStore, type Store } from '../../src/store/index.js';
import { AddressGuard, type Resolve } from '../../src/web/webhook-addresses.js';
import { webhookPolicy } from '../../src/web/webhook-policy.js';
import { WebhookSender } from '../../src/web/webhooks.js';
import { startWebRig, WEBHOOK_SECRET, type WebRig } from './harness.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

let receiver: WebhookReceiver;
let port: number;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  port = receiver.port;
});

afterAll(async () => {
  await receiver?.close();
});

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('which addresses a webhook may reach', () => {
  const guard = new AddressGuard([]);

  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.100.100.200',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a9fe:a9fe',
  ])('refuses %s by default', (address) => {
    expect(guard.permits(address)).toBe(false);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    'lets %s through',
    (address) => {
      expect(guard.permits(address)).toBe(true);
    },
  );

  it('lets through exactly the private networks the operator listed', () => {
    const listed = new AddressGuard(['127.0.0.1', '10.1.0.0/16', 'fd12::/16']);
    expect(listed.permits('127.0.0.1')).toBe(true);
    expect(listed.permits('127.0.0.2')).toBe(false);
    expect(listed.permits('10.1.200.3')).toBe(true);
    expect(listed.permits('10.2.0.1')).toBe(false);
    expect(listed.permits('fd12:3::4')).toBe(true);
    expect(listed.permits('169.254.169.254')).toBe(false);
  });
});

describe('a webhook to a receiver on 127.0.0.1', () => {
  let rig: WebRig | undefined;

  afterAll(async () => {
    await rig?.close();
  });

  it('is refused by default, by its address and by a name that resolves to it, with a sentence', async () => {
    rig = await startWebRig({
      env: { WEB_WEBHOOK_SECRET: WEBHOOK_SECRET, WEB_WEBHOOK_ALLOW: `127.0.0.1:${port},localhost:${port}` },
    });
    for (const host of ['127.0.0.1', 'localhost']) {
      const answer = await rig.api('POST', '/v1/generations', {
        json: { prompt: 'a fox', webhook: `http://${host}:${port}/hook` },
      });
      expect(answer.status).toBe(422);
      expect(answer.body.code).toBe('webhook-refused');
      expect(answer.body.detail).toBe(
        `Webhooks may not be sent to ${host}:${port}: it resolves to a private address, and the operator allows ` +
          'those only in WEB_WEBHOOK_PRIVATE_NETWORKS.',
      );
    }
    await rig.close();
    rig = undefined;
  });

  it('is delivered when the operator lists 127.0.0.1 explicitly, by its address and by its name', async () => {
    rig = await startWebRig({
      env: {
        WEB_WEBHOOK_SECRET: WEBHOOK_SECRET,
        WEB_WEBHOOK_ALLOW: `127.0.0.1:${port},localhost:${port}`,
        WEB_WEBHOOK_PRIVATE_NETWORKS: '127.0.0.1',
      },
    });
    for (const host of ['127.0.0.1', 'localhost']) {
      const created = await rig.api('POST', '/v1/generations', {
        json: { prompt: `a fox for ${host} --steps 2`, webhook: `http://${host}:${port}/hook` },
      });
      expect(created.status).toBe(201);
      await until(
        () => receiver.received.some(({ headers }) => headers['webhook-id'] === `msg_${created.body.id}`),
        'the webhook',
      );
    }
  });
});

describe('the connection of a webhook', () => {
  let store: Store;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'comfycord-webhook-addresses-'));
    store = await openStore(`sqlite://${path.join(dir, 'store.sqlite')}`, silentLogger());
  });

  afterAll(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A name that resolves to a public address when checked, then to 127.0.0.1 (DNS rebinding). */
  function rebinding(): { resolve: Resolve; lookups: () => number } {
    let lookups = 0;
    return {
      resolve: async () =>
        lookups++ === 0 ? [{ address: '93.184.215.14', family: 4 }] : [{ address: '127.0.0.1', family: 4 }],
      lookups: () => lookups,
    };
  }

  async function send(guard: AddressGuard, id: string): Promise<WebhookSender> {
    const url = `http://hooks.rebind.test:${port}/hook`;
    const policy = webhookPolicy(['hooks.rebind.test'], WEBHOOK_SECRET, guard);
    await policy.check(url);
    const sender = new WebhookSender({
      store,
      secret: WEBHOOK_SECRET,
      policy,
      guard,
      logger: silentLogger(),
      backoffMs: [50, 50],
    });
    await sender.enqueue(id, url, { hello: id });
    return sender;
  }

  it('refuses the connection when the name resolves to a private address by the time it connects (rebinding)', async () => {
    const dns = rebinding();
    const sender = await send(new AddressGuard([], dns.resolve), 'msg_rebound');
    // The check and each of the three tries looked the name up; none of them reached the receiver.
    await until(() => dns.lookups() >= 4, 'the tries');
    await sender.stop();
    expect(receiver.received.filter(({ headers }) => headers['webhook-id'] === 'msg_rebound')).toHaveLength(0);
  });

  it('connects through its own lookup: a name only the guard resolves reaches the receiver it resolved to', async () => {
    const dns = rebinding();
    const sender = await send(new AddressGuard(['127.0.0.1'], dns.resolve), 'msg_pinned');
    await until(() => receiver.received.some(({ headers }) => headers['webhook-id'] === 'msg_pinned'), 'the webhook');
    await sender.stop();
  });
});
