/**
 * The fake Discord for tests, demos and benchmarks: REST and Gateway on 127.0.0.1 that the real discord.js client
 * talks to, a world of guilds, channels, members and messages, member actions, a record of every REST call, and
 * injected faults.
 *
 * ```ts
 * for (const name of DISCORD_ENVIRONMENT_VARIABLES) delete process.env[name]; // discord.js reads these itself
 * const fake = await startFakeDiscord({ ackDeadlineMs: 3000 });
 * // the bot: new Client({ intents, rest: { api: fake.apiUrl } }).login(fake.token)
 * const handle = await fake.sendSlashCommand({ user: fake.member, channel: fake.channel, name: 'imagine',
 *   options: { prompt: 'a fox' }, attachments: { image: { name: 'in.png', data: pngBytes } } });
 * await handle.waitForCallback();                                   // { type: 5, ... }
 * const card = await handle.waitForOriginal((m) => m.attachments.length > 0);
 * card.attachments[0].data;                                         // the uploaded bytes
 * await fake.pressButton(card, 'reroll', fake.member);
 * await fake.postMessage({ user: fake.member, channel: fake.threads()[0], content: 'make it blue' });
 * fake.inject({ method: 'PATCH', match: /\/messages\//, status: 429, times: 2 });
 * fake.assertNoUnhandledCalls();
 * await fake.close(); // destroy the client first, or it will keep trying to reconnect
 * ```
 *
 * Discord's rules are enforced: the acknowledgement deadline (10062), one callback per interaction (40060), the
 * token's life (50027), the bot's channel permissions (50013/50001), attachment size (413 40005), message limits
 * (50035/50006), bot-token auth (401), the bot's global limit of 50 requests per second over every connection (429
 * `global: true`; interaction callbacks and webhooks exempt), and close codes 4004/4010/4011/4013/4014 on the Gateway.
 * Sharding is Discord's: IDENTIFY's `shard: [id, count]`, READY and GUILD_CREATE per shard with its guilds, each
 * guild's events to shard (guild_id >> 22) % count and DMs to shard 0, `/gateway/bot` recommending a shard count. Connections asking for
 * `compress=zlib-stream` (discord.js does when the optional zlib-sync package is installed; it is not) or
 * `encoding=etf` are closed at once with 4012 and a reason, so a misconfigured client fails instead of hanging.
 */
export { startFakeDiscord, FakeDiscord, type FakeDiscordOptions } from './fake-discord.js';
export { createTestClient, DISCORD_ENVIRONMENT_VARIABLES, TEST_CLIENT_INTENTS } from './test-client.js';
export { InteractionHandle, type MessagePredicate } from './interaction-handle.js';
export type { InteractionCallback, InteractionRecord } from './interaction-registry.js';
export type { RecordedCall, RecordedFile, CallPredicate } from './call-log.js';
export type { FaultSpec, FaultHandle, FaultMatch } from './faults.js';
export type { RateLimitSettings } from './rate-limiter.js';
export type { GlobalRateLimitSettings } from './global-rate-limit.js';
export type { ShardingSettings } from './gateway-sharding.js';
export { shardOf } from './gateway-protocol.js';
export type { FileInput, SlashCommandInput, AutocompleteInput, PostMessageInput } from './member-actions.js';
export type { OptionValue } from './command-options.js';
export type { ModalFile, ModalValues } from './components.js';
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
