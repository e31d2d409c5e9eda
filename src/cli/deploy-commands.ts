/**
 * `npm run deploy-commands`: registers the slash commands, to DISCORD_GUILD_ID when it is set, globally otherwise.
 */
import { REST } from 'discord.js';
import { COMMAND_DEFINITIONS } from '../commands/index.js';
import { deployCommands } from '../commands/deploy.js';
import { ConfigError, loadConfig, readEnvironment } from '../config.js';

try {
  const config = loadConfig(readEnvironment(), { requireDiscord: true });
  const rest = new REST({ api: config.discord.apiUrl }).setToken(config.discord.token ?? '');
  const names = await deployCommands(
    rest,
    { applicationId: config.discord.applicationId ?? '', guildId: config.discord.guildId },
    COMMAND_DEFINITIONS,
  );
  const where = config.discord.guildId
    ? `to guild ${config.discord.guildId}`
    : 'globally (may take up to an hour to appear)';
  console.log(`Registered ${names.map((name) => `/${name}`).join(', ')} ${where}.`);
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : `Could not register the commands: ${String(error)}`);
  process.exitCode = 1;
}
