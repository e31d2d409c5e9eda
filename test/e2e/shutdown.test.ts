/**
 * `npm start`'s entry point as a real process: SIGTERM in the middle of a job stops it cleanly, and the next start
 * delivers that job's result exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { DISCORD_ENVIRONMENT_VARIABLES, startFakeDiscord, type FakeDiscord } from '../fakes/discord/index.js';

let emulator: Emulator;
let discord: FakeDiscord;
let dataDir: string;
const children: ChildProcess[] = [];
const output: string[] = [];

beforeAll(async () => {
  for (const name of DISCORD_ENVIRONMENT_VARIABLES) delete process.env[name];
  emulator = await startEmulator({ stepMs: 150 });
  discord = await startFakeDiscord();
  dataDir = await mkdtemp(path.join(tmpdir(), 'comfycord-shutdown-'));
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await discord?.close();
  await emulator?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** Starts `src/index.ts` the way `npm start` runs it (minus the build), with only the environment it needs. */
function startBotProcess(): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    env: {
      PATH: process.env.PATH,
      DISCORD_TOKEN: discord.token,
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_API_URL: discord.apiUrl,
      COMFY_URLS: `emu=${emulator.url}`,
      STORE_URL: `sqlite://${path.join(dataDir, 'bot.sqlite')}`,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    },
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  // Keep the log: when this test fails, it is the only account of what the bot process did.
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  return child;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('the bot process', () => {
  it('stops cleanly on SIGTERM mid-job, and the next start delivers the result exactly once', async () => {
    const first = startBotProcess();
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
    expect(await exited, output.join('')).toBe(0);

    const second = startBotProcess();
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
