/**
 * The discord.js client as comfycord uses it: guilds (slash commands, threads), guild messages and message content
 * (refining by replying in a session thread). MessageContent is privileged: without it enabled in the Developer Portal,
 * Discord refuses the connection (close code 4014), and the README explains how to run without it.
 */
import { Client, GatewayIntentBits, Partials } from 'discord.js';

export interface DiscordClientOptions {
  /** Discord's REST base without the version, e.g. `https://discord.com/api` (or a proxy, or the fake in tests). */
  readonly apiUrl: string;
  /** Ask for message content (needed to read plain replies in session threads). */
  readonly messageContent?: boolean;
}

/** Creates (but does not log in) the client. */
export function createDiscordClient(options: DiscordClientOptions): Client {
  const intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.DirectMessages];
  if (options.messageContent !== false) intents.push(GatewayIntentBits.MessageContent);
  return new Client({
    intents,
    // DMs arrive for channels discord.js has not cached; partials let those messages through.
    partials: [Partials.Channel],
    // Node's own fetch, with the FormData it was built with. discord.js's default sends files through its bundled
    // undici 6 and the process-wide dispatcher; once undici 7 (ours) is loaded first, that dispatcher is undici 7's,
    // which cannot read undici 6's FormData, and every upload fails ("action is not a function", discord.js#11525).
    rest: { api: options.apiUrl, makeRequest: fetch },
    // Nobody is pinged by our messages except the member a late result is for (allowed explicitly there).
    allowedMentions: { parse: [] },
  });
}
