/**
 * The member always learns the outcome: when Discord refuses the finished card for a reason that will not go away by
 * itself (a file too large, a missing permission, a channel or message that is gone), the bot does not retry the same
 * request, and does not give up silently: it posts the card without its files, in the channel, or as a direct message.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultHandle, FaultSpec } from '../fakes/discord/faults.js';
import { POINTERS } from '../../src/discord/final-post.js';
import { text } from '../../src/i18n/catalog.js';
import type { InteractionHandle } from '../fakes/discord/index.js';
import { startRig, type Rig } from './harness.js';
import { buttonsOf, imagine, isV2, promptOf, statusOf, textsOf } from './helpers.js';

describe('delivering a result Discord refuses', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig();
  });

  const faults: FaultHandle[] = [];
  /** Refuses matching calls until the test ends. */
  const refuse = (spec: FaultSpec): void => void faults.push(rig.discord.inject({ times: Infinity, ...spec }));

  afterEach(() => {
    for (const fault of faults.splice(0)) fault.cancel();
    rig.emulator.faults.stepMs = 2;
    rig.discord.assertNoUnhandledCalls();
  });

  afterAll(async () => {
    await rig?.close();
  });

  const onCard = (handle: InteractionHandle) => (call: { path: string }) => call.path.includes(`/${handle.token}/`);
  const dmCalls = () => rig.discord.calls.filter((call) => call.path === '/users/@me/channels');

  it('writes the card without its picture, and says so, when every upload is refused as too large (413 40005)', async () => {
    const handle = await imagine(rig, { prompt: 'an oversized whale' });
    refuse({
      match: (call) => onCard(handle)(call) && call.files > 0,
      status: 413,
      code: 40005,
      times: Infinity,
    });
    const card = await handle.waitForOriginal((message) => statusOf(message).startsWith('Done in'), 20_000);
    expect(statusOf(card)).toContain('Discord would not take the picture here');
    expect(card.attachments).toHaveLength(0);
    const refused = handle.edits.filter((call) => call.status === 413);
    // Refused once, not retried as it was: the next try is a different, smaller card.
    expect(refused).toHaveLength(1);
  });

  it.each([
    ['the original response is gone (404 10008)', 404, 10008],
    ['the interaction webhook is gone (404 10015)', 404, 10015],
  ])('posts the result in the channel, mentioning the member, when %s', async (_why, status, code) => {
    const handle = await imagine(rig, { prompt: `a vanished heron ${code}` });
    refuse({ method: 'PATCH', match: onCard(handle), status, code, times: Infinity });
    const { member } = rig.discord;
    const posted = await rig.discord.waitForMessage(
      (message) =>
        statusOf(message).startsWith(`<@${member.id}> Done in`) &&
        message.attachments.length > 0 &&
        message.channelId === rig.discord.channel.id &&
        (promptOf(message) ?? '').includes(`a vanished heron ${code}`),
      20_000,
    );
    expect(posted.mentionUserIds).toEqual([member.id]);
    expect(isV2(posted)).toBe(true);
  });

  it.each([
    ['the bot may not post in the channel (403 50013)', 403, 50013, 2],
    ['the channel is gone (404 10003)', 404, 10003, 1],
  ])('sends the result as a direct message when the token expired and %s', async (_why, status, code, tries) => {
    const prompt = `a lonely lighthouse ${code}`;
    rig.emulator.faults.stepMs = 40;
    const handle = await imagine(rig, { prompt: `${prompt} --steps 12` });
    await handle.waitForOriginal((message) => statusOf(message).startsWith('Running:'), 10_000);
    rig.discord.expireInteraction(handle);
    const channelPath = `/channels/${rig.discord.channel.id}/messages`;
    refuse({ method: 'POST', match: channelPath, status, code, times: Infinity });
    const before = dmCalls().length;
    const dm = await rig.discord.waitForMessage(
      (message) =>
        message.guildId === null &&
        statusOf(message).startsWith('Done in') &&
        (promptOf(message) ?? '').includes(prompt),
      20_000,
    );
    expect(dm.attachments).toHaveLength(1);
    expect(isV2(dm)).toBe(true);
    expect(dmCalls().length).toBeGreaterThan(before);
    // Refusals are not retried as they were: a missing permission is tried once more without the picture (it may
    // be Attach Files), a channel that is gone is not tried again at all.
    const refused = rig.discord.calls.filter((call) => call.path === channelPath && call.status === status);
    expect(refused.filter((call) => JSON.stringify(call.body).includes(prompt))).toHaveLength(tries);
  });

  it('edits the card, still showing its progress, to point to the result once it was posted in the channel', async () => {
    const prompt = 'a heron past its token';
    rig.emulator.faults.stepMs = 40;
    const handle = await imagine(rig, { prompt: `${prompt} --steps 12` });
    await handle.waitForOriginal((message) => statusOf(message).startsWith('Running:'), 10_000);
    rig.discord.expireInteraction(handle);
    const { member } = rig.discord;
    await rig.discord.waitForMessage(
      (message) =>
        statusOf(message).startsWith(`<@${member.id}> Done in`) && (promptOf(message) ?? '').includes(prompt),
      20_000,
    );
    // Still a Components V2 message (Discord would refuse dropping the flag): one sentence, no buttons, no picture.
    const card = await handle.waitForOriginal((message) => statusOf(message) === text(null, POINTERS.channel), 10_000);
    expect(textsOf(card)).toEqual([text(null, POINTERS.channel)]);
    expect(buttonsOf(card)).toEqual([]);
    expect([isV2(card), card.content, card.embeds, card.attachments]).toEqual([true, '', [], []]);
  });

  it('points to the result in the member’s language', async () => {
    const prompt = 'ein Reiher nach Ablauf';
    rig.emulator.faults.stepMs = 40;
    const member = rig.discord.createUser({ username: 'spricht-deutsch', locale: 'de' }, rig.discord.guild);
    const handle = await imagine(rig, { prompt: `${prompt} --steps 12` }, { user: member });
    await handle.waitForOriginal((message) => statusOf(message).startsWith('Läuft'), 10_000);
    rig.discord.expireInteraction(handle);
    const card = await handle.waitForOriginal((message) => statusOf(message).startsWith('Fertig:'), 20_000);
    expect(textsOf(card)).toEqual([
      'Fertig: Das Ergebnis steht in einer neuen Nachricht in diesem Kanal (diese Karte konnte es nicht tragen).',
    ]);
  });

  it('edits the card to say the result went by direct message when the channel refused it', async () => {
    const prompt = 'a lighthouse sent privately';
    rig.emulator.faults.stepMs = 40;
    const handle = await imagine(rig, { prompt: `${prompt} --steps 12` });
    await handle.waitForOriginal((message) => statusOf(message).startsWith('Running:'), 10_000);
    rig.discord.expireInteraction(handle);
    refuse({ method: 'POST', match: `/channels/${rig.discord.channel.id}/messages`, status: 403, code: 50013 });
    await rig.discord.waitForMessage(
      (message) =>
        message.guildId === null &&
        statusOf(message).startsWith('Done in') &&
        (promptOf(message) ?? '').includes(prompt),
      20_000,
    );
    const card = await handle.waitForOriginal((message) => statusOf(message) === text(null, POINTERS.dm), 10_000);
    expect(textsOf(card)).toEqual([text(null, POINTERS.dm)]);
    expect(buttonsOf(card)).toEqual([]);
    expect(isV2(card)).toBe(true);
  });
});
