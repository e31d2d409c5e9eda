import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeMessage, FileInput } from '../fakes/discord/index.js';
import { MessageFlags } from 'discord.js';
import { refineFooter } from '../../src/discord/session-opener.js';
import { refineHelp, type Generation } from '../../src/sessions/index.js';
import { startRig, type Rig } from './harness.js';
import {
  buttonId,
  buttonLabels,
  descriptionOf,
  fieldsOf,
  footerOf,
  globalCallsSince,
  imagine,
  nodeOfClass,
  openThread,
  pngImage,
  promptText,
  waitForGraph,
  waitForResult,
  waitForOutage,
  waitForRecorded,
  waitForServerHealth,
  type ReceivedGraph,
} from './helpers.js';

let rig: Rig;

beforeAll(async () => {
  // A short outage timeout: one test takes the only server down and needs the outage declared quickly.
  rig = await startRig({ env: { COMFY_OUTAGE_TIMEOUT_SECONDS: '1' } });
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
});

/** Runs `/imagine` and waits for its result, recorded in its session (a reply chain: no thread yet). */
async function startSession(prompt: string, channel?: string): Promise<FakeMessage> {
  const result = await waitForResult(await imagine(rig, { prompt }, channel ? { channel } : {}));
  await recorded(result);
  return result;
}

/** Runs `/imagine`, then opens a thread on its result as a member does, with the card's button. */
async function startThreadSession(prompt: string): Promise<{ result: FakeMessage; thread: FakeChannel }> {
  const result = await startSession(prompt);
  const { thread } = await openThread(rig, result);
  return { result, thread };
}

function recorded(message: FakeMessage): Promise<Generation> {
  return waitForRecorded(rig, message);
}

/** Calls that opened a thread on `message`, accepted by Discord. */
function threadsOpenedOn(message: FakeMessage) {
  return rig.discord.calls.filter(
    (call) => call.method === 'POST' && call.status < 300 && call.path.endsWith(`/messages/${message.id}/threads`),
  );
}

/** The member writes in a channel or thread, optionally replying to a message or attaching files. */
function say(
  channel: FakeChannel,
  content: string,
  more: { replyTo?: FakeMessage; attachments?: FileInput[] } = {},
): Promise<FakeMessage> {
  return rig.discord.postMessage({ user: rig.discord.member, channel, content, ...more });
}

/** The bot's answer to a member's message, once it satisfies `predicate` (default: it carries the result). */
function answerTo(
  message: FakeMessage,
  predicate: (answer: FakeMessage) => boolean = (answer) => answer.attachments.length > 0,
): Promise<FakeMessage> {
  return rig.discord.waitForMessage(
    (answer) =>
      answer.authorId === rig.discord.botUser.id && answer.reference?.messageId === message.id && predicate(answer),
    20_000,
  );
}

/** The bot's result for a refine, once it is recorded in the session (so the next reply starts from it). */
async function refined(message: FakeMessage): Promise<FakeMessage> {
  const answer = await answerTo(message);
  await recorded(answer);
  return answer;
}

/** The settings a text-to-image graph ran with. */
function settingsOf(graph: ReceivedGraph) {
  const sampler = nodeOfClass(graph, 'KSampler').inputs;
  const latent = nodeOfClass(graph, 'EmptyLatentImage').inputs;
  return {
    prompt: promptText(graph, 'positive'),
    negative: promptText(graph, 'negative'),
    seed: sampler['seed'] as number,
    steps: sampler['steps'],
    cfg: sampler['cfg'],
    width: latent['width'] as number,
    height: latent['height'] as number,
    count: latent['batch_size'],
  };
}

/** Bot messages in a channel, and graphs received: to show that something caused neither. */
function footprint(channel: FakeChannel) {
  return {
    graphs: rig.emulator.received.length,
    botMessages: rig.discord.messagesIn(channel).filter((message) => message.authorId === rig.discord.botUser.id)
      .length,
  };
}

