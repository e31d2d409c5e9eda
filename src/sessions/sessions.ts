/**
 * Sessions, generations, the members' history and their `/settings` defaults, kept in the store. A session is keyed
 * by its thread id (or a reply chain's root message id); every message the bot posts with a result is linked to its
 * session and generation, so a reply to it or a button on it finds them again, even after a restart.
 */
import type { Store } from '../store/store.js';
import {
  generationSchema,
  memberDefaultsSchema,
  messageLinkSchema,
  sessionSchema,
  type Generation,
  type MemberDefaults,
  type Session,
} from './model.js';

/** How many generations `/history` keeps per member. */
export const HISTORY_CAP = 200;

/** How many generations a `/history` page shows. */
export const HISTORY_PAGE_SIZE = 10;

/** How long sessions, generations and message links are kept after their last change (buttons on old cards). */
export const DEFAULT_RETENTION_MS = 365 * 24 * 60 * 60 * 1000;

/** A session as created: the store fills in the timestamps. */
export type NewSession = Omit<Session, 'createdAt' | 'updatedAt'>;

/** A generation as recorded: `createdAt` defaults to now. */
export type NewGeneration = Omit<Generation, 'createdAt'> & { readonly createdAt?: number };

/** One page of a member's history, newest first; `page` counts from 1. */
export interface HistoryPage {
  readonly generations: readonly Generation[];
  readonly page: number;
  readonly pageCount: number;
  readonly total: number;
}

/** Options for `openSessions`; the defaults suit the bot, tests pass a clock. */
export interface SessionsOptions {
  readonly clock?: () => number;
  readonly retentionMs?: number;
}

/** The session operations the Discord layer calls. */
export interface Sessions {
  /** Creates the session (replacing one with the same id, keeping its creation time) and links its root message. */
  createSession(session: NewSession): Promise<Session>;
  getSessionByThread(threadId: string): Promise<Session | undefined>;
  /** The session a message belongs to (the reply-chain fallback): a result message or a reply chain's root. */
  getSessionByMessage(messageId: string): Promise<Session | undefined>;
  /** Stores a finished generation, lists it in the history and its session; a success moves the session on. */
  recordGeneration(generation: NewGeneration): Promise<Generation>;
  getGeneration(generationId: string): Promise<Generation | undefined>;
  getGenerationByMessage(messageId: string): Promise<Generation | undefined>;
  /** The session's generations, newest first. */
  listSessionGenerations(sessionId: string): Promise<Generation[]>;
  /** Forgets a generation (the Delete button): its record, its history entry and its message link. */
  deleteGeneration(generationId: string): Promise<Generation | undefined>;
  /** A page (from 1) of the member's generations, newest first. */
  listHistory(memberId: string, page?: number): Promise<HistoryPage>;
  /** The member's `/settings` defaults; `{}` when none were saved. */
  getMemberDefaults(memberId: string): Promise<MemberDefaults>;
  /** Replaces the member's defaults; an empty object forgets them. */
  setMemberDefaults(memberId: string, defaults: MemberDefaults): Promise<void>;
}

