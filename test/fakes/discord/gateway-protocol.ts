/**
 * The Gateway's wire format as the fake reads it: zod schemas for what a client sends, and the intent rules.
 */
import { ApplicationFlags, GatewayIntentBits } from 'discord.js';
import { z } from 'zod';

/** Any frame a client sends; `d` is checked per opcode. */
export const clientFrameSchema = z.object({ op: z.number().int(), d: z.unknown() });

/** IDENTIFY's data (op 2). */
export const identifySchema = z.object({
  token: z.string(),
  intents: z.number().int().nonnegative(),
  properties: z.object({ os: z.string(), browser: z.string(), device: z.string() }).partial(),
  shard: z.tuple([z.number().int(), z.number().int()]).optional(),
  compress: z.boolean().optional(),
  large_threshold: z.number().int().optional(),
  presence: z.unknown().optional(),
});

/** What was identified with (kept for tests; never the token). */
export type IdentifyRecord = Omit<z.infer<typeof identifySchema>, 'token'> & { readonly at: number };

/** RESUME's data (op 6). */
export const resumeSchema = z.object({ token: z.string(), session_id: z.string(), seq: z.number().int().nullable() });

/** Opcodes the fake handles. */
export const Op = {
  Dispatch: 0,
  Heartbeat: 1,
  Identify: 2,
  PresenceUpdate: 3,
  VoiceStateUpdate: 4,
  Resume: 6,
  Reconnect: 7,
  RequestGuildMembers: 8,
  InvalidSession: 9,
  Hello: 10,
  HeartbeatAck: 11,
} as const;

/** Intents that must be switched on for the application in the Developer Portal. */
export const PRIVILEGED_INTENTS =
  GatewayIntentBits.GuildMembers | GatewayIntentBits.GuildPresences | GatewayIntentBits.MessageContent;

/** Every intent bit Discord knows; others are invalid (close 4013). */
export const KNOWN_INTENTS = Object.values(GatewayIntentBits)
  .filter((value): value is number => typeof value === 'number')
  .reduce((all, bit) => all | bit, 0);

/** Which privileged intents the fake application may use. */
export interface PrivilegedIntentSettings {
  readonly messageContent?: boolean;
  readonly guildMembers?: boolean;
  readonly guildPresences?: boolean;
}

/** The privileged intent bits allowed by the settings (all when a setting is left out). */
export function allowedPrivilegedBits(settings: PrivilegedIntentSettings = {}): number {
  return (
    (settings.messageContent === false ? 0 : GatewayIntentBits.MessageContent) |
    (settings.guildMembers === false ? 0 : GatewayIntentBits.GuildMembers) |
    (settings.guildPresences === false ? 0 : GatewayIntentBits.GuildPresences)
  );
}

/**
 * The application flags Discord reports (GET /applications/@me, READY) for the privileged intents switched on: the
 * "limited" flags of a bot in fewer than 100 guilds.
 */
export function privilegedApplicationFlags(privileged: number): number {
  return (
    (privileged & GatewayIntentBits.MessageContent ? ApplicationFlags.GatewayMessageContentLimited : 0) |
    (privileged & GatewayIntentBits.GuildMembers ? ApplicationFlags.GatewayGuildMembersLimited : 0) |
    (privileged & GatewayIntentBits.GuildPresences ? ApplicationFlags.GatewayPresenceLimited : 0)
  );
}

/** The shard a guild belongs to, by Discord's formula. */
export function shardOf(guildId: string | null, shardCount: number): number {
  if (guildId === null) return 0;
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}
