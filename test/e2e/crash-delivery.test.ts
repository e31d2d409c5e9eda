/**
 * The bot killed mid-render and mid-delivery: a real bot process (`src/index.ts`) is SIGKILLed while ComfyUI renders
 * its job, or told by `COMFYCORD_FAULT_POINT` to SIGKILL itself at one named step of delivering a result, then started
 * again on the same store and data directory. Whatever the moment, the member ends up with exactly one finished card
 * (counted in the fake Discord's call log), no thread and no help message (a session costs no call under Discord's
 * global limit until a member uses it), and ComfyUI ran the prompt once; asked for, the thread opens exactly once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { DELIVERY_FAULT_POINTS } from '../../src/fault-point.js';
import { refineHelp } from '../../src/sessions/index.js';
import {
  DISCORD_ENVIRONMENT_VARIABLES,
  startFakeDiscord,
  type FakeDiscord,
  type InteractionHandle,
} from '../fakes/discord/index.js';
import type { RecordedCall } from '../fakes/discord/call-log.js';
import { recordFault } from '../faults/ledger.js';
import { startBotChild, type BotChild } from './bot-child.js';
import { buttonId } from './helpers.js';
import { statusOf } from './card-reader.js';

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

/**
 * Restarts the bot on `workDir` and checks the member got exactly one finished card for `handle`'s job, at no cost
 * under Discord's global limit (no thread, no help message), and that the session's thread opens exactly once when
 * the member asks for it on a third start. A failure written to a job's record before the kill is told by the next
 * start in the member's language.
 */
async function restartAndCountOnce(
  workDir: string,
  handle: InteractionHandle,
  prompt: string,
  what: string,
  /** The fault-ledger row this kill counts under; none for the mid-render case (kill-mid-render.test.ts has it). */
  fault: string | undefined = 'the bot killed (SIGKILL) mid-delivery',
) {
  const second = startBot(workDir);
  await until(() => connected(second), 'the second bot to connect', second);
  const card = await handle.waitForOriginal((message) => message.attachments.length > 0, 60_000);
  expect(statusOf(card)).toMatch(/^Done in/);
  // A clean stop waits for every delivery under way: nothing the second bot owes is left half done.
  second.child.kill('SIGTERM');
  expect((await second.exited).code, second.output.join('')).toBe(0);

  const finished = discord.calls.filter((call) => isFinishedCardPost(call, handle.token));
  expect(finished, `finished cards after a kill ${what}`).toHaveLength(1);
  if (fault !== undefined) recordFault(fault, [{ deliveries: finished.length }]);
  const threads = () =>
    discord.calls.filter(
      (call) => call.status < 300 && call.path === `/channels/${discord.channel.id}/messages/${card.id}/threads`,
    );
  const helps = () =>
    discord.calls.filter(
      (call) =>
        call.status === 200 &&
        call.path === `/channels/${card.id}/messages` &&
        (call.body as { content?: string } | null)?.content === refineHelp('//'),
    );
  expect(threads(), `threads after a kill ${what}`).toHaveLength(0);
  expect(helps()).toHaveLength(0);
  expect(emulator.received.filter((job) => JSON.stringify(job.prompt).includes(prompt))).toHaveLength(1);

  // The member asks for a thread (twice at once, as an impatient member does): one thread, one help message.
  const third = startBot(workDir);
  await until(() => connected(third), 'the third bot to connect', third);
  const threadButton = buttonId(discord.message(card.id), 'Refine in thread');
  const presses = await Promise.all([1, 2].map(() => discord.pressButton(card.id, threadButton, discord.member)));
  for (const press of presses) {
    const pointer = await press.waitForOriginal((message) => message.content !== '', 30_000);
    expect(pointer.content, third.output.join('')).toContain(`<#${card.id}>`);
  }
  third.child.kill('SIGTERM');
  expect((await third.exited).code, third.output.join('')).toBe(0);
  expect(threads()).toHaveLength(1);
  const helpMessages = new Set(helps().map((call) => (call.response as { id: string }).id));
  expect(helpMessages.size).toBe(1);
}