/** Opens the session operations over `store`. */
export function openSessions(store: Store, options: SessionsOptions = {}): Sessions {
  const clock = options.clock ?? Date.now;
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const sessions = store.collection('sessions', sessionSchema, { version: 1 });
  const generations = store.collection('generations', generationSchema, { version: 1 });
  const messageLinks = store.collection('message-links', messageLinkSchema, { version: 1 });
  const memberDefaults = store.collection('member-defaults', memberDefaultsSchema, { version: 1 });
  const history = store.index('history', { cap: HISTORY_CAP });
  const sessionGenerations = store.index('session-generations', { cap: HISTORY_CAP });

  /** The generations listed under `ids`, skipping (and unlisting) those whose record is gone or unreadable. */
  const readListed = async (ids: readonly string[], unlist: (id: string) => Promise<void>): Promise<Generation[]> => {
    const found = await Promise.all(ids.map(async (id) => generations.get(id)));
    const missing = ids.filter((_, index) => found[index] === undefined);
    await Promise.all(missing.map(unlist));
    return found.filter((generation) => generation !== undefined);
  };

  const getSession = async (id: string) => sessions.get(id);

  return {
    createSession: async (input) => {
      const now = clock();
      const created = await sessions.update(
        input.id,
        (existing) => ({ ...input, createdAt: existing?.createdAt ?? now, updatedAt: now }),
        retentionMs,
      );
      await messageLinks.update(input.id, (link) => ({ ...link, sessionId: input.id }), retentionMs);
      return created!;
    },

    getSessionByThread: async (threadId) => {
      const session = await getSession(threadId);
      return session?.kind === 'thread' ? session : undefined;
    },

    getSessionByMessage: async (messageId) => {
      const link = await messageLinks.get(messageId);
      return link?.sessionId === undefined ? undefined : getSession(link.sessionId);
    },

    recordGeneration: async (input) => {
      const generation: Generation = { ...input, createdAt: input.createdAt ?? clock() };
      await generations.set(generation.id, generation, retentionMs);
      await history.add(generation.ownerId, generation.id);
      if (generation.messageId !== undefined) {
        const link = { sessionId: generation.sessionId, generationId: generation.id };
        await messageLinks.set(generation.messageId, link, retentionMs);
      }
      if (generation.sessionId !== undefined) {
        await sessionGenerations.add(generation.sessionId, generation.id);
        if (generation.outcome.status === 'succeeded') await advanceSession(generation);
      }
      return generation;
    },

    getGeneration: async (generationId) => generations.get(generationId),

    getGenerationByMessage: async (messageId) => {
      const link = await messageLinks.get(messageId);
      return link?.generationId === undefined ? undefined : generations.get(link.generationId);
    },

    listSessionGenerations: async (sessionId) =>
      readListed(await sessionGenerations.list(sessionId), async (id) => sessionGenerations.remove(sessionId, id)),

    deleteGeneration: async (generationId) => {
      const generation = await generations.get(generationId);
      if (generation === undefined) return undefined;
      await history.remove(generation.ownerId, generationId);
      if (generation.sessionId !== undefined) await sessionGenerations.remove(generation.sessionId, generationId);
      if (generation.messageId !== undefined) await messageLinks.delete(generation.messageId);
      await generations.delete(generationId);
      return generation;
    },

    listHistory: async (memberId, page = 1) => {
      const total = await history.count(memberId);
      const pageCount = Math.max(1, Math.ceil(total / HISTORY_PAGE_SIZE));
      const shown = Math.min(Math.max(1, Math.floor(page)), pageCount);
      const ids = await history.list(memberId, { offset: (shown - 1) * HISTORY_PAGE_SIZE, limit: HISTORY_PAGE_SIZE });
      const listed = await readListed(ids, async (id) => history.remove(memberId, id));
      return { generations: listed, page: shown, pageCount, total };
    },

    getMemberDefaults: async (memberId) => (await memberDefaults.get(memberId)) ?? {},

    setMemberDefaults: async (memberId, defaults) => {
      const kept = Object.fromEntries(Object.entries(defaults).filter(([, value]) => value !== undefined));
      if (Object.keys(kept).length === 0) await memberDefaults.delete(memberId);
      else await memberDefaults.set(memberId, kept);
    },
  };

  /** Moves the session on to a successful generation: the next refine starts from its settings. */
  async function advanceSession(generation: Generation): Promise<void> {
    await sessions.update(
      generation.sessionId!,
      (session) =>
        session && {
          ...session,
          workflow: generation.workflow,
          settings: generation.settings,
          lastGenerationId: generation.id,
          updatedAt: clock(),
        },
      retentionMs,
    );
  }
}
