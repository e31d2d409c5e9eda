/**
 * The bot process killed with SIGKILL while ComfyUI renders its job: no shutdown code runs, so only what the store
 * already holds survives. The next start follows the prompt still running on the server (it is not submitted again)
 * and delivers its result exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { DISCORD_ENVIRONMENT_VARIABLES, startFakeDiscord, type FakeDiscord } from '../fakes/discord/index.js';
import { recordFault } from '../faults/ledger.js';
import { BotProcesses, exitOf, killed } from './bot-process.js';

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

describe('the bot process killed mid-render', () => {
  it('follows the prompt after the restart and delivers its result exactly once', async () => {
    const first = bots.start();
    await discord.waitForBotConnected(30_000);
    const handle = await discord.sendSlashCommand({
      user: discord.member,
      channel: discord.channel,
      name: 'imagine',
      options: { prompt: 'a fox killed mid-render --steps 40' },
    });
    await handle.waitForOriginal((message) => /^Running: [1-9]/.test(message.content), 20_000);
    await killed(first, 'SIGKILL');
    // Still rendering on the server while no bot runs.
    const submitted = emulator.received.filter((prompt) => JSON.stringify(prompt.prompt).includes('killed mid-render'));
    expect(submitted).toHaveLength(1);
    const history = await fetch(`${emulator.url}/history/${submitted[0]!.promptId}`);
    expect(await history.json()).toEqual({});

    const second = bots.start();
    const final = await handle.waitForOriginal((message) => message.attachments.length > 0, 40_000);
    expect(final.content, bots.output.join('')).toMatch(/^Done in/);
    // Followed, not run again.
    expect(
      emulator.received.filter((prompt) => JSON.stringify(prompt.prompt).includes('killed mid-render')),
    ).toHaveLength(1);
    const uploads = () => discord.calls.filter((call) => call.files.length > 0 && call.params.token === handle.token);
    expect(uploads()).toHaveLength(1);
    // Nothing more arrives later (a second delivery would come within the bot's delivery retries).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(uploads()).toHaveLength(1);
    recordFault('the bot killed (SIGKILL) mid-render', [{ deliveries: uploads().length }]);
    second.kill('SIGTERM');
    expect(await exitOf(second)).toBe(0);
  }, 90_000);
});
