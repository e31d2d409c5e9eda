import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { newGenerationId, type Generation } from '../../src/sessions/model.js';
import { HISTORY_CAP, openSessions, type NewGeneration, type Sessions } from '../../src/sessions/sessions.js';
import { openStore } from '../../src/store/open-store.js';
import { recordKey, type Store } from '../../src/store/store.js';
import { makeTempDir } from '../store/helpers.js';

const OWNER = '100000000000000001';
const GUILD = '200000000000000002';
const CHANNEL = '300000000000000003';
const THREAD = '400000000000000004';

let directory: Awaited<ReturnType<typeof makeTempDir>>;
let file: string;
let store: Store;
let sessions: Sessions;
let now: number;

async function reopen(): Promise<void> {
  await store?.close();
  store = await openStore(`sqlite://${file}`, silentLogger());
  sessions = openSessions(store, { clock: () => now });
}

beforeEach(async () => {
  directory = await makeTempDir();
  file = join(directory.path, 'sessions.sqlite');
  now = 1_700_000_000_000;
  await reopen();
});

afterEach(async () => {
  await store.close();
  await directory.remove();
});

let messageNumber = 500_000_000_000_000_000n;

function generation(overrides: Partial<NewGeneration> = {}): NewGeneration {
  messageNumber += 1n;
  return {
    id: newGenerationId(),
    sessionId: THREAD,
    ownerId: OWNER,
    guildId: GUILD,
    promptIds: ['6f1c7a0e-3a55-4b5e-9d1e-0b7f2a9d1c11'],
    settings: { prompt: 'a red fox', workflow: 'txt2img', aspect: '1:1', seed: 42, width: 1024, height: 1024 },
    workflow: 'txt2img',
    outputs: [{ server: 'comfy1', filename: 'fox_00001_.png', subfolder: '', type: 'output', mimeType: 'image/png' }],
    messageId: String(messageNumber),
    channelId: THREAD,
    durationMs: 5_300,
    outcome: { status: 'succeeded' },
    ...overrides,
  };
}

async function createThreadSession() {
  return sessions.createSession({
    id: THREAD,
    kind: 'thread',
    ownerId: OWNER,
    guildId: GUILD,
    channelId: CHANNEL,
    workflow: 'txt2img',
    settings: { prompt: 'a red fox', seed: 42 },
  });
}

