/**
 * The bot process killed with SIGKILL while ComfyUI renders its job: no shutdown code runs, so only what the store
 * already holds survives. The next start follows the prompt still running on the server (it is not submitted again)
 * and delivers its result exactly once. When the job's own record is damaged while no bot runs, the next start still
 * edits its card with one sentence and cancels the prompt on the server.
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { RECORD_LOST_SENTENCE } from '../../src/jobs/salvage.js';
import { recordFault } from '../faults/ledger.js';
import { exitOf, killed, useBotProcesses } from './bot-process.js';
import { statusOf } from './card-reader.js';

const world = useBotProcesses(150);

describe('the bot process killed mid-render', () => {
  it('follows the prompt after the restart and delivers its result exactly once', async () => {
    const { emulator, discord, bots } = world;
    const first = bots.start();
    await discord.waitForBotConnected(30_000);
    const handle = await discord.sendSlashCommand({
      user: discord.member,
      channel: discord.channel,
      name: 'imagine',
      options: { prompt: 'a fox killed mid-render --steps 40' },
    });
    await handle.waitForOriginal((message) => /^Running: [1-9]/.test(statusOf(message)), 20_000);
    await killed(first, 'SIGKILL');
    // Still rendering on the server while no bot runs.
    const submitted = emulator.received.filter((prompt) => JSON.stringify(prompt.prompt).includes('killed mid-render'));
    expect(submitted).toHaveLength(1);
    const history = await fetch(`${emulator.url}/history/${submitted[0]!.promptId}`);
    expect(await history.json()).toEqual({});

    const second = bots.start();
    const final = await handle.waitForOriginal((message) => message.attachments.length > 0, 40_000);
    expect(statusOf(final), bots.output.join('')).toMatch(/^Done in/);
    // Followed, not run again.
    expect(
      emulator.received.filter((prompt) => JSON.stringify(prompt.prompt).includes('killed mid-render')),
    ).toHaveLength(1);
    const uploads = () => discord.calls.filter((call) => call.files.length > 0 && call.params.token === handle.token);
    expect(uploads()).toHaveLength(1);
    // Nothing more arrives later: a second delivery would come from this process, which stops cleanly (it finishes
    // what it is sending) before the count is read again.
    second.kill('SIGTERM');
    expect(await exitOf(second)).toBe(0);
    expect(uploads()).toHaveLength(1);
    recordFault('the bot killed (SIGKILL) mid-render', [{ deliveries: uploads().length }]);
  }, 90_000);
});

/** The ids of the open jobs in the bot's SQLite file, and a way to break one job's record as a torn write would. */
function openJobsIn(file: string): { ids: string[]; damage: (id: string) => number } {
  const database = new Database(file);
  const ids = (
    database.prepare("SELECT id FROM index_entries WHERE list = 'comfycord:index:open-jobs:all'").all() as {
      id: string;
    }[]
  ).map((row) => row.id);
  const damage = (id: string) =>
    database.prepare('UPDATE records SET value = substr(value, 1, 40) WHERE key = ?').run(`comfycord:record:jobs:${id}`)
      .changes;
  return {
    ids,
    damage: (id) => {
      const changed = damage(id);
      database.close();
      return changed;
    },
  };
}

describe('the bot process killed mid-render, its job’s record damaged before the restart', () => {
  it('edits the card with one sentence after the restart and cancels the prompt on the server', async () => {
    const { emulator, discord, bots } = world;
    const first = bots.start();
    await discord.waitForBotConnected(30_000);
    const handle = await discord.sendSlashCommand({
      user: discord.member,
      channel: discord.channel,
      name: 'imagine',
      options: { prompt: 'a fox whose record breaks --steps 40' },
    });
    await handle.waitForOriginal((message) => /^Running: [1-9]/.test(statusOf(message)), 20_000);
    // Slowed down, so the prompt is certainly still running when the next bot has started.
    emulator.faults.stepMs = 1_000;
    await killed(first, 'SIGKILL');
    const { ids, damage } = openJobsIn(bots.storeFile);
    expect(ids).toHaveLength(1);
    expect(damage(ids[0]!)).toBe(1);
    const submitted = emulator.received.filter((prompt) => JSON.stringify(prompt.prompt).includes('record breaks'));
    expect(submitted).toHaveLength(1);

    const second = bots.start();
    const final = await handle.waitForOriginal(
      (message) => !/^(Running|Queued|Starting)/.test(statusOf(message)),
      40_000,
    );
    expect(JSON.stringify(final), bots.output.join('')).toContain(RECORD_LOST_SENTENCE);
    const history = async () =>
      ((await (await fetch(`${emulator.url}/history/${submitted[0]!.promptId}`)).json()) as Record<string, unknown>)[
        submitted[0]!.promptId
      ];
    const deadline = Date.now() + 20_000;
    while (!String(JSON.stringify(await history())).includes('execution_interrupted') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(String(JSON.stringify(await history()))).toContain('execution_interrupted');
    emulator.faults.stepMs = 150;
    // The log keeps the detail: which job, whose, and that its record was unreadable.
    expect(bots.output.join('')).toContain(`"jobId":"${ids[0]!}"`);
    expect(bots.output.join('')).toContain('record is unreadable');
    const finals = discord.calls.filter(
      (call) => call.params.token === handle.token && JSON.stringify(call.body ?? '').includes(RECORD_LOST_SENTENCE),
    );
    expect(finals).toHaveLength(1);
    recordFault('a corrupt store row', [{ deliveries: 0, sentences: finals.length }]);
    second.kill('SIGTERM');
    expect(await exitOf(second)).toBe(0);
  }, 90_000);
});
