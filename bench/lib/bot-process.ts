/**
 * The parent's handle on the bot process (bot-child.ts): spawns `node --expose-gc --import tsx bench/lib/bot-child.ts`
 * with its stdout (the bot's JSON log) going to a file, starts the bot, samples its memory, and stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHILD = path.join(REPO_ROOT, 'bench', 'lib', 'bot-child.ts');
/** discord.js reads these from the environment; the bot under test must only use what it is given. */
const DISCORD_ENV = ['DISCORD_TOKEN', 'SHARDS', 'SHARD_COUNT'];

/** How to run the bot. */
export interface BotProcessOptions {
  /** The bot's environment, as `npm start` would read it (COMFY_URLS, DISCORD_*, STORE_URL, limits...). */
  readonly env: Record<string, string>;
  /** Where the bot keeps attached images; its log goes to `bot.log` here. */
  readonly dataDir: string;
  /** Minimum time between two edits of a card; the production default (1.5 s) when unset. */
  readonly cardIntervalMs?: number;
  /** Learn how prompts end by polling every this many ms instead of the WebSocket (see bot-child.ts). */
  readonly pollOnlyMs?: number;
  /** Write a CPU profile of the bot into this folder when it stops (`node --cpu-prof`). */
  readonly cpuProfileDir?: string;
  /** Record when interactions reach discord.js and when callbacks are answered (returned by `sample`). */
  readonly trace?: boolean;
}

const memorySchema = z.object({
  rss: z.number(),
  heapTotal: z.number(),
  heapUsed: z.number(),
  external: z.number(),
  arrayBuffers: z.number(),
});

const sampleSchema = z.object({
  memory: memorySchema,
  gcForced: z.boolean(),
  caches: z.record(z.string(), z.number()).optional(),
  loopDelayMs: z.object({ p50: z.number(), p99: z.number(), max: z.number() }),
  cpu: z.object({ user: z.number(), system: z.number() }),
  trace: z.object({
    interactions: z.record(z.string(), z.number()),
    callbackCreated: z.record(z.string(), z.number()),
    callbackSent: z.record(z.string(), z.number()),
    callbacks: z.record(z.string(), z.number()),
    events: z.record(z.string(), z.number()),
    succeeded: z.record(z.string(), z.number()),
  }),
});

/** The bot's memory (after a forced GC), discord.js cache sizes, event-loop delay since the last sample, CPU time. */
export type BotSample = z.infer<typeof sampleSchema>;

const replySchema = z.looseObject({ id: z.number(), type: z.string(), message: z.string().optional() });

/** A running bot process. */
export class BotProcess {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (raw: unknown) => this.#receive(raw));
    this.#exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        const error = new Error(`the bot process exited (code ${code}, signal ${signal})`);
        for (const waiter of this.#pending.values()) waiter.reject(error);
        this.#pending.clear();
        resolve();
      }),
    );
  }

  /** Spawns the process and starts the bot; resolves once it is connected to Discord and its servers are known. */
  static async start(options: BotProcessOptions): Promise<BotProcess> {
    const log = openSync(path.join(options.dataDir, 'bot.log'), 'a');
    const profile = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
    const env = { ...process.env };
    for (const name of DISCORD_ENV) delete env[name];
    const child = spawn(process.execPath, ['--expose-gc', ...profile, '--import', 'tsx', CHILD], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', log, 'inherit', 'ipc'],
    });
    closeSync(log);
    const bot = new BotProcess(child);
    try {
      await bot.#request({
        type: 'start',
        env: options.env,
        dataDir: options.dataDir,
        cardIntervalMs: options.cardIntervalMs,
        pollOnlyMs: options.pollOnlyMs,
        trace: options.trace,
      });
    } catch (error) {
      child.kill();
      throw error;
    }
    return bot;
  }

  /** The process id (to find its CPU profile). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Forces a GC in the bot and measures it. */
  async sample(): Promise<BotSample> {
    return sampleSchema.parse(await this.#request({ type: 'sample' }));
  }

  /** Starts sampling the bot's CPU (see window-profiler.ts). */
  async startProfile(): Promise<void> {
    await this.#request({ type: 'profile-start' });
  }

  /** Stops sampling and writes the profile to `file`. */
  async stopProfile(file: string): Promise<void> {
    await this.#request({ type: 'profile-stop', file });
  }

  /** Stops the bot as `npm start` does on SIGTERM and waits for the process to exit. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null) {
      await this.#request({ type: 'stop' }).catch(() => this.#child.kill());
    }
    await this.#exited;
  }

  /** Ends the process at once, without the clean stop (which would first deliver everything still owed). */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await this.#exited;
  }

  #request(message: Record<string, unknown>): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send({ id, ...message });
    });
  }

  #receive(raw: unknown): void {
    const parsed = replySchema.safeParse(raw);
    if (!parsed.success) return;
    const waiter = this.#pending.get(parsed.data.id);
    if (!waiter) return;
    this.#pending.delete(parsed.data.id);
    if (parsed.data.type === 'error') waiter.reject(new Error(`bot process: ${parsed.data.message ?? 'failed'}`));
    else waiter.resolve(parsed.data);
  }
}
