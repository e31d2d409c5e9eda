import { GatewayIntentBits } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeMessage } from '../fakes/discord/index.js';
import { startRig, type Rig } from './harness.js';
import { descriptionOf, imagine, openThread, waitForGraph, waitForRecorded, waitForResult } from './helpers.js';

let rig: Rig;

beforeAll(async () => {
  // The operator left the privileged Message Content intent off in the Developer Portal.
  rig = await startRig({ discord: { privilegedIntents: { messageContent: false } } });
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
});

function say(channel: FakeChannel, content: string, replyTo?: FakeMessage): Promise<FakeMessage> {
  return rig.discord.postMessage({ user: rig.discord.member, channel, content, ...(replyTo ? { replyTo } : {}) });
}

/** The bot's result in answer to a member's message. */
function answerTo(message: FakeMessage): Promise<FakeMessage> {
  return rig.discord.waitForMessage(
    (answer) => answer.reference?.messageId === message.id && answer.attachments.length > 0,
    20_000,
  );
}

describe('without the Message Content intent', () => {
  it('connects without asking for it, and commands still work', async () => {
    const [session] = rig.discord.gateway.connectedSessions;
    expect(session?.has(GatewayIntentBits.MessageContent)).toBe(false);
    expect(session?.has(GatewayIntentBits.GuildMessages)).toBe(true);
    const result = await waitForResult(await imagine(rig, { prompt: 'a windmill' }));
    expect(result.attachments).toHaveLength(1);
  });

  it('refines a reply that mentions the bot, and leaves a plain reply (whose text it cannot read) alone', async () => {
    const result = await waitForResult(await imagine(rig, { prompt: 'a red barn' }));
    await waitForRecorded(rig, result);
    const { thread } = await openThread(rig, result);
    const graphsBefore = rig.emulator.received.length;

    const unread = await say(thread, '+ in the snow');
    const mention = await say(thread, `<@${rig.discord.botUser.id}> + in the rain`);
    const answer = await answerTo(mention);
    expect(descriptionOf(answer)).toBe('a red barn in the rain');
    await waitForGraph(rig, 'a red barn in the rain');
    // The plain reply came first; by the time the mention is answered, it has long been passed over.
    expect(rig.emulator.received).toHaveLength(graphsBefore + 1);
    expect(rig.discord.messagesIn(thread).some((message) => message.reference?.messageId === unread.id)).toBe(false);
  });
});
