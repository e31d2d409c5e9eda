/**
 * The behaviour every store must have, run against each real database (SQLite files, a real redis-server).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { z } from 'zod';
import type { Logger } from '../../src/logger.js';
import { indexKey, recordKey, type Store } from '../../src/store/store.js';
import { recordFault } from '../faults/ledger.js';
import { captureLogs, warningsIn } from './helpers.js';

/** How the contract reaches one database: open a store over it, and write a raw value behind the store's back. */
export interface StoreHarness {
  /** Opens a store over the same data every time (a reopened store must see what an earlier one wrote). */
  open(logger: Logger): Promise<Store>;
  /** Writes `text` verbatim under the full key, as a person with a database shell might. */
  writeRaw(fullKey: string, text: string): Promise<void>;
  /** Whether the database still holds a record under the full key, expired or not (read behind the store's back). */
  holdsRaw(fullKey: string): Promise<boolean>;
  /** Removes everything written so far, between tests. */
  reset(): Promise<void>;
}

const pictureSchema = z.object({ title: z.string(), seed: z.number().int() });

/** Registers the store contract's tests in the current describe block. */
export function defineStoreContract(harness: () => StoreHarness): void {
  let store: Store;
  let logs: ReturnType<typeof captureLogs>;

  beforeEach(async () => {
    logs = captureLogs();
    store = await harness().open(logs.logger);
  });

  afterEach(async () => {
    await store.close();
    await harness().reset();
  });

  it('reads back a record it wrote and nothing for a key never written', async () => {
    const pictures = store.collection('pictures', pictureSchema, { version: 1 });
    await pictures.set('a', { title: 'fox', seed: 7 });
    expect(await pictures.get('a')).toEqual({ title: 'fox', seed: 7 });
    expect(await pictures.get('b')).toBeUndefined();
  });

  it('keeps records across closing and reopening the store, as across a restart', async () => {
    await store.collection('pictures', pictureSchema, { version: 1 }).set('a', { title: 'fox', seed: 7 });
    await store.index('recent').add('member', 'a');
    await store.close();
    store = await harness().open(logs.logger);
    expect(await store.collection('pictures', pictureSchema, { version: 1 }).get('a')).toEqual({
      title: 'fox',
      seed: 7,
    });
    expect(await store.index('recent').list('member')).toEqual(['a']);
  });

  it('deletes a record and says whether there was one', async () => {
    const pictures = store.collection('pictures', pictureSchema, { version: 1 });
    await pictures.set('a', { title: 'fox', seed: 7 });
    expect(await pictures.delete('a')).toBe(true);
    expect(await pictures.get('a')).toBeUndefined();
    expect(await pictures.delete('a')).toBe(false);
  });

  it('keeps collections with the same keys apart', async () => {
    await store.collection('pictures', pictureSchema, { version: 1 }).set('a', { title: 'fox', seed: 7 });
    await store.collection('drafts', pictureSchema, { version: 1 }).set('a', { title: 'owl', seed: 8 });
    expect(await store.collection('pictures', pictureSchema, { version: 1 }).get('a')).toMatchObject({ title: 'fox' });
  });

  it('forgets a record once its time to live has passed', async () => {
    const pictures = store.collection('pictures', pictureSchema, { version: 1 });
    await pictures.set('short', { title: 'fox', seed: 7 }, 50);
    await pictures.set('long', { title: 'owl', seed: 8 }, 60_000);
    await sleep(300);
    expect(await pictures.get('short')).toBeUndefined();
    expect(await pictures.get('long')).toMatchObject({ title: 'owl' });
  });

  it('deletes expired records from the database at a sweep, and keeps live ones', async () => {
    const pictures = store.collection('pictures', pictureSchema, { version: 1 });
    await pictures.set('short', { title: 'fox', seed: 7 }, 50);
    await pictures.set('long', { title: 'owl', seed: 8 }, 60_000);
    await pictures.set('forever', { title: 'elk', seed: 9 });
    await sleep(300);
    await store.sweep();
    expect(await harness().holdsRaw(recordKey('pictures', 'short'))).toBe(false);
    expect(await harness().holdsRaw(recordKey('pictures', 'long'))).toBe(true);
    expect(await harness().holdsRaw(recordKey('pictures', 'forever'))).toBe(true);
    expect(await pictures.get('long')).toMatchObject({ title: 'owl' });
  });

  it('drops an index list nothing was added to within its time to live, and keeps a fresh one', async () => {
    // Checked as soon as the first list is seen gone, half a time to live after the second was renewed: the lists'
    // fates do not hang on how late this process's timers fire on a loaded machine (it may lag by up to 0.5 s).
    const recent = store.index('recent', { ttlMs: 1_000 });
    await recent.add('gone', 'a');
    await recent.add('kept', 'a');
    await sleep(500);
    await recent.add('kept', 'b');
    const deadline = Date.now() + 10_000;
    while ((await recent.count('gone')) > 0 && Date.now() < deadline) await sleep(10);
    expect(await recent.list('gone')).toEqual([]);
    expect(await recent.count('gone')).toBe(0);
    expect(await recent.list('kept')).toEqual(['b', 'a']);
    await store.sweep();
    expect(await harness().holdsRaw(indexKey('recent', 'gone'))).toBe(false);
    await recent.add('gone', 'c');
    expect(await recent.list('gone')).toEqual(['c']);
  });

  it('reads a stored value that is not JSON as absent and warns with its key', async () => {
    await harness().writeRaw(recordKey('pictures', 'broken'), 'not json {');
    expect(await store.collection('pictures', pictureSchema, { version: 1 }).get('broken')).toBeUndefined();
    expect(warningsIn(logs.lines())).toEqual([
      expect.objectContaining({ collection: 'pictures', key: 'broken', problem: expect.stringContaining('not JSON') }),
    ]);
  });

  it('reads a stored value that fails the schema as absent and warns with its key', async () => {
    await harness().writeRaw(recordKey('pictures', 'odd'), JSON.stringify({ value: { v: 1, data: { title: 3 } } }));
    expect(await store.collection('pictures', pictureSchema, { version: 1 }).get('odd')).toBeUndefined();
    expect(warningsIn(logs.lines())).toEqual([
      expect.objectContaining({ collection: 'pictures', key: 'odd', issues: expect.any(Array) }),
    ]);
    recordFault('a corrupt store row', []);
  });

  it('reads a value written under an older schema version as absent, with a warning', async () => {
    await store.collection('pictures', pictureSchema, { version: 1 }).set('a', { title: 'fox', seed: 7 });
    expect(await store.collection('pictures', pictureSchema, { version: 2 }).get('a')).toBeUndefined();
    expect(warningsIn(logs.lines())[0]).toMatchObject({
      key: 'a',
      problem: 'stored with schema version 1, expected 2',
    });
  });

  it('refuses to write a record its schema rejects', async () => {
    const pictures = store.collection('pictures', pictureSchema, { version: 1 });
    await expect(pictures.set('a', { title: 'fox', seed: 1.5 })).rejects.toThrow(/invalid pictures record under "a"/);
    expect(await pictures.get('a')).toBeUndefined();
  });

  it('applies concurrent updates of one record one after another', async () => {
    const counters = store.collection('counters', z.object({ count: z.number() }), { version: 1 });
    await Promise.all(
      Array.from({ length: 40 }, async () => counters.update('c', (current) => ({ count: (current?.count ?? 0) + 1 }))),
    );
    expect(await counters.get('c')).toEqual({ count: 40 });
  });

  it('deletes a record when an update returns nothing', async () => {
    const pictures = store.collection('pictures', pictureSchema, { version: 1 });
    await pictures.set('a', { title: 'fox', seed: 7 });
    expect(await pictures.update('a', () => undefined)).toBeUndefined();
    expect(await pictures.get('a')).toBeUndefined();
  });

  it('lists an index newest first, moving a re-added id to the front', async () => {
    const recent = store.index('recent');
    for (const id of ['a', 'b', 'c']) await recent.add('member', id);
    await recent.add('member', 'a');
    expect(await recent.list('member')).toEqual(['a', 'c', 'b']);
    expect(await recent.count('member')).toBe(3);
    expect(await recent.list('someone-else')).toEqual([]);
  });

  it('pages through an index with an offset and a limit', async () => {
    const recent = store.index('recent');
    for (const id of ['a', 'b', 'c', 'd', 'e']) await recent.add('member', id);
    expect(await recent.list('member', { offset: 0, limit: 2 })).toEqual(['e', 'd']);
    expect(await recent.list('member', { offset: 2, limit: 2 })).toEqual(['c', 'b']);
    expect(await recent.list('member', { offset: 4, limit: 2 })).toEqual(['a']);
    expect(await recent.list('member', { offset: 6, limit: 2 })).toEqual([]);
    expect(await recent.list('member', { offset: 1, limit: 0 })).toEqual([]);
  });

  it('drops the oldest ids beyond the cap', async () => {
    const recent = store.index('recent', { cap: 3 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) await recent.add('member', id);
    expect(await recent.list('member')).toEqual(['e', 'd', 'c']);
  });

  it('removes an id from an index', async () => {
    const open = store.index('open-jobs');
    for (const id of ['a', 'b', 'c']) await open.add('all', id);
    await open.remove('all', 'b');
    await open.remove('all', 'never-added');
    expect(await open.list('all')).toEqual(['c', 'a']);
    await open.remove('all', 'a');
    await open.remove('all', 'c');
    expect(await open.count('all')).toBe(0);
  });

  it('loses no entry when many adds and removes race on one key', async () => {
    const recent = store.index('recent', { cap: 500 });
    const ids = Array.from({ length: 120 }, (_, index) => `g${index}`);
    await Promise.all(ids.map(async (id) => recent.add('member', id)));
    await Promise.all(ids.filter((_, index) => index % 3 === 0).map(async (id) => recent.remove('member', id)));
    const listed = await recent.list('member');
    expect(listed).toHaveLength(80);
    expect(new Set(listed)).toEqual(new Set(ids.filter((_, index) => index % 3 !== 0)));
  });

  it('gives a lease to one holder at a time, and to another once it expired or was released', async () => {
    const first = { id: 'first', pid: 101, host: 'a', startedAt: 1 };
    const second = { id: 'second', pid: 202, host: 'b', startedAt: 2 };
    expect(await store.leases.claim('runner', first, 300)).toMatchObject({ acquired: true });
    expect(await store.leases.claim('runner', second, 300)).toMatchObject({ acquired: false, holder: first });
    expect(await store.leases.claim('runner', first, 300)).toMatchObject({ acquired: true });
    expect(await store.leases.renew('runner', 'second', 300)).toBe(false);
    expect(await store.leases.renew('runner', 'first', 300)).toBe(true);
    await sleep(450);
    expect(await store.leases.renew('runner', 'first', 300)).toBe(false);
    expect(await store.leases.claim('runner', second, 60_000)).toMatchObject({ acquired: true });
    await store.leases.release('runner', 'first');
    expect(await store.leases.claim('runner', first, 300)).toMatchObject({ acquired: false, holder: second });
    await store.leases.release('runner', 'second');
    expect(await store.leases.claim('runner', first, 300)).toMatchObject({ acquired: true });
  });

  it('tells who holds a lease, and nobody once it expired or was released', async () => {
    const holder = { id: 'told', pid: 101, host: 'a', startedAt: 1 };
    expect(await store.leases.holder('told')).toBeUndefined();
    await store.leases.claim('told', holder, 300);
    expect(await store.leases.holder('told')).toEqual(holder);
    await sleep(450);
    expect(await store.leases.holder('told')).toBeUndefined();
    await store.leases.claim('told', holder, 60_000);
    await store.leases.release('told', 'told');
    expect(await store.leases.holder('told')).toBeUndefined();
  });

  it('hands a lease over only from the holder named as stale', async () => {
    const stale = { id: 'stale', pid: 101, host: 'a', startedAt: 1 };
    const next = { id: 'next', pid: 202, host: 'a', startedAt: 2 };
    await store.leases.claim('runner', stale, 60_000);
    expect(await store.leases.takeOver('runner', 'someone-else', next, 60_000)).toBe(false);
    expect(await store.leases.takeOver('runner', 'stale', next, 60_000)).toBe(true);
    expect(await store.leases.claim('runner', stale, 60_000)).toMatchObject({ acquired: false, holder: next });
  });

  it('refuses to be used once closed', async () => {
    const pictures = store.collection('pictures', pictureSchema, { version: 1 });
    await store.close();
    await expect(pictures.get('a')).rejects.toThrow('The store is closed.');
    await expect(store.index('recent').add('member', 'a')).rejects.toThrow('The store is closed.');
  });

  it('rejects names and keys that would make ambiguous keys', () => {
    expect(() => store.collection('Pictures:x', pictureSchema, { version: 1 })).toThrow(/lowercase/);
    expect(() => store.index('recent', { cap: 0 })).toThrow(/cap/);
    expect(() => store.index('recent', { ttlMs: 0 })).toThrow(/time to live/);
    expect(() => store.collection('pictures', pictureSchema, { version: 0 })).toThrow(/version/);
  });
}
