import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { joinFleet, readFleetRoster, type FleetPresence } from '../../src/health/fleet-presence.js';
import { silentLogger } from '../../src/logger.js';
import { openStore, type Store } from '../../src/store/index.js';
import { makeTempDir } from '../store/helpers.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from '../store/redis-server.js';

const HEARTBEAT_MS = 100;
const idle = () => ({ running: [], ended: { succeeded: 0, failed: 0, cancelled: 0 } });

/** The same roll call tests on each kind of store; `url` names a fresh, empty one. */
function defineRollCallTests(url: () => Promise<string>): void {
  const stores: Store[] = [];
  const presences: FleetPresence[] = [];

  afterEach(async () => {
    await Promise.all(presences.splice(0).map(async (presence) => presence.leave().catch(() => undefined)));
    await Promise.all(stores.splice(0).map(async (store) => store.close().catch(() => undefined)));
  });

  /** A process of its own: its own connection to the store, as another comfycord process would have. */
  async function processOn(storeUrl: string, name: string, shards: { ids: number[]; count: number } | null) {
    const store = await openStore(storeUrl, silentLogger());
    stores.push(store);
    const presence = await joinFleet({
      store,
      logger: silentLogger(),
      name,
      shards,
      checks: { gateway: async () => ({ ok: true }) },
      share: () => ({
        running: [{ jobId: `${name}-job`, memberId: 'member-1', server: 'emu' }],
        ended: { succeeded: 2, failed: 1, cancelled: 0 },
      }),
      heartbeatMs: HEARTBEAT_MS,
    });
    presences.push(presence);
    return { store, presence };
  }

  it('lists every process that joined, oldest first, with its shards, checks and share of the work', async () => {
    const storeUrl = await url();
    const a = await processOn(storeUrl, 'bot-a', { ids: [0], count: 2 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await processOn(storeUrl, 'bot-b', { ids: [1], count: 2 });
    const roster = await a.presence.roster();
    expect(roster.map((record) => record.name)).toEqual(['bot-a', 'bot-b']);
    expect(roster[0]).toMatchObject({
      id: a.presence.id,
      pid: process.pid,
      shards: { ids: [0], count: 2 },
      checks: { gateway: 'ok' },
      running: [{ jobId: 'bot-a-job', memberId: 'member-1', server: 'emu' }],
      ended: { succeeded: 2, failed: 1, cancelled: 0 },
    });
  });

  it('takes a process that leaves off the roll call at once', async () => {
    const storeUrl = await url();
    const a = await processOn(storeUrl, 'bot-a', null);
    const b = await processOn(storeUrl, 'bot-b', null);
    await b.presence.leave();
    expect((await a.presence.roster()).map((record) => record.name)).toEqual(['bot-a']);
  });

  it('drops a process that stops renewing once three heartbeats have passed', async () => {
    const storeUrl = await url();
    const a = await processOn(storeUrl, 'bot-a', null);
    const b = await processOn(storeUrl, 'bot-b', null);
    // Its connection gone, as when the process is killed: its record is never renewed again.
    await b.store.close();
    expect(await a.presence.roster()).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS * 4));
    expect((await readFleetRoster(a.store)).map((record) => record.name)).toEqual(['bot-a']);
  });

  it('renews each record: a process that lives on stays listed past its first time to live', async () => {
    const storeUrl = await url();
    const a = await processOn(storeUrl, 'bot-a', null);
    const first = (await a.presence.roster())[0]!.heartbeatAt;
    await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS * 5));
    const roster = await a.presence.roster();
    expect(roster).toHaveLength(1);
    expect(roster[0]!.heartbeatAt).toBeGreaterThan(first);
  });

  it('reports a failing check with its reason', async () => {
    const storeUrl = await url();
    const store = await openStore(storeUrl, silentLogger());
    stores.push(store);
    const presence = await joinFleet({
      store,
      logger: silentLogger(),
      name: 'bot-down',
      shards: { ids: [0], count: 1 },
      checks: { gateway: async () => ({ ok: false, reason: 'not connected to the Discord gateway' }) },
      share: idle,
      heartbeatMs: HEARTBEAT_MS,
    });
    presences.push(presence);
    expect((await presence.roster())[0]!.checks).toEqual({ gateway: 'not connected to the Discord gateway' });
  });
}

describe('the fleet roll call on the embedded store', () => {
  const dirs: Array<() => Promise<void>> = [];
  afterAll(async () => Promise.all(dirs.map(async (remove) => remove())));
  defineRollCallTests(async () => {
    const dir = await makeTempDir();
    dirs.push(dir.remove);
    return `sqlite://${dir.path}/roll-call.sqlite`;
  });
});

describe.runIf(shouldRunRedisTests('fleet roll call on Redis'))('the fleet roll call on Redis', () => {
  let server: RedisServer;
  let database = 0;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.stop();
  });
  // Each test on a database of its own (Redis has 16), so none sees another's processes.
  defineRollCallTests(async () => `${server.url}/${++database}`);
});
