/**
 * The `data` of a chat-input interaction: options typed from the bot's registered command when there is one
 * (unknown options, missing required ones and values outside the choices are test mistakes and throw), inferred
 * from the JavaScript values otherwise; users, channels, roles and attachments also go into `resolved`.
 */
import { ApplicationCommandOptionType as T } from 'discord.js';
import type { CommandOption } from './command-registry.js';
import type { FakeContext } from './context.js';
import type { FakeAttachment, FakeChannel, FakeRole, FakeUser } from './model.js';
import {
  serializeAttachment,
  serializeChannel,
  serializeMemberFields,
  serializeRole,
  serializeUser,
} from './serialize.js';

/** A value a member can give an option. */
export type OptionValue = string | number | boolean | FakeUser | FakeChannel | FakeRole | FakeAttachment;

/** What the command was invoked with. */
export interface CommandInvocation {
  /** `'imagine'`, or with a subcommand (and group): `'settings set'`, `'admin workflows reload'`. */
  readonly name: string;
  readonly options: Readonly<Record<string, OptionValue>>;
  readonly guildId: string | null;
  readonly channel: FakeChannel;
  /** The member invoking the command. */
  readonly userId: string;
  /** For autocomplete: the option being typed (its value is sent as the partial text). */
  readonly focused?: string;
}

type Resolved = Record<'users' | 'members' | 'channels' | 'roles' | 'attachments', Record<string, unknown>>;

/** Builds `data` for an APPLICATION_COMMAND or AUTOCOMPLETE interaction. */
export function buildCommandData(ctx: FakeContext, invocation: CommandInvocation) {
  const [commandName = '', ...path] = invocation.name.trim().split(/\s+/);
  const registered = ctx.commands.find(commandName, invocation.guildId);
  let definitions: CommandOption[] | undefined = registered?.options;
  for (const segment of path) {
    const next = definitions?.find(
      (d) => d.name === segment && (d.type === T.Subcommand || d.type === T.SubcommandGroup),
    );
    if (registered && !next) throw new Error(`/${commandName} has no subcommand "${segment}"`);
    definitions = next?.options;
  }
  const resolved: Resolved = { users: {}, members: {}, channels: {}, roles: {}, attachments: {} };
  const leaf = Object.entries(invocation.options).map(([name, value]) => {
    const definition = definitions?.find((d) => d.name === name);
    if (registered && !definition) throw new Error(`/${invocation.name} has no option "${name}"`);
    return buildOption(ctx, invocation, resolved, name, value, definition);
  });
  for (const definition of definitions ?? []) {
    if (definition.required && !(definition.name in invocation.options)) {
      throw new Error(`/${invocation.name} needs its required option "${definition.name}"`);
    }
  }
  const options = nestOptions(path, leaf, registered !== undefined, registered?.options);
  const usedResolved = Object.fromEntries(Object.entries(resolved).filter(([, map]) => Object.keys(map).length > 0));
  return {
    commandName,
    data: {
      id: registered?.id ?? ctx.commands.unregisteredId(commandName),
      name: commandName,
      type: 1,
      ...(options.length > 0 ? { options } : {}),
      ...(Object.keys(usedResolved).length > 0 ? { resolved: usedResolved } : {}),
      ...(registered?.guild_id ? { guild_id: registered.guild_id } : {}),
    },
  };
}

function nestOptions(path: string[], leaf: unknown[], registered: boolean, top: CommandOption[] | undefined) {
  let options = leaf;
  for (let depth = path.length - 1; depth >= 0; depth -= 1) {
    const name = path[depth] ?? '';
    const isGroup = registered
      ? top?.find((d) => d.name === name)?.type === T.SubcommandGroup && depth === 0 && path.length === 2
      : depth === 0 && path.length === 2;
    options = [{ name, type: isGroup ? T.SubcommandGroup : T.Subcommand, options }];
  }
  return options;
}

function buildOption(
  ctx: FakeContext,
  invocation: CommandInvocation,
  resolved: Resolved,
  name: string,
  value: OptionValue,
  definition: CommandOption | undefined,
) {
  const type = definition?.type ?? inferType(value);
  const focused = invocation.focused === name;
  if (focused) return { name, type, value: String(scalar(value)), focused: true };
  const id = resolveEntity(ctx, invocation, resolved, type, value);
  if (id !== null) return { name, type, value: id };
  const plain = coerce(type, value, name);
  if (definition?.choices && !definition.choices.some((choice) => choice.value === plain)) {
    throw new Error(`option "${name}" only accepts its choices, not ${JSON.stringify(plain)}`);
  }
  return { name, type, value: plain };
}

function inferType(value: OptionValue): number {
  if (typeof value === 'boolean') return T.Boolean;
  if (typeof value === 'number') return Number.isInteger(value) ? T.Integer : T.Number;
  if (typeof value === 'string') return T.String;
  if ('data' in value) return T.Attachment;
  if ('permissions' in value) return T.Role;
  if ('bot' in value) return T.User;
  return T.Channel;
}

function scalar(value: OptionValue): string | number | boolean {
  return typeof value === 'object' ? value.id : value;
}

function coerce(type: number, value: OptionValue, name: string): string | number | boolean {
  const raw = scalar(value);
  if (type === T.String) return String(raw);
  if (type === T.Boolean) return raw === true || raw === 'true';
  const number = Number(raw);
  if (!Number.isFinite(number) || (type === T.Integer && !Number.isInteger(number))) {
    throw new Error(`option "${name}" needs ${type === T.Integer ? 'an integer' : 'a number'}, not ${String(raw)}`);
  }
  return number;
}

/** Fills `resolved` for entity options and returns the id, or null for scalar options. */
function resolveEntity(
  ctx: FakeContext,
  invocation: CommandInvocation,
  resolved: Resolved,
  type: number,
  value: OptionValue,
): string | null {
  const id = String(scalar(value));
  if (type === T.Attachment) {
    resolved.attachments[id] = serializeAttachment(ctx.state.attachments.get(id) ?? (value as FakeAttachment));
  } else if (type === T.User || (type === T.Mentionable && ctx.state.users.has(id))) {
    resolved.users[id] = serializeUser(ctx.state.user(id));
    const member = invocation.guildId ? ctx.state.member(invocation.guildId, id) : undefined;
    if (member) {
      const permissions = ctx.state.permissionsIn(id, invocation.channel).toString();
      resolved.members[id] = { ...serializeMemberFields(member), permissions };
    }
  } else if (type === T.Role || type === T.Mentionable) {
    const role = ctx.state.roles.get(id);
    if (!role) throw new Error(`no role with id ${id}`);
    resolved.roles[id] = serializeRole(role);
  } else if (type === T.Channel) {
    const channel = ctx.state.channel(id);
    const permissions = ctx.state.permissionsIn(invocation.userId, channel).toString();
    resolved.channels[id] = { ...serializeChannel(ctx.state, channel), permissions };
  } else {
    return null;
  }
  return id;
}
