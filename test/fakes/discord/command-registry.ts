/**
 * The application commands the bot registered (bulk overwrite, globally or per guild), checked like Discord checks
 * them, and used by `sendSlashCommand` to type option values and find the command id.
 */
import { z } from 'zod';
import { COMMAND_NAME, localizationProblems } from './command-localizations.js';
import { installationProblem } from './installation.js';
import { errors } from './rest-types.js';
import type { SnowflakeGenerator } from './snowflake.js';

const choiceSchema = z.looseObject({ name: z.string().min(1).max(100), value: z.union([z.string(), z.number()]) });

/** One command option (options nest for subcommands and groups). */
export const commandOptionSchema = z.looseObject({
  type: z.number().int().min(1).max(11),
  name: z.string().regex(COMMAND_NAME),
  description: z.string().min(1).max(100),
  required: z.boolean().optional(),
  autocomplete: z.boolean().optional(),
  choices: z.array(choiceSchema).max(25).optional(),
  get options() {
    return z.array(commandOptionSchema).max(25).optional();
  },
});

/** A command option. */
export type CommandOption = z.infer<typeof commandOptionSchema>;

/** One command in a bulk-overwrite body. */
export const commandSchema = z.looseObject({
  name: z.string().regex(COMMAND_NAME),
  type: z.number().int().min(1).max(4).default(1),
  description: z.string().max(100).default(''),
  options: z.array(commandOptionSchema).max(25).optional(),
  default_member_permissions: z.string().nullish(),
  nsfw: z.boolean().optional(),
  contexts: z.array(z.number().int()).nullish(),
  integration_types: z.array(z.number().int()).optional(),
});

/** A registered command as Discord returns it. */
export type RegisteredCommand = z.infer<typeof commandSchema> & {
  readonly id: string;
  readonly application_id: string;
  readonly version: string;
  readonly guild_id?: string;
};

/** Registered commands per scope. */
export class CommandRegistry {
  private readonly scopes = new Map<string, RegisteredCommand[]>();
  private readonly unregisteredIds = new Map<string, string>();

  constructor(
    private readonly applicationId: string,
    private readonly ids: SnowflakeGenerator,
  ) {}

  /** Bulk overwrite (PUT): keeps the id of a command whose name is unchanged, as Discord does. */
  overwrite(guildId: string | null, body: unknown): RegisteredCommand[] {
    const parsed = z.array(commandSchema).max(100).safeParse(body);
    if (!parsed.success) {
      throw errors.invalidFormBody(
        parsed.error.issues.map((issue) => ({
          path: issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key)),
          code: 'BASE_TYPE_INVALID',
          message: issue.message,
        })),
      );
    }
    const previous = this.list(guildId);
    const next = parsed.data.map((command) => {
      if (command.type === 1 && (command.description.length === 0 || command.name !== command.name.toLowerCase())) {
        throw errors.invalidFormBody([
          { path: [command.name], code: 'APPLICATION_COMMAND_INVALID', message: 'Invalid chat input command.' },
        ]);
      }
      const localized = localizationProblems(command, [command.name]);
      if (localized.length > 0) throw errors.invalidFormBody(localized);
      const upper = (command.options ?? []).find((option) => option.name !== option.name.toLowerCase());
      if (command.type === 1 && upper) {
        throw errors.invalidFormBody([
          { path: [command.name, upper.name], code: 'APPLICATION_COMMAND_INVALID_NAME', message: 'Invalid name.' },
        ]);
      }
      const problem = installationProblem(command);
      if (problem) {
        throw errors.invalidFormBody([{ path: [command.name], code: 'APPLICATION_COMMAND_INVALID', message: problem }]);
      }
      const old = previous.find((c) => c.name === command.name && c.type === command.type);
      return {
        ...command,
        id: old?.id ?? this.ids.next(),
        application_id: this.applicationId,
        version: this.ids.next(),
        ...(guildId ? { guild_id: guildId } : {}),
      };
    });
    this.scopes.set(guildId ?? 'global', next);
    return next;
  }

  list(guildId: string | null): RegisteredCommand[] {
    return this.scopes.get(guildId ?? 'global') ?? [];
  }

  /** A stable id for a command a test invokes without the bot having registered it. */
  unregisteredId(name: string): string {
    let id = this.unregisteredIds.get(name);
    if (!id) {
      id = this.ids.next();
      this.unregisteredIds.set(name, id);
    }
    return id;
  }

  /** A chat-input command by name, the guild's registration first. */
  find(name: string, guildId: string | null, type = 1): RegisteredCommand | undefined {
    const inGuild = guildId ? this.list(guildId).find((c) => c.name === name && c.type === type) : undefined;
    return inGuild ?? this.list(null).find((c) => c.name === name && c.type === type);
  }
}
