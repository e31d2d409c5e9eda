/**
 * Three comfycord processes' worth of bot (`startComfycord`, three times in this test process, each with its own
 * name, shard and data directory) on one real redis-server, the guild on the first one's shard. One of them dispatches
 * the fleet's queue and shows the waiting jobs' positions on their cards; any may carry a job, showing its progress
 * and posting its finished card. Whoever carried it, a job's finished card is the last edit its card gets: a position
 * the dispatcher had still to show must never land after it. (It did: a late "Queued, position 1." replaced the
 * finished cards of the jobs another process carried, their pictures included, and the fleet's scenarios saw those
 * jobs stuck "Queued" although ComfyUI had run them.)
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
  type FakeUser,
} from '../fakes/discord/index.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from '../store/redis-server.js';
import { finishedCards, finishedCardStaysLast, hasEnded, type SentJob } from './outcomes.js';
import { statusOf } from '../e2e/card-reader.js';

/**
 * Long against the renders (2 ms a step): the dispatcher's newest position of a job is still waiting for its turn
 * when the job is handed off, run and finished elsewhere.
 */
const CARD_INTERVAL_MS = 2_000;

describe.runIf(shouldRunRedisTests('fleet suite (cards of jobs carried elsewhere)'))(
  'the cards of jobs one process dispatches and another carries',
  () => {
    let redis: RedisServer;
    let emulators: Emulator[];
    let discord: FakeDiscord;
    let channel: FakeChannel;
    let members: FakeUser[];
    let german: FakeUser;
    const bots: Comfycord[] = [];
    const dirs: string[] = [];

    beforeAll(async () => {
      for (const name of DISCORD_ENVIRONMENT_VARIABLES) delete process.env[name];
      redis = await startRedisServer();
      emulators = [await startEmulator({ stepMs: 2 }), await startEmulator({ stepMs: 2 })];
      discord = await startFakeDiscord();
      const onFirstShard =
        shardOf(discord.guild.id, 3) === 0
          ? { guild: discord.guild, channel: discord.channel }
          : discord.createGuild('On shard 0', discord.owner, { shard: [0, 3] });
      channel = onFirstShard.channel;
      members = [1, 2, 3, 4].map((number) => discord.createUser({ username: `member-${number}` }, onFirstShard.guild));
      german = discord.createUser({ username: 'spricht-deutsch', locale: 'de' }, onFirstShard.guild);
      const rest = new REST({ api: discord.apiUrl }).setToken(discord.token);
      await deployCommands(rest, { applicationId: discord.applicationId }, COMMAND_DEFINITIONS);
      for (const shard of [0, 1, 2]) {
        const dataDir = mkdtempSync(path.join(tmpdir(), `comfycord-elsewhere-${shard}-`));
        dirs.push(dataDir);
        const env = {
          DISCORD_TOKEN: discord.token,
          DISCORD_APPLICATION_ID: discord.applicationId,
          DISCORD_API_URL: discord.apiUrl,
          DISCORD_SHARD_COUNT: '3',
          DISCORD_SHARD_IDS: String(shard),
          COMFYCORD_PROCESS_NAME: `bot-${shard}`,
          COMFY_URLS: emulators.map((emulator, number) => `emu${number + 1}=${emulator.url}`).join(','),
          COMFY_PROMPTS_PER_SERVER: '1',
          MAX_JOBS_PER_MEMBER: '6',
          STORE_URL: redis.url,
          LOG_LEVEL: 'silent',
        };
        const config = loadConfig(env, { requireDiscord: true, interactive: false });
        bots.push(await startComfycord({ config, logger: silentLogger(), dataDir, cardIntervalMs: CARD_INTERVAL_MS }));
      }
    }, 60_000);

    afterAll(async () => {
      for (const bot of bots) await bot.stop().catch(() => undefined);
      await discord?.close();
      await Promise.all((emulators ?? []).map(async (emulator) => emulator.close()));
      await redis?.stop();
      await Promise.all(dirs.map(async (dir) => rm(dir, { recursive: true, force: true })));
    });

    it('end with the finished card, never with a position shown after it', async () => {
      // Six each from four members, so that jobs wait and the dispatcher keeps showing their positions.
      const jobs: SentJob[] = [];
      for (const user of members) {
        const markers = Array.from({ length: 6 }, (_, number) => `elsewhere-${user.username}-${number + 1}`);
        const handles = await discord.sendSlashCommands(
          markers.map((marker) => ({ user, channel, name: 'imagine', options: { prompt: `a pier ${marker}` } })),
        );
        await Promise.all(handles.map(async (handle) => handle.waitForCallback(10_000)));
        handles.forEach((handle, index) => jobs.push({ handle, memberId: user.id, marker: markers[index]! }));
      }

      await until(() => finishedCards(discord, jobs).every((cards) => cards === 1), 'every finished card', 60_000);
      // A position still waiting in the dispatcher would land within its card interval and replace the finished card.
      await until(() => jobs.every(hasEnded), 'every card to show its end', CARD_INTERVAL_MS * 3).catch(
        () => undefined,
      );
      const late = jobs.filter((job) => !finishedCardStaysLast(discord, job));
      expect(
        late.map((job) => `${job.marker}: ${statusOf(job.handle.original ?? {})}`),
        'cards edited after their finished card',
      ).toEqual([]);

      // The case this is about happened: processes that do not dispatch carried some of the jobs.
      const dispatcher = bots.findIndex((bot) => bot.runner.engine.leading);
      expect(dispatcher).not.toBe(-1);
      const dispatcherClient = `comfycord-bot-${dispatcher}-`;
      const sentByOthers = emulators
        .flatMap((emulator) => emulator.received)
        .filter((prompt) => !prompt.clientId?.startsWith(dispatcherClient));
      expect(sentByOthers.length, 'prompts the other processes sent').toBeGreaterThan(0);
    }, 90_000);

    it('tells a German member in /queue about the fleet’s processes in German, numbered, never named', async () => {
      const handle = await discord.sendSlashCommand({ user: german, channel, name: 'queue' });
      const answer = String((await handle.waitForCallback(10_000)).data?.['content'] ?? '');
      expect(answer).toContain('Bot-Prozesse: 3.');
      for (const number of [1, 2, 3])
        expect(answer).toMatch(new RegExp(`• Prozess ${number}, Shard \\d: (frei|\\d+ in Arbeit)`));
      expect(answer).not.toMatch(/bot-\d|process|idle|running/);
    }, 30_000);
  },
);

async function until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
