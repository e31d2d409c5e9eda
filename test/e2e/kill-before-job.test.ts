/**
 * The bot process killed (SIGKILL, `COMFYCORD_FAULT_POINT`) after a member's request arrived and before its job was
 * written: between writing the request down and acknowledging it, between acknowledging it and queueing its job, and
 * for a reply that refines, between writing it down and its status card, and between the card and the job. The next
 * start (a real process, as `npm start` runs it, on the same data directory) finishes what was written down: exactly
 * one job, one finished card, delivered once, ComfyUI running its prompt once. An interaction never acknowledged is
 * not turned into a picture after Discord told the member the application did not respond.
 */
import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { InteractionResponseType } from 'discord.js';
import type { FakeMessage } from '../fakes/discord/index.js';
import { recordFault } from '../faults/ledger.js';
import { exitOf, useBotProcesses } from './bot-process.js';
import { statusOf } from './card-reader.js';
import { buttonId } from './helpers.js';

const world = useBotProcesses(20);

/** Starts a bot (told to die at `faultPoint`) and resolves once it is connected to Discord. */
async function started(faultPoint?: string): Promise<ChildProcess> {
  const connections = () => world.bots.output.join('').split('"msg":"connected to Discord"').length - 1;
  const before = connections();
  const child = world.bots.start(faultPoint === undefined ? {} : { COMFYCORD_FAULT_POINT: faultPoint });
  const deadline = Date.now() + 60_000;
  while (connections() === before) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      throw new Error(`the bot did not connect\n${world.bots.output.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}

/** Stops a bot cleanly: it finishes every delivery under way first, so nothing it owes comes later. */
async function stopped(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  expect(await exitOf(child), world.bots.output.join('')).toBe(0);
}

/** Prompts the emulator received whose graph holds `marker`. */
function promptsWith(marker: string) {
  return world.emulator.received.filter((prompt) => JSON.stringify(prompt.prompt).includes(marker));
}

/** Calls that put files on a message: a finished card (its original response, or a reply's status card). */
function uploadsWith(predicate: (path: string) => boolean) {
  return world.discord.calls.filter((call) => call.status < 300 && call.files.length > 0 && predicate(call.path));
}

/** A first result, made by a bot that is then stopped cleanly (its session recorded). */
async function firstResult(prompt: string): Promise<FakeMessage> {
  const bot = await started();
  const handle = await world.discord.sendSlashCommand({
    user: world.discord.member,
    channel: world.discord.channel,
    name: 'imagine',
    options: { prompt },
  });
  const result = await handle.waitForOriginal((message) => /^Done in/.test(statusOf(message)), 30_000);
  await stopped(bot);
  return result;
}

describe('an /imagine whose process is killed before its job is written', () => {
  it('is finished by the next start when the process died after acknowledging it: one job, one card', async () => {
    const { discord } = world;
    const doomed = await started('command:acknowledged');
    const handle = await discord.sendSlashCommand({
      user: discord.member,
      channel: discord.channel,
      name: 'imagine',
      options: { prompt: 'a lighthouse acknowledged then killed' },
    });
    await exitOf(doomed);
    // The member saw "thinking…"; nothing was queued.
    expect(handle.callback?.type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    expect(promptsWith('acknowledged then killed')).toHaveLength(0);

    const next = await started();
    const card = await handle.waitForOriginal((message) => /^Done in/.test(statusOf(message)), 60_000);
    expect(statusOf(card), world.bots.output.join('')).toMatch(/^Done in/);
    await stopped(next);
    const uploads = uploadsWith((path) => path.includes(handle.token));
    expect(uploads).toHaveLength(1);
    expect(promptsWith('acknowledged then killed')).toHaveLength(1);
    expect(world.bots.output.join('')).toContain('finished a request a stopped process had received');
    recordFault('the bot killed (SIGKILL) after acknowledging a command, before its job', [
      { deliveries: uploads.length },
    ]);
  }, 120_000);

  it('is dropped when the process died before acknowledging it: Discord said it did not respond, no picture comes', async () => {
    const { discord } = world;
    const doomed = await started('command:journaled');
    const handle = await discord.sendSlashCommand({
      user: discord.member,
      channel: discord.channel,
      name: 'imagine',
      options: { prompt: 'a lighthouse never acknowledged' },
    });
    await exitOf(doomed);
    const messagesBefore = discord.messagesIn(discord.channel).length;

    const next = await started();
    const deadline = Date.now() + 30_000;
    while (!world.bots.output.join('').includes('dropped a request whose process died before acknowledging it')) {
      if (Date.now() > deadline) throw new Error(`the request was not dropped\n${world.bots.output.join('')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await stopped(next);
    // No answer ever reached the interaction (Discord's own "did not respond" is what the member read), no job ran,
    // and nothing appeared in the channel later.
    expect(handle.callback).toBeNull();
    expect(handle.calls.filter((call) => call.status < 300)).toHaveLength(0);
    expect(promptsWith('never acknowledged')).toHaveLength(0);
    expect(discord.messagesIn(discord.channel)).toHaveLength(messagesBefore);
    // Discord's own sentence is the member's answer: one, from Discord.
    recordFault('the bot killed (SIGKILL) after writing a command down, before acknowledging it', [
      { deliveries: 0, sentences: 1 },
    ]);
  }, 120_000);
});

