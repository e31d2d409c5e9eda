/**
 * The bot as a real process, started the way `npm start` runs `src/index.ts` (minus the build), against an emulator
 * and a fake Discord, with one SQLite file that outlives each process: what crash and restart tests kill.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Emulator } from '../../src/emulator/index.js';
import type { FakeDiscord } from '../fakes/discord/index.js';

/** Bot processes sharing one store; `close` kills whatever is still running and removes the store. */
export class BotProcesses {
  /** Everything the processes wrote: when a test fails, it is the only account of what they did. */
  readonly output: string[] = [];
  private readonly children: ChildProcess[] = [];

  private constructor(
    private readonly emulator: Emulator,
    private readonly discord: FakeDiscord,
    private readonly dataDir: string,
  ) {}

  /** The SQLite file the processes share (a test may damage a row in it between two of them). */
  get storeFile(): string {
    return path.join(this.dataDir, 'bot.sqlite');
  }

  static async create(emulator: Emulator, discord: FakeDiscord): Promise<BotProcesses> {
    return new BotProcesses(emulator, discord, await mkdtemp(path.join(tmpdir(), 'comfycord-process-')));
  }

  /** Starts a bot process with only the environment it needs (plus `env`). */
  start(env: Record<string, string> = {}): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
      env: {
        PATH: process.env.PATH,
        DISCORD_TOKEN: this.discord.token,
        DISCORD_APPLICATION_ID: this.discord.applicationId,
        DISCORD_API_URL: this.discord.apiUrl,
        COMFY_URLS: `emu=${this.emulator.url}`,
        STORE_URL: `sqlite://${this.storeFile}`,
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        ...env,
      },
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.push(child);
    child.stdout?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    return child;
  }

  /** Kills every process still running and removes the store. */
  async close(): Promise<void> {
    const running = this.children.filter((child) => child.exitCode === null && child.signalCode === null);
    await Promise.all(running.map(async (child) => killed(child, 'SIGKILL')));
    await rm(this.dataDir, { recursive: true, force: true });
  }
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
