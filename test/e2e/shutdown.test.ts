/**
 * `npm start`'s entry point as a real process: SIGTERM in the middle of a job stops it cleanly, and the next start
 * delivers that job's result exactly once; a second process on the same store is refused while the first runs.
 */
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { exitOf, useBotProcesses } from './bot-process.js';
import { statusOf } from './card-reader.js';

const world = useBotProcesses(150);

describe('the bot process', () => {
  it('stops cleanly on SIGTERM mid-job, and the next start delivers the result exactly once', async () => {
    const { emulator, discord, bots } = world;
    const first = bots.start();
    const exited = exitOf(first);
    await discord.waitForBotConnected(30_000);
    const handle = await discord.sendSlashCommand({
      user: discord.member,
      channel: discord.channel,
      name: 'imagine',
      options: { prompt: 'a patient fox --steps 30' },
    });
    await handle.waitForOriginal((message) => statusOf(message).startsWith('Running'), 20_000);
    first.kill('SIGTERM');
    expect(await exited, bots.output.join('')).toBe(0);

    const second = bots.start();
    const final = await handle.waitForOriginal((message) => message.attachments.length > 0, 40_000);
    expect(statusOf(final)).toMatch(/^Done in/);
    expect(emulator.received.filter((prompt) => JSON.stringify(prompt.prompt).includes('a patient fox'))).toHaveLength(
      1,
    );
    await discord.waitFor((call) => call.method === 'PATCH' && call.files.length > 0);
    const uploads = discord.calls.filter((call) => call.method === 'PATCH' && call.files.length > 0);
    expect(uploads).toHaveLength(1);
    second.kill('SIGTERM');
    expect(await exitOf(second)).toBe(0);
    // Two bot processes start here, one after the other, as in the test below.
  }, 90_000);

  it('refuses a second process on the same store with one sentence, while the first keeps running', async () => {
    const { bots } = world;
    const first = bots.start();
    const firstOutput = linesOf(first);
    await until(() => firstOutput.some((line) => line.includes('connected to Discord')), 40_000);
    const second = bots.start();
    const secondOutput = linesOf(second);
    expect(await exitOf(second)).toBe(1);
    expect(secondOutput.join('\n')).toMatch(
      new RegExp(
        `Another comfycord process is using this store \\(started [^,]+, pid ${first.pid}, host [^)]+\\); ` +
          'stop it first or give this one its own STORE_URL\\.',
      ),
    );
    expect(first.exitCode).toBeNull();
    first.kill('SIGTERM');
    expect(await exitOf(first)).toBe(0);
    // Two bot processes start here, one after the other: on a loaded machine each may take 20 s.
  }, 90_000);
});

/** Every line the process writes, as it comes. */
function linesOf(child: ChildProcess): string[] {
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n'));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return lines;
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