describe('a session at delivery', () => {
  it('costs no call under the global limit: no thread, no help message; the card says how to refine and offers a thread', async () => {
    const from = rig.discord.calls.length;
    const result = await startSession('a misty pine forest');
    expect(globalCallsSince(rig, from)).toEqual([]);
    expect(result.threadId).toBeNull();
    expect(rig.discord.threads().some((thread) => thread.id === result.id)).toBe(false);
    expect(footerOf(result)).toBe(refineFooter('en-US', '//'));
    expect(buttonLabels(result)).toEqual(['Upscale', 'Vary', 'Reroll', 'Edit', 'Refine in thread', 'Delete']);
    expect((await recorded(result)).sessionId).toBe(result.id);
  });

  it('refines a reply to the result right there: the answer replies to the member in the channel, still no thread', async () => {
    const result = await startSession('a copper kettle --steps 12');
    const answer = await refined(await say(rig.discord.channel, '+ on a stove', { replyTo: result }));
    expect(answer.channelId).toBe(rig.discord.channel.id);
    expect(descriptionOf(answer)).toBe('a copper kettle on a stove');
    expect(settingsOf(await waitForGraph(rig, 'a copper kettle on a stove')).steps).toBe(12);
    expect((await recorded(answer)).sessionId).toBe(result.id);
    expect(threadsOpenedOn(result)).toHaveLength(0);
    // The refined result offers a thread of its own, as the first did.
    expect(buttonLabels(answer)).toContain('Refine in thread');
  });
});

