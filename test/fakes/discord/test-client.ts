/**
 * A real discord.js client logged in to a fake Discord, for tests of the fake and of bot code that takes a client.
 */
import { Client, GatewayIntentBits, Partials, type ClientOptions } from 'discord.js';
import type { FakeDiscord } from './fake-discord.js';

/** Environment variables discord.js reads by itself (token and sharding); tests must not inherit them. */
export const DISCORD_ENVIRONMENT_VARIABLES = ['DISCORD_TOKEN', 'SHARDS', 'SHARD_COUNT'] as const;

/** The intents a comfycord-like bot uses: guilds, guild and DM messages, and message content. */
export const TEST_CLIENT_INTENTS = [
  GatewayIntentBits.Guilds,
  GatewayIntentBits.GuildMessages,
  GatewayIntentBits.DirectMessages,
  GatewayIntentBits.MessageContent,
];

/**
 * Creates a client pointed at the fake, logs it in and resolves once `clientReady` fired (every guild arrived).
 * A failed login destroys the client and rejects. The caller destroys the client when done.
 */
export async function createTestClient(fake: FakeDiscord, options: Partial<ClientOptions> = {}): Promise<Client<true>> {
  const client = new Client({
    intents: TEST_CLIENT_INTENTS,
    partials: [Partials.Channel],
    // Explicit shards keep discord.js from reading SHARDS/SHARD_COUNT from the environment.
    shards: [0],
    shardCount: 1,
    ...options,
    // Node's own fetch: discord.js's default sends files through its bundled undici 6 and the process-wide
    // dispatcher, which fails ("action is not a function") once undici 7 has installed its dispatcher first.
    rest: { makeRequest: fetch, ...options.rest, api: fake.apiUrl },
  });
  // Listen before logging in: clientReady may fire before login() resolves.
  const ready = new Promise<Client<true>>((resolve) => client.once('clientReady', resolve));
  try {
    await client.login(fake.token);
    return await ready;
  } catch (error) {
    await client.destroy();
    throw error;
  }
}
