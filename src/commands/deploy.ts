/**
 * Registers the registry's slash commands with Discord: to one guild when a guild id is given (instant, for testing),
 * globally otherwise (Discord may take up to an hour to show global changes). A bulk PUT replaces the whole set, so
 * commands removed from the registry disappear from Discord too.
 */
import { Routes, type REST, type RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';

export interface DeployTarget {
  readonly applicationId: string;
  readonly guildId?: string | undefined;
}

/** Replaces the application's commands with `definitions`; returns the names Discord registered. */
export async function deployCommands(
  rest: REST,
  target: DeployTarget,
  definitions: readonly RESTPostAPIChatInputApplicationCommandsJSONBody[],
): Promise<string[]> {
  const route = target.guildId
    ? Routes.applicationGuildCommands(target.applicationId, target.guildId)
    : Routes.applicationCommands(target.applicationId);
  const registered = (await rest.put(route, { body: definitions })) as Array<{ name: string }>;
  return registered.map((command) => command.name);
}
