/**
 * The bot connects only the shards it is given: with DISCORD_SHARD_COUNT=2 and DISCORD_SHARD_IDS naming the default
 * guild's shard, it identifies with that shard alone, answers /imagine there, and receives nothing from a guild on the
 * other shard (Discord would send that guild's interactions to the process holding the other shard).
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REST } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startComfycord, type Comfycord } from '../../src/app.js';
import { deployCommands } from '../../src/commands/deploy.js';
import { COMMAND_DEFINITIONS } from '../../src/commands/index.js';
import { loadConfig } from '../../src/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { silentLogger } from '../../src/logger.js';
import {
  DISCORD_ENVIRONMENT_VARIABLES,
  shardOf,
  startFakeDiscord,
  type FakeChannel,
  type FakeDiscord,
} from '../fakes/discord/index.js';
import { statusOf } from './card-reader.js';

let emulator: Emulator;
let discord: FakeDiscord;
let bot: Comfycord;
let dataDir: string;
let ownShard: number;
let otherChannel: FakeChannel;

beforeAll(async () => {
  for (const name of DISCORD_ENVIRONMENT_VARIABLES) delete process.env[name];
  dataDir = mkdtempSync(path.join(tmpdir(), 'comfycord-shards-'));
  emulator = await startEmulator({ stepMs: 2 });
  discord = await startFakeDiscord();
  ownShard = shardOf(discord.guild.id, 2);
  otherChannel = discord.createGuild('Elsewhere', discord.owner, { shard: [1 - ownShard, 2] }).channel;
  // Global commands, so both guilds know /imagine's options.
  const rest = new REST({ api: discord.apiUrl }).setToken(discord.token);
  await deployCommands(rest, { applicationId: discord.applicationId }, COMMAND_DEFINITIONS);
  bot = await startComfycord({
    config: loadConfig(
      {
        DISCORD_TOKEN: discord.token,
        DISCORD_APPLICATION_ID: discord.applicationId,
        DISCORD_API_URL: discord.apiUrl,
        DISCORD_SHARD_COUNT: '2',
        DISCORD_SHARD_IDS: String(ownShard),
        COMFY_URLS: `emu=${emulator.url}`,
        STORE_URL: `sqlite://${path.join(dataDir, 'comfycord.sqlite')}`,
        LOG_LEVEL: 'silent',
      },
      { requireDiscord: true, interactive: false },
    ),
    logger: silentLogger(),
    dataDir,
    cardIntervalMs: 50,
  });
});

afterAll(async () => {
  await bot?.stop();
  await discord?.close();
  await emulator?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('a bot process given one shard of two', () => {
  it('identifies with that shard only and knows only its guilds', () => {
    expect(discord.gateway.identifies.map((identify) => identify.shard)).toEqual([[ownShard, 2]]);
    expect([...bot.client.guilds.cache.keys()]).toEqual([discord.guild.id]);
  });

  it("answers /imagine in its shard's guild", async () => {
    const handle = await discord.sendSlashCommand({
      user: discord.member,
      channel: discord.channel,
      name: 'imagine',
      options: { prompt: 'a fox on shard duty' },
    });
    expect(handle.record.deliveredTo).toBe(1);
    const final = await handle.waitForOriginal((message) => message.attachments.length > 0, 20_000);
    expect(statusOf(final)).toMatch(/^Done in/);
  });

  it("receives nothing from a guild on the other shard, where another process's shard would answer", async () => {
    const handle = await discord.sendSlashCommand({
      user: discord.owner,
      channel: otherChannel,
      name: 'imagine',
      options: { prompt: 'a fox elsewhere' },
    });
    expect(handle.record.deliveredTo).toBe(0);
    expect(discord.calls.filter((call) => call.path.includes(`/interactions/${handle.record.id}/`))).toEqual([]);
  });
});