describe('sessions', () => {
  it('finds a thread session by its thread and by its starter message', async () => {
    const created = await createThreadSession();
    expect(created).toMatchObject({ id: THREAD, kind: 'thread', createdAt: now, updatedAt: now });
    expect(await sessions.getSessionByThread(THREAD)).toEqual(created);
    expect(await sessions.getSessionByMessage(THREAD)).toEqual(created);
    expect(await sessions.getSessionByThread('999999999999999999')).toBeUndefined();
  });

  it('finds a reply-chain session by any result message in it, but not as a thread', async () => {
    const root = '600000000000000006';
    await sessions.createSession({
      id: root,
      kind: 'reply-chain',
      ownerId: OWNER,
      channelId: CHANNEL,
      workflow: 'txt2img',
      settings: { prompt: 'a red fox' },
    });
    const later = await sessions.recordGeneration(generation({ sessionId: root, channelId: CHANNEL }));
    expect(await sessions.getSessionByThread(root)).toBeUndefined();
    expect((await sessions.getSessionByMessage(root))?.id).toBe(root);
    expect((await sessions.getSessionByMessage(later.messageId!))?.id).toBe(root);
    expect(await sessions.getSessionByMessage('700000000000000007')).toBeUndefined();
  });

  it('finds a reply-chain session in a thread only once the thread opened on one of its results is linked', async () => {
    const root = '600000000000000016';
    const session = { id: root, kind: 'reply-chain', ownerId: OWNER, channelId: CHANNEL, workflow: 'txt2img' } as const;
    await sessions.ensureSession({ ...session, settings: { prompt: 'a red fox' } });
    const later = await sessions.recordGeneration(generation({ sessionId: root, channelId: CHANNEL }));
    expect(await sessions.getSessionByThread(later.messageId!)).toBeUndefined();
    await sessions.linkThread(later.messageId!);
    expect((await sessions.getSessionByThread(later.messageId!))?.id).toBe(root);
    // Recording the generation again (a delivery tried again) keeps the thread linked.
    await sessions.recordGeneration({ ...later, createdAt: later.createdAt });
    expect((await sessions.getSessionByThread(later.messageId!))?.id).toBe(root);
    await sessions.linkThread(later.messageId!, false);
    expect(await sessions.getSessionByThread(later.messageId!)).toBeUndefined();
    expect((await sessions.getSessionByMessage(later.messageId!))?.id).toBe(root);
    // Nothing is linked for a message the bot never recorded.
    await sessions.linkThread('700000000000000017');
    expect(await sessions.getSessionByThread('700000000000000017')).toBeUndefined();
  });

  it('leaves an existing session as it is when ensured again (a delivery tried again after a refine)', async () => {
    const root = '600000000000000026';
    const session = { id: root, kind: 'reply-chain', ownerId: OWNER, channelId: CHANNEL, workflow: 'txt2img' } as const;
    await sessions.ensureSession({ ...session, settings: { prompt: 'a red fox' } });
    const refined = await sessions.recordGeneration(generation({ sessionId: root }));
    now += 60_000;
    const again = await sessions.ensureSession({ ...session, settings: { prompt: 'a red fox' } });
    expect(again).toMatchObject({ lastGenerationId: refined.id, createdAt: now - 60_000 });
    expect(again.settings.seed).toBe(42);
  });

  it('keeps the creation time when a session is created again', async () => {
    await createThreadSession();
    now += 60_000;
    expect(await createThreadSession()).toMatchObject({ createdAt: now - 60_000, updatedAt: now });
  });

  it('records a generation and finds it by id and by its message', async () => {
    await createThreadSession();
    const recorded = await sessions.recordGeneration(generation());
    expect(recorded.createdAt).toBe(now);
    expect(await sessions.getGeneration(recorded.id)).toEqual(recorded);
    expect(await sessions.getGenerationByMessage(recorded.messageId!)).toEqual(recorded);
    expect(await sessions.getGeneration('nope-not-there')).toBeUndefined();
  });

  it('moves the session on to a successful generation, with the seed it used', async () => {
    await createThreadSession();
    now += 1_000;
    const next = generation({ settings: { prompt: 'a grey wolf', seed: 777, steps: 30 }, workflow: 'portrait' });
    await sessions.recordGeneration(next);
    expect(await sessions.getSessionByThread(THREAD)).toMatchObject({
      settings: { prompt: 'a grey wolf', seed: 777, steps: 30 },
      workflow: 'portrait',
      lastGenerationId: next.id,
      updatedAt: now,
    });
  });

  it('leaves the session where it was after a failed or cancelled generation', async () => {
    const created = await createThreadSession();
    await sessions.recordGeneration(generation({ outcome: { status: 'failed', reason: 'The node failed.' } }));
    await sessions.recordGeneration(generation({ outcome: { status: 'cancelled' } }));
    expect(await sessions.getSessionByThread(THREAD)).toEqual(created);
  });

  it('lists a session’s generations newest first', async () => {
    await createThreadSession();
    const first = await sessions.recordGeneration(generation());
    const second = await sessions.recordGeneration(generation({ outcome: { status: 'failed', reason: 'x' } }));
    expect((await sessions.listSessionGenerations(THREAD)).map((item) => item.id)).toEqual([second.id, first.id]);
  });

  it('refuses to record an invalid generation', async () => {
    await expect(sessions.recordGeneration(generation({ id: 'no spaces allowed' }))).rejects.toThrow(/invalid/);
  });

  it('keeps sessions and generations across a restart', async () => {
    await createThreadSession();
    const recorded = await sessions.recordGeneration(generation());
    await reopen();
    expect((await sessions.getSessionByThread(THREAD))?.lastGenerationId).toBe(recorded.id);
    expect(await sessions.getGenerationByMessage(recorded.messageId!)).toEqual(recorded);
    expect((await sessions.listHistory(OWNER)).generations.map((item) => item.id)).toEqual([recorded.id]);
  });

  it('forgets a deleted generation everywhere', async () => {
    await createThreadSession();
    const kept = await sessions.recordGeneration(generation());
    const deleted = await sessions.recordGeneration(generation());
    expect((await sessions.deleteGeneration(deleted.id))?.id).toBe(deleted.id);
    expect(await sessions.getGeneration(deleted.id)).toBeUndefined();
    expect(await sessions.getGenerationByMessage(deleted.messageId!)).toBeUndefined();
    expect((await sessions.listHistory(OWNER)).generations.map((item) => item.id)).toEqual([kept.id]);
    expect((await sessions.listSessionGenerations(THREAD)).map((item) => item.id)).toEqual([kept.id]);
    expect(await sessions.deleteGeneration(deleted.id)).toBeUndefined();
  });
});

