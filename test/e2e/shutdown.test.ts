/**
 * `npm start`'s entry point as a real process: SIGTERM in the middle of a job stops it cleanly, and the next start
 * delivers that job's result exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { DISCORD_ENVIRONMENT_VARIABLES, startFakeDiscord, type FakeDiscord } from '../fakes/discord/index.js';
import { BotProcesses, exitOf } from './bot-process.js';

let emulator: Emulator;
let discord: FakeDiscord;
let bots: BotProcesses;

beforeAll(async () => {
  for (const name of DISCORD_ENVIRONMENT_VARIABLES) delete process.env[name];
  emulator = await startEmulator({ stepMs: 150 });
  discord = await startFakeDiscord();
  bots = await BotProcesses.create(emulator, discord);
});

afterAll(async () => {
  await bots?.close();
  await discord?.close();
  await emulator?.close();
});

describe('the bot process', () => {
  it('stops cleanly on SIGTERM mid-job, and the next start delivers the result exactly once', async () => {
    const first = bots.start();
    const exited = exitOf(first);
    await discord.waitForBotConnected(30_000);
    const handle = await discord.sendSlashCommand({
      user: discord.member,
      channel: discord.channel,
      name: 'imagine',
      options: { prompt: 'a patient fox --steps 30' },
    });
    await handle.waitForOriginal((message) => message.content.startsWith('Running'), 20_000);
    first.kill('SIGTERM');
    expect(await exited, bots.output.join('')).toBe(0);

    const second = bots.start();
    const final = await handle.waitForOriginal((message) => message.attachments.length > 0, 40_000);
    expect(final.content).toMatch(/^Done in/);
    expect(emulator.received.filter((prompt) => JSON.stringify(prompt.prompt).includes('a patient fox'))).toHaveLength(
      1,
    );
    await discord.waitFor((call) => call.method === 'PATCH' && call.files.length > 0);
    const uploads = discord.calls.filter((call) => call.method === 'PATCH' && call.files.length > 0);
    expect(uploads).toHaveLength(1);
    second.kill('SIGTERM');
    expect(await exitOf(second)).toBe(0);
  });
});
