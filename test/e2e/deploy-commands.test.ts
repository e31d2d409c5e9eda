import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { REST } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deployCommands } from '../../src/commands/deploy.js';
import { COMMAND_DEFINITIONS } from '../../src/commands/index.js';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord/index.js';

let discord: FakeDiscord;

beforeEach(async () => {
  discord = await startFakeDiscord();
});

afterEach(async () => {
  discord.assertNoUnhandledCalls();
  await discord.close();
});

function restFor(fake: FakeDiscord): REST {
  return new REST({ api: fake.apiUrl }).setToken(fake.token);
}

/** What the fake Discord holds for a scope, read back over its REST API like a client would. */
async function registered(fake: FakeDiscord, guildId?: string): Promise<Record<string, unknown>[]> {
  const route = guildId
    ? (`/applications/${fake.applicationId}/guilds/${guildId}/commands` as const)
    : (`/applications/${fake.applicationId}/commands` as const);
  return (await restFor(fake).get(route)) as Record<string, unknown>[];
}

const names = COMMAND_DEFINITIONS.map((definition) => definition.name);

describe('deploy-commands', () => {
  it('registers exactly the registry’s commands globally, as they are defined', async () => {
    const result = await deployCommands(
      restFor(discord),
      { applicationId: discord.applicationId },
      COMMAND_DEFINITIONS,
    );
    expect(result).toEqual(names);
    const commands = await registered(discord);
    expect(commands.map((command) => command['name'])).toEqual(names);
    for (const [index, definition] of COMMAND_DEFINITIONS.entries()) expect(commands[index]).toMatchObject(definition);
    // Installable to a server and to a member's account; usable in servers, the bot's DM and other DMs and groups.
    for (const command of commands) {
      expect(command).toMatchObject({ integration_types: [0, 1], contexts: [0, 1, 2] });
    }
    expect(await registered(discord, discord.guild.id)).toEqual([]);
    const put = await discord.waitFor((call) => call.method === 'PUT');
    expect(put.authorized).toBe(true);
    expect(put.route).toBe('/applications/:applicationId/commands');
  });

  it('registers exactly the registry’s commands in one guild, leaving the global ones alone', async () => {
    const target = { applicationId: discord.applicationId, guildId: discord.guild.id };
    expect(await deployCommands(restFor(discord), target, COMMAND_DEFINITIONS)).toEqual(names);
    const commands = await registered(discord, discord.guild.id);
    expect(commands.map((command) => command['name'])).toEqual(names);
    for (const [index, definition] of COMMAND_DEFINITIONS.entries()) expect(commands[index]).toMatchObject(definition);
    expect(await registered(discord)).toEqual([]);
  });

  it('replaces what was registered before, so a command dropped from the registry disappears', async () => {
    const target = { applicationId: discord.applicationId, guildId: discord.guild.id };
    const retired = { name: 'retired', description: 'A command no longer in the registry' };
    await deployCommands(restFor(discord), target, [...COMMAND_DEFINITIONS, retired]);
    const before = await registered(discord, discord.guild.id);
    await deployCommands(restFor(discord), target, COMMAND_DEFINITIONS);
    const after = await registered(discord, discord.guild.id);
    expect(after.map((command) => command['name'])).toEqual(names);
    // Discord keeps the id of a command whose name did not change.
    expect(after.map((command) => command['id'])).toEqual(
      before.slice(0, names.length).map((command) => command['id']),
    );
  });

  it('runs as `npm run deploy-commands` with the environment alone, to the guild in DISCORD_GUILD_ID', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/deploy-commands.ts'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        DISCORD_TOKEN: discord.token,
        DISCORD_APPLICATION_ID: discord.applicationId,
        DISCORD_GUILD_ID: discord.guild.id,
        DISCORD_API_URL: discord.apiUrl,
      },
      // Killed if it hangs; a start alone takes 10 s on a loaded machine (tsx, discord.js and the command registry).
      timeout: 50_000,
    });
    expect(stdout).toContain(`to guild ${discord.guild.id}`);
    expect((await registered(discord, discord.guild.id)).map((command) => command['name'])).toEqual(names);
  }, 60_000);
});