describe('session threads, opened on request', () => {
  it('opens a thread named after the prompt (at most 100 characters) on "Refine in thread", whose first message is the two-line help', async () => {
    const prompt =
      `a very long winding road through autumn hills, ${'with golden trees and a small red car '.repeat(3)}`.trim();
    expect(prompt.length).toBeGreaterThan(100);
    const result = await startSession(prompt);
    const from = rig.discord.calls.length;
    const { thread, pointer } = await openThread(rig, result);
    expect(thread.id).toBe(result.id);
    expect(thread.parentId).toBe(rig.discord.channel.id);
    expect(thread.name!.length).toBeLessThanOrEqual(100);
    expect(prompt.startsWith(thread.name!.replace(/…$/, ''))).toBe(true);
    const [help] = rig.discord.messagesIn(thread);
    expect(help!.authorId).toBe(rig.discord.botUser.id);
    expect(help!.content).toBe(refineHelp('//'));
    expect(help!.content.split('\n')).toHaveLength(2);
    // Only the member who asked sees where to go; the thread and its help are the two calls the global limit counts.
    expect(pointer.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(pointer.content).toContain(`<#${thread.id}>`);
    expect(globalCallsSince(rig, from).map((call) => `${call.method} ${call.route}`)).toEqual([
      'POST /channels/:channelId/messages/:messageId/threads',
      'POST /channels/:channelId/messages',
    ]);
  });

  it('opens exactly one thread with one help message however often the button is pressed, and points each press to it', async () => {
    const result = await startSession('a tin robot');
    const presses = await Promise.all(
      [0, 1, 2].map(() => rig.discord.pressButton(result, buttonId(result, 'Refine in thread'), rig.discord.member)),
    );
    const pointers = await Promise.all(
      presses.map((handle) => handle.waitForOriginal((message) => message.content !== '', 10_000)),
    );
    const { pointer: later } = await openThread(rig, rig.discord.message(result.id));
    for (const pointer of [...pointers, later]) expect(pointer.content).toContain(`<#${result.id}>`);
    expect(threadsOpenedOn(result)).toHaveLength(1);
    const thread = rig.discord.threads().find((candidate) => candidate.id === result.id)!;
    expect(rig.discord.messagesIn(thread).map((message) => message.content)).toEqual([refineHelp('//')]);
  });

  it('continues the session when /imagine is used inside its thread: no new thread, the same session', async () => {
    const { thread } = await startThreadSession('a quiet harbour');
    const threadsBefore = rig.discord.threads().length;
    const inThread = await imagine(rig, { prompt: 'a busy harbour --steps 9' }, { channel: thread.id });
    const card = await waitForResult(inThread);
    expect(card.channelId).toBe(thread.id);
    expect(card.threadId).toBeNull();
    expect(buttonLabels(card)).not.toContain('Refine in thread');
    expect(rig.discord.threads()).toHaveLength(threadsBefore);

    const generation = await recorded(card);
    expect(generation.id).toBe(buttonId(card, 'Reroll').split(':')[1]);
    expect(generation.sessionId).toBe(thread.id);
    expect((await rig.bot.services.sessions.getSessionByThread(thread.id))?.lastGenerationId).toBe(generation.id);

    // The next reply refines what /imagine made in the thread, not the picture the thread started on.
    const answer = await refined(await say(thread, 'again'));
    expect(descriptionOf(answer)).toBe('a busy harbour');
    expect(settingsOf(await waitForGraph(rig, 'a busy harbour', 2)).steps).toBe(9);
  });

  it('continues the reply chain in a thread opened on a later result of it', async () => {
    const result = await startSession('a glass jar --steps 7');
    const answer = await refined(await say(rig.discord.channel, '+ of honey', { replyTo: result }));
    const { thread } = await openThread(rig, answer);
    expect(thread.id).toBe(answer.id);
    const inThread = await refined(await say(thread, '+ on a shelf'));
    expect(inThread.channelId).toBe(thread.id);
    expect(descriptionOf(inThread)).toBe('a glass jar of honey on a shelf');
    expect(settingsOf(await waitForGraph(rig, 'a glass jar of honey on a shelf')).steps).toBe(7);
    expect((await recorded(inThread)).sessionId).toBe(result.id);
  });

  it('makes a thread a member opened on the result by hand the session’s only when the button is pressed', async () => {
    const result = await startSession('a paper lantern');
    const byHand = rig.discord.createThread(rig.discord.channel, 'about this lantern', rig.discord.member, result);
    expect(byHand.id).toBe(result.id);
    const graphs = rig.emulator.received.length;
    const chat = await say(byHand, 'what a lovely lantern');
    // Pressed on the card as it is now (it shows its thread): no second thread, no help in the member's thread.
    const handle = await rig.discord.pressButton(
      rig.discord.message(result.id),
      buttonId(result, 'Refine in thread'),
      rig.discord.member,
    );
    expect((await handle.waitForOriginal((message) => message.content !== '')).content).toContain(`<#${byHand.id}>`);
    expect(threadsOpenedOn(result)).toHaveLength(0);
    const answer = await refined(await say(byHand, '+ at dusk'));
    expect(descriptionOf(answer)).toBe('a paper lantern at dusk');
    expect(rig.emulator.received).toHaveLength(graphs + 1);
    expect(rig.discord.messagesIn(byHand).some((message) => message.reference?.messageId === chat.id)).toBe(false);
  });

  it('answers with one sentence when Discord refuses the thread, and replies to the result keep refining', async () => {
    const result = await startSession('a clay pot');
    const refusal = rig.discord.inject({
      method: 'POST',
      match: '/channels/:channelId/messages/:messageId/threads',
      status: 403,
      code: 50013,
    });
    const handle = await rig.discord.pressButton(result, buttonId(result, 'Refine in thread'), rig.discord.member);
    const sentence = await handle.waitForOriginal((message) => message.content !== '', 10_000);
    expect(refusal.hits).toBe(1);
    expect(sentence.content).toBe('I cannot open a thread on this picture here; reply to it to refine it instead.');
    expect(await rig.bot.services.sessions.getSessionByThread(result.id)).toBeUndefined();
    const answer = await refined(await say(rig.discord.channel, '+ with flowers', { replyTo: result }));
    expect(descriptionOf(answer)).toBe('a clay pot with flowers');
  });
});

describe('refining by replying in a session thread', () => {
  it('carries the settings forward: plain text, + text, flags alone and again', async () => {
    const { thread } = await startThreadSession('a stone bridge --ar 3:2 --steps 14 --cfg 5 --no fog');
    const first = settingsOf(await waitForGraph(rig, 'a stone bridge'));
    expect(first).toMatchObject({ steps: 14, cfg: 5, negative: 'fog', count: 1 });
    expect(first.width / first.height).toBeCloseTo(3 / 2, 1);

    // Plain text replaces the prompt and keeps every other setting, the seed included.
    const replaced = await refined(await say(thread, 'a wooden bridge'));
    expect(replaced.channelId).toBe(thread.id);
    expect(descriptionOf(replaced)).toBe('a wooden bridge');
    const second = settingsOf(await waitForGraph(rig, 'a wooden bridge'));
    const { prompt: _firstPrompt, ...kept } = first;
    expect(second).toEqual({ ...kept, prompt: 'a wooden bridge' });
    expect(fieldsOf(replaced)['Seed']).toBe(String(first.seed));

    // `+ text` appends to the previous prompt.
    await refined(await say(thread, '+ at night'));
    const third = settingsOf(await waitForGraph(rig, 'a wooden bridge at night'));
    expect(third).toMatchObject({ ...kept, prompt: 'a wooden bridge at night' });

    // Flags alone change only those settings.
    await refined(await say(thread, '--seed 7'));
    const fourth = settingsOf(await waitForGraph(rig, 'a wooden bridge at night', 2));
    expect(fourth).toEqual({ ...third, seed: 7 });

    await refined(await say(thread, '--ar 2:3'));
    const fifth = settingsOf(await waitForGraph(rig, 'a wooden bridge at night', 3));
    const { width: _width, height: _height, ...unsized } = fourth;
    expect(fifth).toMatchObject(unsized);
    expect(fifth.width / fifth.height).toBeCloseTo(2 / 3, 1);

    // `again` rerolls: the same prompt and size, a new seed.
    const again = await refined(await say(thread, 'again'));
    const sixth = settingsOf(await waitForGraph(rig, 'a wooden bridge at night', 4));
    expect(sixth).toMatchObject({ ...fifth, seed: expect.any(Number) });
    expect(sixth.seed).not.toBe(fifth.seed);
    expect(fieldsOf(again)['Seed']).toBe(String(sixth.seed));
  });

  it('starts image-to-image from an attached picture, uploading its exact bytes to the server', async () => {
    const { thread } = await startThreadSession('a paper boat');
    const picture = await pngImage(80, 48);
    const answer = await answerTo(
      await say(thread, 'a paper boat in a puddle', { attachments: [{ name: 'boat.png', data: picture }] }),
    );
    const graph = await waitForGraph(rig, 'a paper boat in a puddle');
    const loaded = String(nodeOfClass(graph, 'LoadImage').inputs['image']);
    const onServer = await readFile(path.join(rig.emulator.dataDir, 'input', loaded));
    expect(onServer.equals(picture)).toBe(true);
    expect(fieldsOf(answer)['Workflow']).toBe('img2img');
  });

  it('ignores a message starting with // and answers a bad flag with one sentence', async () => {
    const { thread } = await startThreadSession('a lantern in the fog');
    const before = footprint(thread);
    const chat = await say(thread, '// love the colours --seed 3');
    const bad = await say(thread, 'a lantern --sharpness 3');
    const refusal = await answerTo(bad, (answer) => answer.content !== '');
    expect(refusal.content).toMatch(/^❌ [^\n]*--sharpness[^\n]*\.$/);
    // A real refine after both: once it is answered, the chat message has long been looked at.
    await refined(await say(thread, '+ and rain'));
    await waitForGraph(rig, 'a lantern in the fog and rain');
    expect(footprint(thread)).toEqual({ graphs: before.graphs + 1, botMessages: before.botMessages + 2 });
    expect(rig.discord.messagesIn(thread).some((message) => message.reference?.messageId === chat.id)).toBe(false);
  });

  it('ignores a reply in a thread that holds no session', async () => {
    const { thread: session } = await startThreadSession('a sleeping cat');
    const plain = rig.discord.createThread(rig.discord.channel, 'just chatting', rig.discord.member);
    const before = footprint(plain);
    await say(plain, 'a sleeping dog');
    await refined(await say(session, 'a sleeping fox'));
    await waitForGraph(rig, 'a sleeping fox');
    expect(rig.emulator.received.length).toBe(before.graphs + 1);
    expect(footprint(plain).botMessages).toBe(before.botMessages);
    expect(rig.emulator.received.some((entry) => JSON.stringify(entry.prompt).includes('a sleeping dog'))).toBe(false);
  });

  it('answers a refine refused while every server is down with one sentence, and leaves no status card behind', async () => {
    const { thread } = await startThreadSession('a lighthouse');
    rig.emulator.faults.refuseConnections(true);
    try {
      await waitForServerHealth(rig, 'down');
      await waitForOutage(rig);
      const refused = await say(thread, '+ in a storm');
      const refusal = await answerTo(refused, (answer) => answer.content.startsWith('❌'));
      expect(refusal.content).toBe(
        '❌ The image servers cannot be reached right now; please try again in a few minutes.',
      );
      const answers = rig.discord.messagesIn(thread).filter((message) => message.reference?.messageId === refused.id);
      expect(answers.map((message) => message.id)).toEqual([refusal.id]);
    } finally {
      rig.emulator.faults.refuseConnections(false);
      await waitForServerHealth(rig, 'up');
    }
  });
});

describe('where the bot cannot open threads', () => {
  it('offers no thread, and a reply to the result refines it, the chain going on from the newest result', async () => {
    const channel = rig.discord.createTextChannel({ name: 'no-threads' });
    rig.discord.denyBotPermissions(channel, ['CreatePublicThreads']);
    const threadsBefore = rig.discord.threads().length;
    const result = await startSession('a field of tulips --steps 11', channel.id);
    expect(buttonLabels(result)).not.toContain('Refine in thread');
    expect(footerOf(result)).toBe(refineFooter('en-US', '//'));
    expect(result.threadId).toBeNull();
    expect((await recorded(result)).sessionId).toBe(result.id);

    const answer = await refined(await say(channel, '+ under a rainbow', { replyTo: result }));
    expect(answer.channelId).toBe(channel.id);
    expect(descriptionOf(answer)).toBe('a field of tulips under a rainbow');
    expect(settingsOf(await waitForGraph(rig, 'a field of tulips under a rainbow')).steps).toBe(11);
    expect(buttonLabels(answer)).not.toContain('Refine in thread');

    // The chain goes on from the newest result.
    await answerTo(await say(channel, '--steps 13', { replyTo: answer }));
    const graph = settingsOf(await waitForGraph(rig, 'a field of tulips under a rainbow', 2));
    expect(graph.steps).toBe(13);
    expect(rig.discord.threads()).toHaveLength(threadsBefore);
  });

  it('answers a press of an old card’s thread button with one sentence once the permission is gone', async () => {
    const channel = rig.discord.createTextChannel({ name: 'threads-revoked' });
    const result = await startSession('a rusty gate', channel.id);
    rig.discord.denyBotPermissions(channel, ['CreatePublicThreads']);
    const handle = await rig.discord.pressButton(result, buttonId(result, 'Refine in thread'), rig.discord.member);
    const callback = await handle.waitForCallback();
    expect(callback.data?.['content']).toBe('I cannot open threads here; reply to the picture to refine it.');
    expect(threadsOpenedOn(result)).toHaveLength(0);
  });
});
