/**
 * The ComfyUI servers the runner dispatches to. Each is health-checked with `/system_stats` (every few seconds while
 * up, with backoff while down); when it comes up its workflows are re-validated against its `/object_info`. When a
 * server goes down its client is replaced by a fresh one, so the handles of prompts that were on it end (the runner
 * has already moved those jobs) and nothing keeps polling a dead address.
 */
import { Backoff, type BackoffOptions } from '../comfy/backoff.js';
import { ComfyProtocolError, type ComfyServer } from '../comfy/index.js';
import { NO_OBJECT_INFO } from '../comfy/object-info.js';
import type { ComfyServerConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { assessServer, type ServerCapabilities, type WorkflowSource } from './server-capabilities.js';
import { chooseServer, hasFreeSlot, smoothDuration, type ServerLoad } from './server-choice.js';

/** up: checked and usable; down: failing checks; unknown: not checked yet. */
export type ServerHealth = 'up' | 'down' | 'unknown';

/**
 * Creates the client of one server (a `ComfyClient` in production). `clientId` is the bot's WebSocket client id,
 * the same across restarts, so prompts submitted before a restart keep sending their events to the bot.
 */
export type ConnectServer = (server: ComfyServerConfig, clientId: string) => ComfyServer;

/** How the pool is set up. */
export interface ServerPoolOptions {
  readonly servers: readonly ComfyServerConfig[];
  readonly connect: ConnectServer;
  readonly workflows: WorkflowSource;
  /** Prompts one server may hold at once (running plus ready). */
  readonly promptsPerServer: number;
  readonly logger: Logger;
  /** How often a healthy server is checked. Default 5 s. */
  readonly healthIntervalMs?: number;
  /** Delays between checks of a server that is down. Default 500 ms to 30 s. */
  readonly downBackoff?: BackoffOptions;
  /** Consecutive failed checks before a server that was up counts as down. Default 2. */
  readonly failuresBeforeDown?: number;
  /**
   * How many prompts hold a slot on the server, counted where every process of a fleet sees them (the shared queue);
   * this pool's own jobs when unset.
   */
  readonly slotsTaken?: (server: string) => number;
  readonly onUp: (server: string) => void;
  readonly onDown: (server: string, error: unknown) => void;
  /** A server that was up and suspected (see `suspect`) passed its check: it takes jobs again. */
  readonly onCleared?: (server: string) => void;
}

/** What `/queue` and the metrics show of one server. */
export interface ServerStatus {
  readonly name: string;
  readonly health: ServerHealth;
  readonly inFlight: number;
  readonly capacity: number;
  readonly averageDurationMs: number | undefined;
  /** The workflows it can run (lower-case names), as of its last start. */
  readonly workflows: readonly string[];
  readonly downSince: number | undefined;
  /** Down, but its last check got an answer (an error status, an unusable body): it is not unreachable. */
  readonly answering: boolean;
}

interface PoolServer {
  readonly config: ComfyServerConfig;
  /** Created by `start`, replaced when the server goes down. */
  client: ComfyServer | undefined;
  health: ServerHealth;
  readonly jobs: Set<string>;
  averageDurationMs: number | undefined;
  capabilities: ServerCapabilities | undefined;
  /** Its last /object_info answer could not be used; checked again at every health check. */
  unusableAnswer: boolean;
  failures: number;
  /**
   * A request to it failed to connect while it counted as up: it takes no new job until a check answers. Without
   * this, a job handed back by the dead server went straight to it again, and a waiting job's attempts were spent
   * there in the moment before two failed checks counted it as down.
   */
  suspected: boolean;
  checking: boolean;
  downSince: number | undefined;
  /** The last failed check got an answer from the server (`ComfyProtocolError`). */
  answering: boolean;
  readonly backoff: Backoff;
  timer: NodeJS.Timeout | undefined;
}

/** The servers, their health and their load. */
export class ServerPool {
  readonly #servers = new Map<string, PoolServer>();
  readonly #options: ServerPoolOptions;
  #running = false;
  #clientId = '';
  /** Clients under the client ids of prompts taken over from other processes (see `clientAs`). */
  readonly #adopted = new Map<string, ComfyServer>();

  constructor(options: ServerPoolOptions) {
    this.#options = options;
    for (const config of options.servers) {
      this.#servers.set(config.name, {
        config,
        client: undefined,
        health: 'unknown',
        jobs: new Set(),
        averageDurationMs: undefined,
        capabilities: undefined,
        unusableAnswer: false,
        failures: 0,
        suspected: false,
        checking: false,
        downSince: undefined,
        answering: false,
        backoff: new Backoff(options.downBackoff ?? { minMs: 500, maxMs: 30_000 }),
        timer: undefined,
      });
    }
  }

  /** Connects to every server as `clientId` and starts checking them. */
  start(clientId: string): void {
    if (this.#running) return;
    this.#running = true;
    this.#clientId = clientId;
    for (const server of this.#servers.values()) {
      server.client = this.#options.connect(server.config, clientId);
      this.#schedule(server, 0);
    }
  }

  /** Stops the checks and closes every client (prompts keep running on their servers). */
  async stop(): Promise<void> {
    this.#running = false;
    const closing = [...this.#servers.values()].map((server) => {
      clearTimeout(server.timer);
      return server.client?.close();
    });
    closing.push(...[...this.#adopted.values()].map((client) => client.close()));
    this.#adopted.clear();
    await Promise.allSettled(closing);
  }

  /** The current client of a server (once started). */
  client(name: string): ComfyServer | undefined {
    return this.#servers.get(name)?.client;
  }

  /** The ComfyUI client id this pool's clients use. */
  get clientId(): string {
    return this.#clientId;
  }

  /**
   * A client of the server listening under another client id: the one a prompt was submitted under by a process
   * that is gone (ComfyUI sends a prompt's progress only to that id's socket). Made once per id, closed on `stop`.
   */
  clientAs(name: string, clientId: string | undefined): ComfyServer | undefined {
    if (clientId === undefined || clientId === this.#clientId) return this.client(name);
    const server = this.#servers.get(name);
    if (server === undefined || !this.#running) return undefined;
    const key = `${name}\u0000${clientId}`;
    let adopted = this.#adopted.get(key);
    if (adopted === undefined) {
      adopted = this.#options.connect(server.config, clientId);
      this.#adopted.set(key, adopted);
    }
    return adopted;
  }

  /** True when the server is configured. */
  has(name: string): boolean {
    return this.#servers.has(name);
  }

  /** What the server can run, once it has been up. */
  capabilities(name: string): ServerCapabilities | undefined {
    return this.#servers.get(name)?.capabilities;
  }

  /** True when every server has been checked at least once (so "no server can run it" is a fact). */
  get allAssessed(): boolean {
    return [...this.#servers.values()].every((server) => server.capabilities !== undefined);
  }

  /** True when some server that is up has a free slot. */
  hasFreeSlot(): boolean {
    return this.#loads().some(hasFreeSlot);
  }

  /** The best free server among those `canRun` accepts. */
  choose(canRun: (name: string) => boolean): string | undefined {
    return chooseServer(this.#loads(), canRun)?.name;
  }

  /** Counts a job against the server's slots until `release`. */
  reserve(name: string, jobId: string): void {
    this.#servers.get(name)?.jobs.add(jobId);
  }

  /** Frees the job's slot. */
  release(name: string, jobId: string): void {
    this.#servers.get(name)?.jobs.delete(jobId);
  }

  /** The jobs holding slots on a server. */
  jobsOn(name: string): string[] {
    return [...(this.#servers.get(name)?.jobs ?? [])];
  }

  /** Learns how long a job took on the server, to prefer faster servers. */
  recordDuration(name: string, durationMs: number): void {
    const server = this.#servers.get(name);
    if (server) server.averageDurationMs = smoothDuration(server.averageDurationMs, durationMs);
  }

  /**
   * A request to the server failed to connect: it takes no new job until it is checked, now rather than at the next
   * interval (a check that answers clears it; failed ones count it as down).
   */
  suspect(name: string): void {
    const server = this.#servers.get(name);
    if (server?.health !== 'up' || server.suspected) return;
    server.suspected = true;
    this.#schedule(server, 0);
  }

  /** Every server's state, in configuration order. */
  status(): ServerStatus[] {
    return [...this.#servers.values()].map((server) => ({
      name: server.config.name,
      health: server.health,
      inFlight: this.#slotsTaken(server),
      capacity: this.#options.promptsPerServer,
      averageDurationMs: server.averageDurationMs,
      workflows: [...(server.capabilities?.workflows ?? [])],
      downSince: server.downSince,
      answering: server.health === 'down' && server.answering,
    }));
  }

  #loads(): ServerLoad[] {
    return [...this.#servers.values()].map((server) => ({
      name: server.config.name,
      healthy: server.health === 'up' && !server.suspected,
      inFlight: this.#slotsTaken(server),
      capacity: this.#options.promptsPerServer,
      averageDurationMs: server.averageDurationMs,
    }));
  }

  #slotsTaken(server: PoolServer): number {
    return this.#options.slotsTaken?.(server.config.name) ?? server.jobs.size;
  }

  #schedule(server: PoolServer, delayMs: number): void {
    clearTimeout(server.timer);
    if (!this.#running) return;
    server.timer = setTimeout(() => void this.#check(server), delayMs);
    server.timer.unref();
  }

  async #check(server: PoolServer): Promise<void> {
    // One check at a time; the one in flight schedules the next.
    const client = server.client;
    if (server.checking || client === undefined) return;
    server.checking = true;
    try {
      await client.systemStats();
      if (server.health !== 'up' || server.unusableAnswer) await this.#assess(server, client);
      if (!this.#running || client !== server.client) return;
      this.#checkPassed(server);
    } catch (error) {
      if (!this.#running || client !== server.client) return;
      this.#checkFailed(server, error);
    } finally {
      server.checking = false;
    }
  }

  // A server that answers /object_info with something unusable is up, not unreachable: it runs no workflow until a
  // later check reads a usable answer.
  async #assess(server: PoolServer, client: ComfyServer): Promise<void> {
    const logger = this.#options.logger.child({ server: server.config.name });
    let objectInfo = NO_OBJECT_INFO;
    try {
      objectInfo = await client.objectInfo();
      server.unusableAnswer = false;
    } catch (error) {
      if (!(error instanceof ComfyProtocolError)) throw error;
      if (server.unusableAnswer && server.capabilities !== undefined) return;
      logger.warn({ err: error }, error.problem);
      server.unusableAnswer = true;
    }
    server.capabilities = assessServer(server.config.name, objectInfo, this.#options.workflows, logger);
  }

  #checkPassed(server: PoolServer): void {
    server.failures = 0;
    server.backoff.reset();
    const wasUp = server.health === 'up';
    const cleared = wasUp && server.suspected;
    server.suspected = false;
    server.health = 'up';
    server.downSince = undefined;
    this.#schedule(server, this.#options.healthIntervalMs ?? 5_000);
    if (!wasUp) {
      this.#options.logger.info({ server: server.config.name }, 'comfy server is up');
      this.#options.onUp(server.config.name);
    }
    if (cleared) this.#options.onCleared?.(server.config.name);
  }

  #checkFailed(server: PoolServer, error: unknown): void {
    server.failures += 1;
    server.answering = error instanceof ComfyProtocolError;
    const threshold = server.health === 'up' ? (this.#options.failuresBeforeDown ?? 2) : 1;
    if (server.failures < threshold) return this.#schedule(server, this.#options.downBackoff?.minMs ?? 500);
    const wasDown = server.health === 'down';
    server.health = 'down';
    server.suspected = false;
    this.#schedule(server, server.backoff.next());
    if (wasDown) return;
    server.downSince = Date.now();
    const what =
      error instanceof ComfyProtocolError ? `comfy server is not usable: ${error.problem}` : 'comfy server is down';
    this.#options.logger.warn({ server: server.config.name, err: error }, what);
    // Tell the runner first (it abandons the jobs on this client), then replace the client.
    this.#options.onDown(server.config.name, error);
    const old = server.client;
    server.client = this.#options.connect(server.config, this.#clientId);
    void old?.close().catch((closeError: unknown) => {
      this.#options.logger.debug({ err: closeError }, 'closing the client of a down server failed');
    });
  }
}
