/**
 * Bot processes one after the other on one data directory (its SQLite file, `data/results`, `data/inputs`), each
 * started as `npm start` runs `src/index.ts` (bot-child.ts), against an emulator and a fake Discord: what the crash
 * and restart tests kill and start again. `useBotProcesses` gives a test file the three for all its tests.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { DISCORD_ENVIRONMENT_VARIABLES, startFakeDiscord, type FakeDiscord } from '../fakes/discord/index.js';
import { startBotChild, type BotChild } from './bot-child.js';

/** Bot processes sharing one data directory; `close` kills whatever is still running and removes the directory. */
export class BotProcesses {
  private readonly bots: BotChild[] = [];

  private constructor(
    private readonly emulator: Emulator,
    private readonly discord: FakeDiscord,
    private readonly dataDir: string,
  ) {}

  static async create(emulator: Emulator, discord: FakeDiscord): Promise<BotProcesses> {
    return new BotProcesses(emulator, discord, await mkdtemp(path.join(tmpdir(), 'comfycord-process-')));
  }

  /** Everything the processes wrote, in the order they started: when a test fails, the only account of them. */
  get output(): string[] {
    return this.bots.flatMap((bot) => bot.output);
  }

  /** The SQLite file the processes share (a test may damage a row in it between two of them). */
  get storeFile(): string {
    return path.join(this.dataDir, 'bot.sqlite');
  }

  /** Starts a bot process with only the environment it needs (plus `env`). */
  start(env: Record<string, string> = {}): ChildProcess {
    const bot = startBotChild(this.dataDir, {
      DISCORD_TOKEN: this.discord.token,
      DISCORD_APPLICATION_ID: this.discord.applicationId,
      DISCORD_API_URL: this.discord.apiUrl,
      COMFY_URLS: `emu=${this.emulator.url}`,
      STORE_URL: `sqlite://${this.storeFile}`,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      ...env,
    });
    this.bots.push(bot);
    return bot.child;
  }

  /** Kills every process still running and removes the data directory. */
  async close(): Promise<void> {
    const running = this.bots.filter(({ child }) => child.exitCode === null && child.signalCode === null);
    await Promise.all(running.map(async ({ child }) => killed(child, 'SIGKILL')));
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** What a test file's bot processes run against, started before its tests and stopped after them. */
export interface BotProcessWorld {
  readonly emulator: Emulator;
  readonly discord: FakeDiscord;
  readonly bots: BotProcesses;
}

/** Starts an emulator (`stepMs` per sampler step), a fake Discord and their bot processes for the file's tests. */
export function useBotProcesses(stepMs: number): BotProcessWorld {
  let world: BotProcessWorld | undefined;
  beforeAll(async () => {
    for (const name of DISCORD_ENVIRONMENT_VARIABLES) delete process.env[name];
    const emulator = await startEmulator({ stepMs });
    const discord = await startFakeDiscord();
    world = { emulator, discord, bots: await BotProcesses.create(emulator, discord) };
  });
  afterAll(async () => {
    await world?.bots.close();
    await world?.discord.close();
    await world?.emulator.close();
  });
  const started = () => {
    if (world === undefined) throw new Error('the bot processes start in beforeAll');
    return world;
  };
  return {
    get emulator() {
      return started().emulator;
    },
    get discord() {
      return started().discord;
    },
    get bots() {
      return started().bots;
    },
  };
}

/** Resolves with the exit code once the process has exited. */
export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Sends `signal` and resolves once the process is gone. */
export async function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  const exited = exitOf(child);
  child.kill(signal);
  await exited;
}
