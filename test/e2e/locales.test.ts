import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRig, type Rig } from './harness.js';
import { buttonId, buttonLabels, fieldsOf, imagine, waitForRecorded, waitForResult } from './helpers.js';
import { statusOf, footerOf } from './card-reader.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig();
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
});

/** The finished card of a member's /imagine, once its generation is recorded: by then its buttons work. */
async function resultFor(member: ReturnType<typeof memberSpeaking>, prompt: string) {
  const card = await waitForResult(await imagine(rig, { prompt }, { user: member }));
  await waitForRecorded(rig, card);
  return card;
}

function memberSpeaking(locale: string) {
  return rig.discord.createUser({ username: `speaks-${locale}`, locale }, rig.discord.guild);
}

describe('commands and sentences in the member’s language', () => {
  it('registers every command with its names and descriptions in Discord’s most used languages', async () => {
    const route = `/applications/${rig.discord.applicationId}/guilds/${rig.discord.guild.id}/commands` as const;
    const commands = (await rig.bot.client.rest.get(route)) as {
      name: string;
      name_localizations?: Record<string, string>;
      description_localizations?: Record<string, string>;
      options?: {
        name: string;
        name_localizations?: Record<string, string>;
        choices?: { value: string; name_localizations?: Record<string, string> }[];
      }[];
    }[];
    const imagineCommand = commands.find((command) => command.name === 'imagine')!;
    expect(imagineCommand.name_localizations).toMatchObject({ de: 'bild', fr: 'imaginer', ja: '画像生成' });
    for (const command of commands) {
      expect(Object.keys(command.name_localizations ?? {}).sort()).toEqual(
        ['de', 'es-ES', 'fr', 'ja', 'ko', 'pt-BR', 'zh-CN'].sort(),
      );
      expect(Object.keys(command.description_localizations ?? {})).toHaveLength(7);
      for (const option of command.options ?? []) expect(Object.keys(option.name_localizations ?? {})).toHaveLength(7);
    }
    const aspect = imagineCommand.options!.find((option) => option.name === 'aspect')!;
    expect(aspect.choices!.find((choice) => choice.value === '16:9')!.name_localizations!['de']).toBe('16:9 Breitbild');
  });

  it('shows a German member’s card in German, from queue to the finished picture and its buttons', async () => {
    const member = memberSpeaking('de');
    const handle = await imagine(rig, { prompt: 'ein Fuchs im Schnee' }, { user: member });
    const card = await waitForResult(handle);
    expect(statusOf(card)).toMatch(/^Fertig in /);
    expect(Object.keys(fieldsOf(card))).toEqual(expect.arrayContaining(['Seed', 'Größe', 'Workflow', 'Dauer']));
    expect(buttonLabels(card)).toEqual([
      'Hochskalieren',
      'Variieren',
      'Neu würfeln',
      'Bearbeiten',
      'Im Thread verfeinern',
      'Löschen',
    ]);
    expect(footerOf(card)).toMatch(/^Antworte zum Verfeinern: /);
    const progress = handle.edits.map((call) => statusOf(call.body as { components?: unknown[] }));
    expect(progress.some((content) => /^(In der Warteschlange|Wird gestartet|Läuft)/.test(content))).toBe(true);
  });

  it('answers a refusal in the member’s language, and in English where there is no translation', async () => {
    const owner = memberSpeaking('fr');
    const card = await resultFor(owner, 'un héron');
    const japanese = memberSpeaking('ja');
    const refused = await rig.discord.pressButton(card, buttonId(card, 'Supprimer'), japanese);
    expect((await refused.waitForCallback()).data?.['content']).toBe(
      'この画像を削除できるのは、作成したメンバーかモデレーターだけです。',
    );
    const dutch = memberSpeaking('nl');
    const inEnglish = await rig.discord.pressButton(card, buttonId(card, 'Supprimer'), dutch);
    expect((await inEnglish.waitForCallback()).data?.['content']).toBe(
      'Only the member who made this picture, or a moderator, can delete it.',
    );
  });

  it('titles the Edit form in the language of the member who opens it', async () => {
    const member = memberSpeaking('fr');
    const card = await resultFor(member, 'une loutre');
    const edit = await rig.discord.pressButton(card, buttonId(card, 'Modifier'), member);
    expect((await edit.waitForModal())['title']).toBe('Modifier et relancer');
  });
});
