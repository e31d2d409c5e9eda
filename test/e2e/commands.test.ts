import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { MessageFlags } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeMessage, FakeUser, InteractionHandle, OptionValue } from '../fakes/discord/index.js';
import { startRig, type Rig } from './harness.js';
import {
  buttonId,
  fieldsOf,
  imagine,
  nodeOfClass,
  promptText,
  waitForEnd,
  waitForGraph,
  waitForRecorded,
  waitForResult,
} from './helpers.js';
import { statusOf } from './card-reader.js';

let rig: Rig;

beforeAll(async () => {
  // One prompt at a time on the server, so /queue can show a job waiting behind a running one.
  rig = await startRig({ env: { MAX_JOBS_PER_MEMBER: '12', COMFY_PROMPTS_PER_SERVER: '1' } });
});

afterEach(() => {
  rig.emulator.faults.stepMs = 2;
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
});

function command(name: string, user: FakeUser, options: Record<string, OptionValue> = {}): Promise<InteractionHandle> {
  return rig.discord.sendSlashCommand({ user, channel: rig.discord.channel.id, name, options });
}

/** The private answer of a command, once it is no longer "thinking". */
async function privateAnswer(handle: InteractionHandle): Promise<FakeMessage> {
  const answer = await handle.waitForOriginal((message) => message.content !== '' || message.embeds.length > 0);
  expect(answer.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  return answer;
}

/** A finished card, once its generation is recorded: by then it is in the member's history. */
async function resultOf(prompt: string, user: FakeUser = rig.discord.member): Promise<FakeMessage> {
  const result = await waitForResult(await imagine(rig, { prompt }, { user }));
  await waitForRecorded(rig, result);
  return result;
}

interface HistoryEmbed {
  title?: string;
  description?: string;
  fields?: { name: string; value: string }[];
}

function historyOf(message: FakeMessage): HistoryEmbed {
  return message.embeds[0] as HistoryEmbed;
}

function pagerOf(message: FakeMessage): { label: string; disabled?: boolean }[] {
  const rows = message.components as { components: { label: string; disabled?: boolean }[] }[];
  return rows.flatMap((row) => row.components).map(({ label, disabled }) => ({ label, disabled }));
}

describe('/history', () => {
  it('lists generations with prompt, seed, workflow and a jump link, ten a page, paged with Newer and Older', async () => {
    const painter = rig.discord.createUser({ username: 'painter' }, rig.discord.guild);
    const prompts = Array.from({ length: 11 }, (_, index) => `history picture ${index + 1}`);
    const results = await Promise.all(
      prompts.map((prompt, index) => resultOf(`${prompt} --seed ${index + 100}`, painter)),
    );

    const handle = await command('history', painter);
    const first = await privateAnswer(handle);
    expect(historyOf(first).title).toBe('Generations of 11 pictures');
    expect(historyOf(first).description).toBe(`<@${painter.id}>, page 1 of 2`);
    expect(historyOf(first).fields).toHaveLength(10);
    expect(pagerOf(first)).toEqual([
      { label: 'Newer', disabled: true },
      { label: 'Older', disabled: false },
    ]);

    // The answer is edited in place by the paging buttons: keep what page 1 showed.
    const firstPage = structuredClone(historyOf(first).fields!);
    const older = await rig.discord.pressButton(first, buttonId(first, 'Older'), painter);
    expect((await older.waitForCallback()).type).toBe(7);
    const second = rig.discord.message(first.id);
    expect(historyOf(second).description).toBe(`<@${painter.id}>, page 2 of 2`);
    expect(pagerOf(second)).toEqual([
      { label: 'Newer', disabled: false },
      { label: 'Older', disabled: true },
    ]);
    const fields = [...firstPage, ...historyOf(second).fields!];
    expect(fields.map((field) => field.name).sort()).toEqual([...prompts].sort());
    for (const [index, prompt] of prompts.entries()) {
      const field = fields.find((candidate) => candidate.name === prompt)!;
      const link = `https://discord.com/channels/${rig.discord.guild.id}/${rig.discord.channel.id}/${results[index]!.id}`;
      expect(field.value).toContain(`txt2img · seed ${index + 100}`);
      expect(field.value).toContain(`[jump](${link})`);
    }

    const newer = await rig.discord.pressButton(second, buttonId(second, 'Newer'), painter);
    await newer.waitForCallback();
    expect(historyOf(rig.discord.message(first.id)).description).toBe(`<@${painter.id}>, page 1 of 2`);
  });
});

describe('/history of another member', () => {
  it('shows only what they made in this server, and says how many are hidden', async () => {
    const traveller = rig.discord.createUser({ username: 'traveller' }, rig.discord.guild);
    const elsewhere = rig.discord.createGuild('elsewhere', traveller);
    await resultOf('made here', traveller);
    const far = await waitForResult(
      await imagine(rig, { prompt: 'made elsewhere' }, { user: traveller, channel: elsewhere.channel.id }),
    );
    await waitForRecorded(rig, far);
    const handle = await command('history', rig.discord.member, { member: traveller.id });
    const answer = await privateAnswer(handle);
    expect(answer.content).toBe('1 generation made elsewhere is not shown.');
    expect(historyOf(answer).fields!.map((field) => field.name)).toEqual(['made here']);
    const own = await privateAnswer(await command('history', traveller));
    expect(
      historyOf(own)
        .fields!.map((field) => field.name)
        .sort(),
    ).toEqual(['made elsewhere', 'made here']);
  });
});

describe('/history of another member, where the viewer may not look', () => {
  /** A member's result posted in `channel`, once it is in their history. */
  async function resultIn(channel: FakeChannel, prompt: string, user: FakeUser): Promise<void> {
    const result = await waitForResult(await imagine(rig, { prompt }, { user, channel: channel.id }));
    await waitForRecorded(rig, result);
  }

  async function historyFrom(channel: FakeChannel, viewer: FakeUser, of: FakeUser): Promise<FakeMessage> {
    const handle = await rig.discord.sendSlashCommand({
      user: viewer,
      channel: channel.id,
      name: 'history',
      options: { member: of.id },
    });
    return privateAnswer(handle);
  }

  const promptsIn = (answer: FakeMessage) => (historyOf(answer).fields ?? []).map((field) => field.name);

  it('hides what was made in a private channel from members who cannot read it, and shows it to those who can', async () => {
    const insider = rig.discord.createUser({ username: 'insider' }, rig.discord.guild);
    const colleague = rig.discord.createUser({ username: 'colleague' }, rig.discord.guild);
    const vault = rig.discord.createTextChannel({ name: 'vault' });
    rig.discord.setOverwrite(vault, rig.discord.everyoneRole(), { deny: ['ViewChannel'] });
    for (const allowed of [rig.discord.botRole, insider, colleague]) {
      rig.discord.setOverwrite(vault, allowed, { allow: ['ViewChannel'] });
    }
    await resultIn(vault, 'made in the vault', insider);
    await resultIn(rig.discord.channel, 'made in general', insider);

    const outsider = await historyFrom(rig.discord.channel, rig.discord.member, insider);
    expect(promptsIn(outsider)).toEqual(['made in general']);
    expect(outsider.content).toBe('1 generation made elsewhere is not shown.');
    expect(JSON.stringify(outsider.embeds)).not.toContain(vault.id);

    const allowed = await historyFrom(rig.discord.channel, colleague, insider);
    expect(promptsIn(allowed).sort()).toEqual(['made in general', 'made in the vault']);
    expect(allowed.content).toBe('');

    // Losing access hides it again, at once: the guild's cache follows Discord's CHANNEL_UPDATE.
    rig.discord.setOverwrite(vault, colleague, { deny: ['ReadMessageHistory'], allow: ['ViewChannel'] });
    await eventually(async () =>
      expect(promptsIn(await historyFrom(rig.discord.channel, colleague, insider))).toEqual(['made in general']),
    );
  });

  it('shows what was made in an age-restricted channel only to a viewer asking from one', async () => {
    const nightOwl = rig.discord.createUser({ username: 'night-owl' }, rig.discord.guild);
    const lounge = rig.discord.createTextChannel({ name: 'late-lounge', nsfw: true });
    await resultIn(lounge, 'made after dark', nightOwl);
    await resultIn(rig.discord.channel, 'made by day', nightOwl);

    const fromGeneral = await historyFrom(rig.discord.channel, rig.discord.member, nightOwl);
    expect(promptsIn(fromGeneral)).toEqual(['made by day']);
    expect(fromGeneral.content).toBe('1 generation made elsewhere is not shown.');

    const fromLounge = await historyFrom(lounge, rig.discord.member, nightOwl);
    expect(promptsIn(fromLounge).sort()).toEqual(['made after dark', 'made by day']);

    // The member's own history is theirs to see from anywhere.
    expect(promptsIn(await historyFrom(rig.discord.channel, nightOwl, nightOwl)).sort()).toEqual([
      'made after dark',
      'made by day',
    ]);
  });
});

/** Retries an assertion until it holds, for up to 5 s (Gateway events reach the bot's cache asynchronously). */
async function eventually(assertion: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await assertion();
    } catch (error) {
      if (attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('/settings', () => {
  it('saves defaults that the next /imagine applies and its card lists, and reset forgets them', async () => {
    const saved = await privateAnswer(
      await command('settings', rig.discord.member, { workflow: 'sdxl', aspect: '2:3', negative: 'grain', count: 2 }),
    );
    expect(saved.content).toBe(
      'Saved. Your defaults for /imagine:\n• workflow: sdxl\n• aspect: 2:3\n• negative: grain\n• count: 2',
    );

    const card = await resultOf('a mountain cabin');
    const graph = await waitForGraph(rig, 'a mountain cabin');
    expect(promptText(graph, 'negative')).toBe('grain');
    expect(nodeOfClass(graph, 'CheckpointLoaderSimple').inputs['ckpt_name']).toBe('sd_xl_base_1.0.safetensors');
    const latent = nodeOfClass(graph, 'EmptyLatentImage').inputs as { width: number; height: number };
    expect(latent).toMatchObject({ batch_size: 2 });
    expect(latent.width / latent.height).toBeCloseTo(2 / 3, 1);
    expect(card.attachments).toHaveLength(2);
    expect(fieldsOf(card)).toMatchObject({
      Workflow: 'sdxl',
      Negative: 'grain',
      Images: '2',
      'Your defaults': 'workflow sdxl, aspect 2:3, negative grain, count 2',
    });

    const reset = await privateAnswer(await command('settings', rig.discord.member, { reset: true }));
    expect(reset.content).toBe("Saved. You have no defaults; /imagine uses each workflow's own.");
    const plain = await resultOf('a mountain lake');
    const after = await waitForGraph(rig, 'a mountain lake');
    expect(promptText(after, 'negative')).not.toBe('grain');
    expect(nodeOfClass(after, 'EmptyLatentImage').inputs).toMatchObject({ batch_size: 1, width: 512, height: 512 });
    expect(fieldsOf(plain)['Workflow']).toBe('txt2img');
    expect(fieldsOf(plain)).not.toHaveProperty('Your defaults');
  });

  it('refuses an unknown workflow with a sentence and keeps the defaults as they were', async () => {
    const refused = await privateAnswer(await command('settings', rig.discord.member, { workflow: 'portrait' }));
    expect(refused.content).toMatch(/^There is no workflow called portrait; choose one of: [^\n]*txt2img[^\n]*\.$/);
    const shown = await privateAnswer(await command('settings', rig.discord.member));
    expect(shown.content).toBe("You have no defaults; /imagine uses each workflow's own.");
  });
});

describe('/workflows', () => {
  it('lists every shipped workflow with its kind, description and settings', async () => {
    const answer = await privateAnswer(await command('workflows', rig.discord.member));
    const dir = 'workflows';
    const manifests = (await readdir(dir)).filter((file) => file.endsWith('.manifest.json'));
    expect(manifests.length).toBeGreaterThan(0);
    for (const file of manifests) {
      const name = file.replace(/\.manifest\.json$/, '');
      const manifest = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as {
        kind: string;
        description: string;
      };
      expect(answer.content).toContain(`**${name}** (${manifest.kind}): ${manifest.description}`);
    }
    const txt2img = answer.content.split('\n').findIndex((line) => line.startsWith('**txt2img**'));
    expect(answer.content.split('\n')[txt2img + 1]).toMatch(/prompt.*seed.*steps/);
    expect(answer.content.split('\n')[txt2img + 2]).toBe('  outputs: images');
    expect(answer.content).not.toContain(rig.emulator.url);
  });

  it('tells a member who manages the server where each workflow runs', async () => {
    const answer = await privateAnswer(await command('workflows', rig.discord.owner));
    expect(answer.content).toMatch(/\*\*txt2img\*\* \(text-to-image\) — runs on emu:/);
  });
});

describe('/queue', () => {
  it('shows the member’s running and waiting jobs and the server’s state; others see only the server', async () => {
    rig.emulator.faults.stepMs = 100;
    const running = await imagine(rig, { prompt: 'a slow first picture --steps 40' });
    await running.waitForOriginal((message) => statusOf(message).startsWith('Running'), 20_000);
    const waiting = await imagine(rig, { prompt: 'a slow second picture --steps 40' });
    await waiting.waitForOriginal((message) => statusOf(message).startsWith('Queued'), 20_000);

    const mine = await privateAnswer(await command('queue', rig.discord.member));
    const lines = mine.content.split('\n');
    expect(lines[0]).toMatch(/^• `[\w-]+` txt2img: running on emu$/);
    expect(lines[1]).toMatch(/^• `[\w-]+` txt2img: waiting, position 1$/);
    expect(lines).toContain('Waiting in all: 1. Servers:');
    expect(lines).toContain('• emu: up, 1/1 busy');

    const stranger = rig.discord.createUser({ username: 'onlooker' }, rig.discord.guild);
    const theirs = await privateAnswer(await command('queue', stranger));
    expect(theirs.content.split('\n')[0]).toBe('You have no images in progress.');
    expect(theirs.content).toContain('• emu: up, 1/1 busy');
    expect(theirs.content).not.toContain(rig.emulator.url);

    for (const handle of [waiting, running]) {
      const card = handle.original!;
      await rig.discord.pressButton(card, buttonId(card, 'Cancel'), rig.discord.member);
      expect(statusOf(await waitForEnd(handle))).toBe('Cancelled.');
    }
  });
});