describe('history', () => {
  async function recordMany(count: number): Promise<Generation[]> {
    const recorded: Generation[] = [];
    for (let index = 0; index < count; index += 1) {
      now += 1;
      recorded.push(await sessions.recordGeneration(generation({ sessionId: undefined, messageId: undefined })));
    }
    return recorded.reverse();
  }

  it('pages through a member’s generations newest first', async () => {
    const newestFirst = await recordMany(25);
    const first = await sessions.listHistory(OWNER, 1);
    expect(first).toMatchObject({ page: 1, pageCount: 3, total: 25 });
    expect(first.generations.map((item) => item.id)).toEqual(newestFirst.slice(0, 10).map((item) => item.id));
    const last = await sessions.listHistory(OWNER, 3);
    expect(last.generations.map((item) => item.id)).toEqual(newestFirst.slice(20).map((item) => item.id));
  });

  it('shows the last page for a page past the end, and the first for nonsense', async () => {
    await recordMany(12);
    expect(await sessions.listHistory(OWNER, 9)).toMatchObject({ page: 2, pageCount: 2 });
    expect(await sessions.listHistory(OWNER, -3)).toMatchObject({ page: 1 });
  });

  it('is empty, on one page, for a member with no generations', async () => {
    expect(await sessions.listHistory('123456789012345678')).toEqual({
      generations: [],
      page: 1,
      pageCount: 1,
      total: 0,
    });
  });

  it('keeps only the newest generations beyond the cap', async () => {
    const newestFirst = await recordMany(HISTORY_CAP + 5);
    const history = await sessions.listHistory(OWNER, 1);
    expect(history.total).toBe(HISTORY_CAP);
    expect(history.generations[0]?.id).toBe(newestFirst[0]?.id);
  });

  it('skips and unlists a generation whose stored record is unreadable', async () => {
    const [newest, broken, oldest] = await recordMany(3);
    const raw = new BetterSqlite3(file);
    raw.prepare('UPDATE records SET value = ? WHERE key = ?').run('{"value":', recordKey('generations', broken!.id));
    raw.close();
    const history = await sessions.listHistory(OWNER);
    expect(history.generations.map((item) => item.id)).toEqual([newest!.id, oldest!.id]);
    expect((await sessions.listHistory(OWNER)).total).toBe(2);
  });
});

describe('member defaults', () => {
  it('are empty until set, and read back once set', async () => {
    expect(await sessions.getMemberDefaults(OWNER)).toEqual({});
    await sessions.setMemberDefaults(OWNER, { workflow: 'portrait', aspect: '32:18', negative: 'text', count: 2 });
    expect(await sessions.getMemberDefaults(OWNER)).toEqual({
      workflow: 'portrait',
      aspect: '16:9',
      negative: 'text',
      count: 2,
    });
  });

  it('are replaced as a whole, and forgotten when set to nothing', async () => {
    await sessions.setMemberDefaults(OWNER, { workflow: 'portrait', count: 2 });
    await sessions.setMemberDefaults(OWNER, { aspect: '2:3', count: undefined });
    expect(await sessions.getMemberDefaults(OWNER)).toEqual({ aspect: '2:3' });
    await sessions.setMemberDefaults(OWNER, {});
    expect(await sessions.getMemberDefaults(OWNER)).toEqual({});
  });

  it('refuse a value out of range', async () => {
    await expect(sessions.setMemberDefaults(OWNER, { count: 9 })).rejects.toThrow(/invalid member-defaults/);
  });
});
