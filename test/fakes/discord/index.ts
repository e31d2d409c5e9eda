/**
 * The fake Discord for tests, demos and benchmarks: `startFakeDiscord()` and the types of what it records.
 */
export { startFakeDiscord, FakeDiscord, type FakeDiscordOptions } from './fake-discord.js';
export { createTestClient, DISCORD_ENVIRONMENT_VARIABLES, TEST_CLIENT_INTENTS } from './test-client.js';
export { InteractionHandle, type MessagePredicate } from './interaction-handle.js';
export type { InteractionCallback, InteractionRecord } from './interaction-registry.js';
export type { RecordedCall, RecordedFile, CallPredicate } from './call-log.js';
export type { FaultSpec, FaultHandle, FaultMatch } from './faults.js';
export type { RateLimitSettings } from './rate-limiter.js';
export type { FileInput, SlashCommandInput, AutocompleteInput, PostMessageInput } from './member-actions.js';
export type { OptionValue } from './command-options.js';
export type { ModalValues } from './components.js';
export type { PrivilegedIntentSettings } from './gateway-protocol.js';
export type { GatewayCloseRecord } from './gateway.js';
export type { DownloadRecord } from './http-server.js';
export type { OverwriteChange, OverwriteTarget } from './world-builder.js';
export type { PermissionName } from './permissions.js';
export {
  permissionBits,
  permissionNames,
  DEFAULT_BOT_PERMISSIONS,
  DEFAULT_EVERYONE_PERMISSIONS,
} from './permissions.js';
export { FakeDiscordTimeoutError } from './change-signal.js';
export { snowflakeTime } from './snowflake.js';
export type {
  FakeAttachment,
  FakeChannel,
  FakeGuild,
  FakeMember,
  FakeMessage,
  FakeRole,
  FakeUser,
  FakeThreadState,
} from './model.js';
