/**
 * The world a benchmark runs in: ComfyUI emulators and the fake Discord in this process, members in the fake's guild,
 * the commands registered as `deploy-commands` does, and the real bot in a child process (bot-process.ts) pointed at
 * them. Nothing of the bot is replaced; the polling variant only changes which client `startComfycord` is given.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { REST } from 'discord.js';
import { deployCommands } from '../../src/commands/deploy.js';
import { COMMAND_DEFINITIONS } from '../../src/commands/index.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import {
  startFakeDiscord,
  type FakeDiscord,
  type FakeUser,
  type InteractionHandle,
} from '../../test/fakes/discord/index.js';
import { BotProcess } from './bot-process.js';
import { startNoWebSocketProxy, type NoWebSocketProxy } from './no-websocket-proxy.js';

/** The workflows made for benchmarks (see bench/workflows). */
export const BENCH_WORKFLOWS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'workflows');

/** What to start. */
export interface WorldOptions {
  /** One emulator per entry, with this time per sampler step (ms). */
  readonly stepMs: readonly number[];
  /** Emulators send sampler previews (ComfyUI's --preview-method auto). */
  readonly previews?: boolean;
  /** Members of the guild who send commands. */
  readonly members: number;
  /** More of the bot's environment (limits, prompts per server...). */
  readonly env?: Record<string, string>;
}

/** How to start (or restart) the bot. */
export interface BotOptions {
  /** Minimum time between two edits of a card; the production default when unset. */
  readonly cardIntervalMs?: number;
  /** Poll ComfyUI every this many ms, behind proxies without WebSocket support, instead of following events. */
  readonly pollOnlyMs?: number;
  readonly cpuProfileDir?: string;
  readonly trace?: boolean;
}

/** A running benchmark world. */
export class BenchWorld {
  #bot: BotProcess | undefined;
  #proxies: NoWebSocketProxy[] = [];
  #runs = 0;

  private constructor(
    readonly emulators: readonly Emulator[],
    readonly discord: FakeDiscord,
    readonly members: readonly FakeUser[],
    readonly dataDir: string,
    private readonly env: Record<string, string>,
  ) {}

  /** Starts the emulators and the fake Discord, adds the members and registers the commands (no bot yet). */
  static async start(options: WorldOptions): Promise<BenchWorld> {
    const emulators = await Promise.all(
      options.stepMs.map((stepMs) => startEmulator({ stepMs, previews: options.previews ?? false })),
    );
    const discord = await startFakeDiscord();
    const rest = new REST({ api: discord.apiUrl }).setToken(discord.token);
    await deployCommands(
      rest,
      { applicationId: discord.applicationId, guildId: discord.guild.id },
      COMMAND_DEFINITIONS,
    );
    const members = Array.from({ length: options.members }, (_, index) =>
      discord.createUser({ username: `member${index + 1}` }, discord.guild),
    );
    const dataDir = await mkdtemp(path.join(tmpdir(), 'comfycord-bench-'));
    const env = {
      DISCORD_TOKEN: discord.token,
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_API_URL: discord.apiUrl,
      WORKFLOWS_DIR: BENCH_WORKFLOWS_DIR,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ...options.env,
    };
    return new BenchWorld(emulators, discord, members, dataDir, env);
  }

  /** The bot process (once started). */
  get bot(): BotProcess {
    if (!this.#bot) throw new Error('the bot is not running');
    return this.#bot;
  }

  /** Starts a bot on a fresh data directory (stopping the one before). */
  async startBot(options: BotOptions = {}): Promise<BotProcess> {
    await this.stopBot();
    const run = path.join(this.dataDir, `bot${++this.#runs}`);
    const urls =
      options.pollOnlyMs === undefined ? this.emulators.map((emulator) => emulator.url) : await this.#proxyUrls();
    const env = {
      ...this.env,
      COMFY_URLS: urls.map((url, index) => `emu${index + 1}=${url}`).join(','),
      STORE_URL: `sqlite://${path.join(run, 'comfycord.sqlite')}`,
    };
    await mkdir(run, { recursive: true });
    this.#bot = await BotProcess.start({ env, dataDir: run, ...options });
    return this.#bot;
  }

  /** Kills the bot, if one runs, leaving whatever it still owed undelivered (for a benchmark done with it). */
  async abandonBot(): Promise<void> {
    await this.#bot?.kill();
    this.#bot = undefined;
  }

  /** Stops the bot, if one runs. */
  async stopBot(): Promise<void> {
    await this.#bot?.stop();
    this.#bot = undefined;
  }

  /** A member runs `/imagine` with a prompt in a workflow; the fake dispatches it at once. */
  imagine(member: FakeUser, prompt: string, workflow: string): Promise<InteractionHandle> {
    return this.discord.sendSlashCommand(this.imagineInput(member, prompt, workflow));
  }

  /** Several members run `/imagine` at the same moment: the fake dispatches them together, in one write. */
  imagineAll(
    requests: readonly { member: FakeUser; prompt: string; workflow: string }[],
  ): Promise<InteractionHandle[]> {
    return this.discord.sendSlashCommands(
      requests.map(({ member, prompt, workflow }) => this.imagineInput(member, prompt, workflow)),
    );
  }

  private imagineInput(member: FakeUser, prompt: string, workflow: string) {
    return { user: member, channel: this.discord.channel.id, name: 'imagine', options: { prompt, workflow } };
  }

  /** Resolves once the bot has made no REST call for `quietMs`. */
  async waitForQuiet(quietMs = 300, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let count = this.discord.calls.length;
    let since = Date.now();
    while (Date.now() - since < quietMs) {
      if (Date.now() > deadline) throw new Error(`the bot was still making REST calls after ${timeoutMs} ms`);
      await sleep(Math.min(50, quietMs));
      const now = this.discord.calls.length;
      if (now !== count) [count, since] = [now, Date.now()];
    }
  }

  /**
   * Resolves once the deliveries of the finished cards are over: their last steps (the session, the generation) are
   * store writes after the card, with no call to Discord (sessions open no thread until a member asks), so a quiet
   * moment means the bot is done.
   */
  async waitForSettled(): Promise<void> {
    await this.waitForQuiet();
  }

  /** How many REST calls the bot has made so far (a mark for counting a run's calls). */
  get callCount(): number {
    return this.discord.calls.length;
  }

  /** Stops everything and removes the data (the bot's log goes with it unless `keepData`). */
  async close(keepData = false): Promise<void> {
    await this.stopBot();
    await Promise.all(this.#proxies.map((proxy) => proxy.close()));
    await this.discord.close();
    await Promise.all(this.emulators.map((emulator) => emulator.close()));
    if (!keepData) await rm(this.dataDir, { recursive: true, force: true });
  }

  async #proxyUrls(): Promise<string[]> {
    if (this.#proxies.length === 0) {
      this.#proxies = await Promise.all(this.emulators.map((emulator) => startNoWebSocketProxy(emulator.url)));
    }
    return this.#proxies.map((proxy) => proxy.url);
  }
}
