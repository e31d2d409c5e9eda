/**
 * Shared setup for the fake's own tests: a fresh fake (and optionally a logged-in client) per test, both closed
 * afterwards; the environment variables discord.js would read are removed; any unhandled rejection or client error
 * fails the test.
 */
import type { Client } from 'discord.js';
import { afterEach, beforeEach, expect } from 'vitest';
import { startFakeDiscord, type FakeDiscord, type FakeDiscordOptions } from './fake-discord.js';
import { createTestClient, DISCORD_ENVIRONMENT_VARIABLES } from './test-client.js';

/** What a test gets. */
export interface Harness {
  readonly fake: FakeDiscord;
  /** Only set when the harness logs a client in. */
  readonly client: Client<true>;
  /** Errors the client emitted (checked empty after each test unless the test clears them). */
  readonly clientErrors: Error[];
}

/** Registers beforeEach/afterEach hooks; the returned object is filled before each test. */
export function useFakeDiscord(options: FakeDiscordOptions & { login?: boolean } = {}): Harness {
  const harness = { clientErrors: [] as Error[] } as { fake: FakeDiscord; client: Client<true>; clientErrors: Error[] };
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  let client: Client<true> | null = null;

  beforeEach(async () => {
    // discord.js reads these by itself; a developer's shell must not leak a real token or sharding into tests.
    for (const name of DISCORD_ENVIRONMENT_VARIABLES) Reflect.deleteProperty(process.env, name);
    process.on('unhandledRejection', onRejection);
    rejections.length = 0;
    harness.clientErrors.length = 0;
    harness.fake = await startFakeDiscord(options);
    if (options.login !== false) {
      client = await createTestClient(harness.fake);
      client.on('error', (error) => harness.clientErrors.push(error));
      harness.client = client;
    }
  });

  afterEach(async () => {
    await client?.destroy();
    client = null;
    await harness.fake.close();
    process.off('unhandledRejection', onRejection);
    expect(rejections).toEqual([]);
    expect(harness.clientErrors).toEqual([]);
  });

  return harness;
}
