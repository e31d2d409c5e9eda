import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MessageFlags } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel } from '../fakes/discord/index.js';
import { startRig, type Rig } from './harness.js';
import { imagine, openThread, waitForRecorded, waitForResult } from './helpers.js';

let rig: Rig;
let workflowsDir: string;
let afterHours: FakeChannel;

const ADULT_ONLY =
  'The workflow after-dark is only for age-restricted channels; use it in one of those, or choose another.';

beforeAll(async () => {
  // The repository's txt2img, and `after-dark`: the same graph, declared adult by its manifest.
  workflowsDir = await mkdtemp(path.join(tmpdir(), 'comfycord-nsfw-'));
  for (const file of ['txt2img.json', 'txt2img.manifest.json']) {
    await copyFile(path.join('workflows', file), path.join(workflowsDir, file));
  }
  await copyFile(path.join('workflows', 'txt2img.json'), path.join(workflowsDir, 'after-dark.json'));
  const manifest = JSON.parse(await readFile(path.join('workflows', 'txt2img.manifest.json'), 'utf8')) as object;
  const adult = { ...manifest, description: 'For age-restricted channels.', nsfw: true };
  await writeFile(path.join(workflowsDir, 'after-dark.manifest.json'), JSON.stringify(adult));
  rig = await startRig({ env: { WORKFLOWS_DIR: workflowsDir } });
  afterHours = rig.discord.createTextChannel({ name: 'after-hours', nsfw: true });
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
  await rm(workflowsDir, { recursive: true, force: true });
});

describe('adult workflows (a manifest with "nsfw": true)', () => {
  it('are refused privately, at once, outside age-restricted channels, and nothing is run', async () => {
    const before = rig.emulator.received.length;
    const handle = await imagine(rig, { prompt: 'a moonlit street', workflow: 'after-dark' });
    const callback = await handle.waitForCallback();
    expect(callback.type).toBe(4);
    expect(Number(callback.data?.['flags']) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(callback.data?.['content']).toBe(ADULT_ONLY);
    expect(rig.emulator.received).toHaveLength(before);
  });

  it('run in an age-restricted channel and in the threads of its results', async () => {
    const handle = await imagine(
      rig,
      { prompt: 'a moonlit street', workflow: 'after-dark' },
      { channel: afterHours.id },
    );
    const result = await waitForResult(handle);
    expect(result.channelId).toBe(afterHours.id);
    await waitForRecorded(rig, result);
    const { thread } = await openThread(rig, result);
    expect(thread.parentId).toBe(afterHours.id);
    const before = rig.emulator.received.length;
    const again = await imagine(
      rig,
      { prompt: 'the same street at dawn', workflow: 'after-dark' },
      { channel: thread.id },
    );
    await waitForResult(again);
    expect(rig.emulator.received.length).toBe(before + 1);
  });

  it('are offered by autocomplete only in age-restricted channels', async () => {
    const choicesIn = async (channel: string) => {
      const handle = await rig.discord.autocomplete({
        user: rig.discord.member,
        channel,
        name: 'imagine',
        options: { prompt: 'x', workflow: '' },
        focused: 'workflow',
      });
      return (await handle.waitForChoices()).map((choice) => choice.value);
    };
    expect(await choicesIn(rig.discord.channel.id)).toEqual(['txt2img']);
    expect((await choicesIn(afterHours.id)).sort()).toEqual(['after-dark', 'txt2img']);
  });

  it('are marked in /workflows', async () => {
    const handle = await rig.discord.sendSlashCommand({
      user: rig.discord.member,
      channel: rig.discord.channel.id,
      name: 'workflows',
    });
    const callback = await handle.waitForCallback();
    expect(String(callback.data?.['content'])).toContain(
      '**after-dark** (text-to-image, age-restricted channels only)',
    );
  });
});
