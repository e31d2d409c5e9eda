/**
 * The bot killed mid-delivery: a real bot process (`src/index.ts`) is told by `COMFYCORD_FAULT_POINT` to SIGKILL
 * itself at one named step of delivering a result, then started again on the same store and data directory. Whatever
 * the step, the member ends up with exactly one finished card (counted in the fake Discord's call log), one session
 * thread and one help message in it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { FAULT_POINTS } from '../../src/fault-point.js';
import { refineHelp } from '../../src/sessions/index.js';
import { DISCORD_ENVIRONMENT_VARIABLES, startFakeDiscord, type FakeDiscord } from '../fakes/discord/index.js';
import type { RecordedCall } from '../fakes/discord/call-log.js';
import { recordFault } from '../faults/ledger.js';
import { startBotChild, type BotChild } from './bot-child.js';

let emulator: Emulator;
let discord: FakeDiscord;
const children: BotChild[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  for (const name of DISCORD_ENVIRONMENT_VARIABLES) delete process.env[name];
  emulator = await startEmulator({ stepMs: 20 });
  discord = await startFakeDiscord();
});

afterAll(async () => {
  for (const bot of children) bot.child.kill('SIGKILL');
  await discord?.close();
  await emulator?.close();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function startBot(workDir: string, faultPoint?: string): BotChild {
  const bot = startBotChild(workDir, {
    DISCORD_TOKEN: discord.token,
    DISCORD_APPLICATION_ID: discord.applicationId,
    DISCORD_API_URL: discord.apiUrl,
    COMFY_URLS: `emu=${emulator.url}`,
    STORE_URL: `sqlite://${path.join(workDir, 'bot.sqlite')}`,
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    ...(faultPoint === undefined ? {} : { COMFYCORD_FAULT_POINT: faultPoint }),
  });
  children.push(bot);
  return bot;
}

async function until(condition: () => boolean, what: string, bot: BotChild, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${bot.output.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const connected = (bot: BotChild) => bot.output.join('').includes('connected to Discord');

/** A finished card written where the member sees it: files, no Cancel button, accepted by Discord. */
function isFinishedCardPost(call: RecordedCall, token: string): boolean {
  if (call.status !== 200 || call.files.length === 0) return false;
  if (JSON.stringify(call.body).includes('"custom_id":"cancel:')) return false;
  const onCard = call.method === 'PATCH' && call.path.includes(`/webhooks/${discord.applicationId}/${token}/`);
  const inChannel = call.method === 'POST' && call.route === '/channels/:channelId/messages';
  return onCard || inChannel;
}

describe('the bot killed (SIGKILL) mid-delivery', () => {
  it.each(FAULT_POINTS)(
    'killed at %s, the next start leaves exactly one finished card, one thread and one help message',
    async (point) => {
      const workDir = await mkdtemp(path.join(tmpdir(), 'comfycord-crash-'));
      dirs.push(workDir);
      const first = startBot(workDir, point);
      await until(() => connected(first), 'the first bot to connect', first);
      const prompt = `a lighthouse for ${point}`;
      const handle = await discord.sendSlashCommand({
        user: discord.member,
        channel: discord.channel,
        name: 'imagine',
        options: { prompt },
      });
      const ended = await first.exited;
      expect(ended, first.output.join('')).toEqual({ code: null, signal: 'SIGKILL' });

      const second = startBot(workDir);
      await until(() => connected(second), 'the second bot to connect', second);
      const card = await handle.waitForOriginal((message) => message.attachments.length > 0, 60_000);
      expect(card.content).toMatch(/^Done in/);
      const threadId = card.id;
      const helps = () =>
        discord.calls.filter(
          (call) =>
            call.status === 200 &&
            call.path === `/channels/${threadId}/messages` &&
            (call.body as { content?: string } | null)?.content === refineHelp('//'),
        );
      await until(() => helps().length > 0, 'the help in the session thread', second);
      // A clean stop waits for every delivery under way: nothing the second bot owes is left half done.
      second.child.kill('SIGTERM');
      expect((await second.exited).code, second.output.join('')).toBe(0);

      const finished = discord.calls.filter((call) => isFinishedCardPost(call, handle.token));
      expect(finished, `finished cards after a kill at ${point}`).toHaveLength(1);
      recordFault('the bot killed (SIGKILL) mid-delivery', [{ deliveries: finished.length }]);
      const threads = discord.calls.filter(
        (call) => call.status < 300 && call.path === `/channels/${discord.channel.id}/messages/${card.id}/threads`,
      );
      expect(threads).toHaveLength(1);
      const helpMessages = new Set(helps().map((call) => (call.response as { id: string }).id));
      expect(helpMessages.size).toBe(1);
      expect(emulator.received.filter((job) => JSON.stringify(job.prompt).includes(prompt))).toHaveLength(1);
    },
    150_000,
  );
});
