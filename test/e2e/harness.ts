/**
 * The end-to-end rig: the ComfyUI emulator, the fake Discord and the real bot (`startComfycord`, the same function
 * `npm start` runs) wired together over sockets on 127.0.0.1, with a fresh SQLite file per rig.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REST } from 'discord.js';
import { startComfycord, type Comfycord } from '../../src/app.js';
import { deployCommands } from '../../src/commands/deploy.js';
import { COMMAND_DEFINITIONS } from '../../src/commands/index.js';
import { loadConfig } from '../../src/config.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import {
  DISCORD_ENVIRONMENT_VARIABLES,
  startFakeDiscord,
  type FakeDiscord,
  type FakeDiscordOptions,
} from '../fakes/discord/index.js';

export interface RigOptions {
  readonly emulator?: EmulatorOptions;
  readonly discord?: FakeDiscordOptions;
  /** Extra environment for the bot's config (COMFY_URLS and STORE_URL are set by the rig). */
  readonly env?: Record<string, string>;
  readonly logger?: Logger;
  /** Reuse a data directory (a restart on the same SQLite file). */
  readonly dataDir?: string;
  /**
   * Register the registry's commands in the default guild first, as an operator does with `deploy-commands`, so the
   * fake types every option from the real definitions (default true).
   */
  readonly deployCommands?: boolean;
}

export interface Rig {
  readonly emulator: Emulator;
  readonly discord: FakeDiscord;
  readonly bot: Comfycord;
  readonly dataDir: string;
  /** Stops the bot only (emulator and fake Discord keep running), e.g. to restart it. */
  stopBot(): Promise<void>;
  /** Starts a new bot process on the same data directory. */
  restartBot(): Promise<Comfycord>;
  close(): Promise<void>;
}

/** Starts the emulator, the fake Discord and the bot. */
export async function startRig(options: RigOptions = {}): Promise<Rig> {
  for (const name of DISCORD_ENVIRONMENT_VARIABLES) delete process.env[name];
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'comfycord-e2e-'));
  const emulator = await startEmulator({ stepMs: 2, ...options.emulator });
  const discord = await startFakeDiscord(options.discord);
  if (options.deployCommands !== false) await registerCommands(discord);
  const start = () =>
    startComfycord({
      config: loadConfig(
        {
          DISCORD_TOKEN: discord.token,
          DISCORD_APPLICATION_ID: discord.applicationId,
          DISCORD_API_URL: discord.apiUrl,
          COMFY_URLS: `emu=${emulator.url}`,
          STORE_URL: `sqlite://${path.join(dataDir, 'comfycord.sqlite')}`,
          LOG_LEVEL: 'silent',
          ...options.env,
        },
        { requireDiscord: true, interactive: false },
      ),
      logger: options.logger ?? silentLogger(),
      dataDir,
      cardIntervalMs: 50,
    });
  let bot = await start();
  let running = true;
  const rig: Rig = {
    emulator,
    discord,
    get bot() {
      return bot;
    },
    dataDir,
    async stopBot() {
      if (running) await bot.stop();
      running = false;
    },
    async restartBot() {
      await rig.stopBot();
      bot = await start();
      running = true;
      return bot;
    },
    async close() {
      await rig.stopBot();
      await discord.close();
      await emulator.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return rig;
}

/** Registers every command of the registry in the fake's default guild, through `deployCommands`. */
async function registerCommands(discord: FakeDiscord): Promise<void> {
  const rest = new REST({ api: discord.apiUrl }).setToken(discord.token);
  await deployCommands(rest, { applicationId: discord.applicationId, guildId: discord.guild.id }, COMMAND_DEFINITIONS);
}