describe('a Reroll whose process is killed after acknowledging it, before its job', () => {
  it('is finished by the next start: one job with the same prompt, one card', async () => {
    const { discord } = world;
    const result = await firstResult('a windmill rerolled across a kill');
    const doomed = await started('command:acknowledged');
    const handle = await discord.pressButton(result, buttonId(result, 'Reroll'), discord.member);
    await exitOf(doomed);
    expect(handle.callback?.type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    expect(promptsWith('rerolled across a kill')).toHaveLength(1);

    const next = await started();
    const card = await handle.waitForOriginal((message) => /^Done in/.test(statusOf(message)), 60_000);
    expect(statusOf(card), world.bots.output.join('')).toMatch(/^Done in/);
    await stopped(next);
    const uploads = uploadsWith((path) => path.includes(handle.token));
    expect(uploads).toHaveLength(1);
    expect(promptsWith('rerolled across a kill')).toHaveLength(2);
    recordFault('the bot killed (SIGKILL) after acknowledging a button, before its job', [
      { deliveries: uploads.length },
    ]);
  }, 150_000);
});

describe('a reply that refines, its process killed before its job is written', () => {
  it.each(['refine:journaled', 'refine:card-posted', 'refine:card-noted'] as const)(
    'is finished by the next start with one status card (killed at %s)',
    async (point) => {
      const { discord } = world;
      const marker = `a mill refined across ${point.replace(':', ' ')}`;
      const result = await firstResult(`${marker} --steps 3`);
      const doomed = await started(point);
      const reply = await discord.postMessage({
        user: discord.member,
        channel: discord.channel,
        content: '+ at night',
        replyTo: result,
      });
      await exitOf(doomed);
      const answers = () =>
        discord
          .messagesIn(discord.channel)
          .filter((message) => message.authorId === discord.botUser.id && message.reference?.messageId === reply.id);
      expect(answers()).toHaveLength(point === 'refine:journaled' ? 0 : 1);

      const next = await started();
      const deadline = Date.now() + 60_000;
      while (!answers().some((message) => /^Done in/.test(statusOf(message)))) {
        if (Date.now() > deadline) throw new Error(`no refined result\n${world.bots.output.join('')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await stopped(next);
      // One status card, the one posted before the kill when there was one, and it carries the result.
      expect(answers()).toHaveLength(1);
      expect(statusOf(answers()[0]!)).toMatch(/^Done in/);
      const uploads = uploadsWith((path) =>
        path.includes(`/channels/${discord.channel.id}/messages/${answers()[0]!.id}`),
      );
      expect(uploads).toHaveLength(1);
      expect(promptsWith(marker)).toHaveLength(2);
      recordFault('the bot killed (SIGKILL) after receiving a refine, before its job', [
        { deliveries: uploads.length },
      ]);
    },
    150_000,
  );
});
