/**
 * Sessions, generations, the members' history and their `/settings` defaults, kept in the store. A session is keyed
 * by its root result message's id; every message the bot posts with a result is linked to its session and generation,
 * so a reply to it, a button on it or a thread opened on it finds them again, even after a restart.
 */
import type { Collection, Index, Store } from '../store/store.js';
import {
  generationSchema,
  memberDefaultsSchema,
  messageLinkSchema,
  sessionSchema,
  type Generation,
  type MemberDefaults,
  type MessageLink,
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

/** Opens the session operations over `store`. */
export function openSessions(store: Store, options: SessionsOptions = {}): Sessions {
  return new Sessions(store, options);
}

/** The session operations the Discord layer calls. */
export class Sessions {
  readonly #clock: () => number;
  readonly #retentionMs: number;
  readonly #sessions: Collection<Session>;
  readonly #generations: Collection<Generation>;
  readonly #messageLinks: Collection<MessageLink>;
  readonly #memberDefaults: Collection<MemberDefaults>;
  readonly #history: Index;
  readonly #sessionGenerations: Index;

  constructor(store: Store, options: SessionsOptions = {}) {
    this.#clock = options.clock ?? Date.now;
    this.#retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.#sessions = store.collection('sessions', sessionSchema, { version: 1 });
    this.#generations = store.collection('generations', generationSchema, { version: 1 });
    this.#messageLinks = store.collection('message-links', messageLinkSchema, { version: 1 });
    this.#memberDefaults = store.collection('member-defaults', memberDefaultsSchema, { version: 1 });
    // A member gone quiet, or a session long over, loses its list with its generations.
    this.#history = store.index('history', { cap: HISTORY_CAP, ttlMs: this.#retentionMs });
    this.#sessionGenerations = store.index('session-generations', { cap: HISTORY_CAP, ttlMs: this.#retentionMs });
  }

  /** Creates the session (replacing one with the same id, keeping its creation time) and links its root message. */
  async createSession(input: NewSession): Promise<Session> {
    const now = this.#clock();
    const created = await this.#sessions.update(
      input.id,
      (existing) => ({ ...input, createdAt: existing?.createdAt ?? now, updatedAt: now }),
      this.#retentionMs,
    );
    await this.#linkRoot(input.id);
    return created!;
  }

  /**
   * Creates the session unless one with its id exists, which is kept as it is: a delivery tried again must not undo
   * what members did with the session since (a refine, a thread).
   */
  async ensureSession(input: NewSession): Promise<Session> {
    const now = this.#clock();
    const session = await this.#sessions.update(
      input.id,
      (existing) => existing ?? { ...input, createdAt: now, updatedAt: now },
      this.#retentionMs,
    );
    await this.#linkRoot(input.id);
    return session!;
  }

  /**
   * The session held in the thread `threadId`: one opened on a result message (Discord gives such a thread the
   * message's id) by `linkThread`, or a `thread` session of an earlier version.
   */
  async getSessionByThread(threadId: string): Promise<Session | undefined> {
    const session = await this.#sessions.get(threadId);
    if (session?.kind === 'thread') return session;
    const link = await this.#messageLinks.get(threadId);
    return link?.thread === true && link.sessionId !== undefined ? this.#sessions.get(link.sessionId) : undefined;
  }

  /** Makes the thread opened on the result message `messageId` a place of that message's session (or undoes it). */
  async linkThread(messageId: string, opened = true): Promise<void> {
    await this.#messageLinks.update(
      messageId,
      (link) => (link === undefined ? undefined : { ...link, thread: opened || undefined }),
      this.#retentionMs,
    );
  }

  /** The session a message belongs to (the reply-chain fallback): a result message or a reply chain's root. */
  async getSessionByMessage(messageId: string): Promise<Session | undefined> {
    const link = await this.#messageLinks.get(messageId);
    return link?.sessionId === undefined ? undefined : this.#sessions.get(link.sessionId);
  }

  /** Stores a finished generation, lists it in the history and its session; a success moves the session on. */
  async recordGeneration(input: NewGeneration): Promise<Generation> {
    const generation: Generation = { ...input, createdAt: input.createdAt ?? this.#clock() };
    await this.#generations.set(generation.id, generation, this.#retentionMs);
    await this.#history.add(generation.ownerId, generation.id);
    if (generation.messageId !== undefined) {
      // A thread opened on the message stays linked when the generation is recorded again (a delivery tried again).
      const link = { sessionId: generation.sessionId, generationId: generation.id };
      await this.#messageLinks.update(
        generation.messageId,
        (old) => ({ ...link, thread: old?.thread }),
        this.#retentionMs,
      );
    }
    if (generation.sessionId !== undefined) {
      await this.#sessionGenerations.add(generation.sessionId, generation.id);
      if (generation.outcome.status === 'succeeded') await this.#advanceSession(generation.sessionId, generation);
    }
    return generation;
  }

  /** The generation `generationId` (button custom ids carry it). */
  async getGeneration(generationId: string): Promise<Generation | undefined> {
    return this.#generations.get(generationId);
  }

  /** The generation shown by the message `messageId`. */
  async getGenerationByMessage(messageId: string): Promise<Generation | undefined> {
    const link = await this.#messageLinks.get(messageId);
    return link?.generationId === undefined ? undefined : this.#generations.get(link.generationId);
  }

  /** The session's generations, newest first. */
  async listSessionGenerations(sessionId: string): Promise<Generation[]> {
    const ids = await this.#sessionGenerations.list(sessionId);
    return this.#readListed(ids, async (id) => this.#sessionGenerations.remove(sessionId, id));
  }

  /** Forgets a generation (the Delete button): its record, its history entry and its message link. */
  async deleteGeneration(generationId: string): Promise<Generation | undefined> {
    const generation = await this.#generations.get(generationId);
    if (generation === undefined) return undefined;
    await this.#history.remove(generation.ownerId, generationId);
    if (generation.sessionId !== undefined) await this.#sessionGenerations.remove(generation.sessionId, generationId);
    if (generation.messageId !== undefined) await this.#messageLinks.delete(generation.messageId);
    await this.#generations.delete(generationId);
    return generation;
  }

  /** A page (from 1; out-of-range pages are clamped) of the member's generations, newest first. */
  async listHistory(memberId: string, page = 1): Promise<HistoryPage> {
    const total = await this.#history.count(memberId);
    const pageCount = Math.max(1, Math.ceil(total / HISTORY_PAGE_SIZE));
    const shown = Math.min(Math.max(1, Math.floor(page)), pageCount);
    const range = { offset: (shown - 1) * HISTORY_PAGE_SIZE, limit: HISTORY_PAGE_SIZE };
    const ids = await this.#history.list(memberId, range);
    const generations = await this.#readListed(ids, async (id) => this.#history.remove(memberId, id));
    return { generations, page: shown, pageCount, total };
  }

  /** The member's `/settings` defaults; `{}` when none were saved. */
  async getMemberDefaults(memberId: string): Promise<MemberDefaults> {
    return (await this.#memberDefaults.get(memberId)) ?? {};
  }

  /** Replaces the member's defaults; an empty object forgets them. */
  async setMemberDefaults(memberId: string, defaults: MemberDefaults): Promise<void> {
    const kept = Object.fromEntries(Object.entries(defaults).filter(([, value]) => value !== undefined));
    if (Object.keys(kept).length === 0) await this.#memberDefaults.delete(memberId);
    else await this.#memberDefaults.set(memberId, kept);
  }

  /** Links a session's root message to it (its result is linked to its generation when that is recorded). */
  async #linkRoot(sessionId: string): Promise<void> {
    await this.#messageLinks.update(sessionId, (link) => ({ ...link, sessionId }), this.#retentionMs);
  }

  /** Moves the session on to a successful generation: the next refine starts from its settings. */
  async #advanceSession(sessionId: string, generation: Generation): Promise<void> {
    const advance = (session: Session | undefined): Session | undefined =>
      session && {
        ...session,
        workflow: generation.workflow,
        settings: generation.settings,
        lastGenerationId: generation.id,
        updatedAt: this.#clock(),
      };
    await this.#sessions.update(sessionId, advance, this.#retentionMs);
  }

  /** The generations listed under `ids`, skipping (and unlisting) those whose record is gone or unreadable. */
  async #readListed(ids: readonly string[], unlist: (id: string) => Promise<void>): Promise<Generation[]> {
    const found = await Promise.all(ids.map(async (id) => this.#generations.get(id)));
    const missing = ids.filter((_, index) => found[index] === undefined);
    await Promise.all(missing.map(unlist));
    return found.filter((generation) => generation !== undefined);
  }
}