async function newWorkDir(): Promise<string> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'comfycord-crash-'));
  dirs.push(workDir);
  return workDir;
}

describe('the bot killed (SIGKILL) mid-render', () => {
  it('follows the prompt after the restart and posts its result exactly once', async () => {
    const workDir = await newWorkDir();
    const first = startBot(workDir);
    await until(() => connected(first), 'the first bot to connect', first);
    const prompt = 'a slow glacier mid-render';
    emulator.faults.stepMs = 150;
    const handle = await discord.sendSlashCommand({
      user: discord.member,
      channel: discord.channel,
      name: 'imagine',
      options: { prompt: `${prompt} --steps 30` },
    });
    await handle.waitForOriginal((message) => statusOf(message).startsWith('Running'), 60_000);
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    emulator.faults.stepMs = 20;
    await restartAndCountOnce(workDir, handle, prompt, 'mid-render', undefined);
  }, 150_000);
});

describe('the bot killed (SIGKILL) mid-delivery', () => {
  it.each(DELIVERY_FAULT_POINTS)(
    'killed at %s, the next start leaves exactly one finished card and no thread; asked for, exactly one thread opens',
    async (point) => {
      const workDir = await newWorkDir();
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
      await restartAndCountOnce(workDir, handle, prompt, `at ${point}`);
    },
    150_000,
  );
});

describe('the bot killed (SIGKILL) right after posting, and back only once the interaction token has expired', () => {
  it('finds the card it posted by its message id instead of posting the result again in the channel', async () => {
    const workDir = await newWorkDir();
    const first = startBot(workDir, 'delivery:after-post');
    await until(() => connected(first), 'the first bot to connect', first);
    const prompt = 'a lighthouse after fifteen minutes';
    const handle = await discord.sendSlashCommand({
      user: discord.member,
      channel: discord.channel,
      name: 'imagine',
      options: { prompt },
    });
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // As if the bot came back more than 15 minutes later: the webhook no longer answers.
    discord.expireInteraction(handle);
    await restartAndCountOnce(workDir, handle, prompt, 'after the token expired');
    const channelPosts = discord.calls.filter(
      (call) => call.method === 'POST' && call.path === `/channels/${discord.channel.id}/messages` && call.files.length,
    );
    expect(channelPosts.filter((call) => JSON.stringify(call.body).includes(prompt))).toHaveLength(0);
  }, 150_000);
});

describe('a German member whose job failed just before the bot was killed', () => {
  it('reads the failure in German on the card the next start posts from the record alone', async () => {
    const workDir = await newWorkDir();
    const first = startBot(workDir, 'delivery:before-post');
    await until(() => connected(first), 'the first bot to connect', first);
    emulator.faults.failNode({ classType: 'VAEDecode' }, 'CUDA out of memory');
    const member = discord.createUser({ username: 'spricht-deutsch', locale: 'de' }, discord.guild);
    const handle = await discord.sendSlashCommand({
      user: member,
      channel: discord.channel,
      name: 'imagine',
      options: { prompt: 'ein Otter im Fluss' },
    });
    // The first process wrote the failure to the job's record and died before the card said it.
    expect(await first.exited, first.output.join('')).toEqual({ code: null, signal: 'SIGKILL' });
    emulator.faults.clearFailures();

    const second = startBot(workDir);
    await until(() => connected(second), 'the second bot to connect', second);
    const card = await handle.waitForOriginal((message) => statusOf(message).includes('CUDA'), 60_000);
    expect(statusOf(card)).toBe('❌ Node 8 (VAEDecode) ist fehlgeschlagen: CUDA out of memory');
    second.child.kill('SIGTERM');
    expect((await second.exited).code, second.output.join('')).toBe(0);
  }, 150_000);
});
