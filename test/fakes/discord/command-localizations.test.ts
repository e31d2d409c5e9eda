import { DiscordAPIError, REST, Routes } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { useFakeDiscord } from './test-harness.js';

const BASE = {
  name: 'imagine',
  description: 'Draw',
  options: [{ type: 3, name: 'aspect', description: 'Ratio', choices: [{ name: '16:9 widescreen', value: '16:9' }] }],
};

describe('localised command registrations', () => {
  const h = useFakeDiscord({ login: false });

  async function register(command: unknown) {
    const rest = new REST({ api: h.fake.apiUrl }).setToken(h.fake.token);
    return rest.put(Routes.applicationCommands(h.fake.applicationId), { body: [command] });
  }

  it('keeps valid localisations of names, descriptions and choices, and returns them', async () => {
    const command = {
      ...BASE,
      name_localizations: { de: 'bild', ja: '画像生成', 'pt-BR': 'configurações' },
      description_localizations: { fr: 'Dessiner' },
      options: [
        {
          ...BASE.options[0]!,
          name_localizations: { de: 'seitenverhältnis' },
          choices: [{ name: '16:9 widescreen', value: '16:9', name_localizations: { de: '16:9 Breitbild' } }],
        },
      ],
    };
    const [registered] = (await register(command)) as Record<string, unknown>[];
    expect(registered).toMatchObject(command);
  });

  it.each([
    ['an uppercase localised name', { ...BASE, name_localizations: { de: 'Bild' } }],
    ['a localised name with a space', { ...BASE, name_localizations: { fr: 'créer image' } }],
    ['a localised name over 32 characters', { ...BASE, name_localizations: { de: 'x'.repeat(33) } }],
    ['a locale Discord does not have', { ...BASE, name_localizations: { 'de-DE': 'bild' } }],
    ['a localised description over 100 characters', { ...BASE, description_localizations: { ja: 'あ'.repeat(101) } }],
    [
      'an uppercase localised option name',
      { ...BASE, options: [{ ...BASE.options[0]!, name_localizations: { de: 'Format' } }] },
    ],
    [
      'a localised choice name over 100 characters',
      {
        ...BASE,
        options: [
          {
            ...BASE.options[0]!,
            choices: [{ name: '16:9', value: '16:9', name_localizations: { ko: 'x'.repeat(101) } }],
          },
        ],
      },
    ],
    ['an uppercase option name', { ...BASE, options: [{ ...BASE.options[0]!, name: 'Aspect' }] }],
  ])('refuses %s with 50035, as Discord does', async (_what, command) => {
    const error = await register(command).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect((error as DiscordAPIError).code).toBe(50035);
  });
});
