import { REST } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deployCommands } from '../../src/commands/deploy.js';
import { COMMAND_DEFINITIONS } from '../../src/commands/index.js';
import type { FakeChannel, FakeMessage, FakeUser } from '../fakes/discord/index.js';
import { startRig, type Rig } from './harness.js';
import { refineFooter } from '../../src/discord/session-opener.js';
import {
  buttonId,
  buttonLabels,
  descriptionOf,
  imagine,
  openThread,
  waitForRecorded,
  waitForResult,
} from './helpers.js';
import { statusOf, footerOf, isV2, galleryOf } from './card-reader.js';

let rig: Rig;
/** A member who installed the app to their account, in a server without the bot. */
let traveller: FakeUser;
let foreign: FakeChannel;

const EDIT_NOTE = 'Press Edit to change the prompt or settings; replies here do not reach me.';

beforeAll(async () => {
  // Commands for user installs are global (Discord ignores integration types on guild commands).
  rig = await startRig({ deployCommands: false });
  const rest = new REST({ api: rig.discord.apiUrl }).setToken(rig.discord.token);
  await deployCommands(rest, { applicationId: rig.discord.applicationId }, COMMAND_DEFINITIONS);
  traveller = rig.discord.createUser({ username: 'traveller' });
  rig.discord.installForUser(traveller);
  const elsewhere = rig.discord.createGuildWithoutBot('Art Club', rig.discord.owner);
  rig.discord.addMember(elsewhere.guild, traveller);
  foreign = elsewhere.channel;
  // A channel where members may use apps but not write: the webhook answers all the same.
  rig.discord.setOverwrite(foreign, rig.discord.everyoneRole(elsewhere.guild), { deny: ['SendMessages'] });
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
});

/** Calls the bot made that Discord refused because the bot is not there. */
function refusedCalls() {
  return rig.discord.calls.filter((call) => call.status === 403);
}

async function resultIn(channel: FakeChannel, prompt: string, user = traveller): Promise<FakeMessage> {
  return waitForResult(await imagine(rig, { prompt }, { user, channel: channel.id }));
}

describe('the app installed to a member’s account', () => {
  it('runs /imagine in a server the bot is not in: the card arrives through the interaction webhook alone', async () => {
    const handle = await imagine(rig, { prompt: 'a fox in a foreign land' }, { user: traveller, channel: foreign.id });
    expect(handle.payload['context']).toBe(0);
    expect(handle.payload['authorizing_integration_owners']).toEqual({ '1': traveller.id });
    const card = await waitForResult(handle);
    expect(descriptionOf(card)).toBe('a fox in a foreign land');
    // A Components V2 card through the webhook alone, its picture in the gallery.
    expect(isV2(card)).toBe(true);
    expect(galleryOf(card)).toEqual([`attachment://${card.attachments[0]!.filename}`]);
    expect(card.channelId).toBe(foreign.id);
    expect(statusOf(card)).toContain(EDIT_NOTE);
    // Replies do not reach the bot here, nor can it open a thread: the card offers neither.
    expect(footerOf(card)).toBeUndefined();
    expect(buttonLabels(card)).not.toContain('Refine in thread');
    // No thread, no channel message, no refused call: nothing but the webhook was tried.
    expect(rig.discord.threads(foreign)).toEqual([]);
    expect(refusedCalls()).toEqual([]);
    expect(rig.discord.calls.filter((call) => call.path.startsWith(`/channels/${foreign.id}`))).toEqual([]);
  });

  it('refines there through the buttons and the Edit form, and deletes through the webhook', async () => {
    const card = await resultIn(foreign, 'a heron at dawn');
    const reroll = await rig.discord.pressButton(card, buttonId(card, 'Reroll'), traveller);
    const rerolled = await waitForResult(reroll);
    expect(descriptionOf(rerolled)).toBe('a heron at dawn');

    const edit = await rig.discord.pressButton(card, buttonId(card, 'Edit'), traveller);
    await edit.waitForModal();
    const submitted = await rig.discord.submitModal(edit, { prompt: 'a heron at dusk', negative: 'fog' });
    const edited = await waitForResult(submitted);
    expect(descriptionOf(edited)).toBe('a heron at dusk');

    const remove = await rig.discord.pressButton(edited, buttonId(edited, 'Delete'), traveller);
    await remove.waitForFollowup((message) => message.content === 'Deleted.');
    expect(rig.discord.message(edited).deleted).toBe(true);
    expect(refusedCalls()).toEqual([]);
  });

  it('runs /imagine in a group DM between members, where the bot is not either', async () => {
    const friend = rig.discord.createUser({ username: 'friend' });
    const other = rig.discord.createUser({ username: 'other' });
    const group = rig.discord.createPrivateChannel(traveller, friend, other);
    const handle = await imagine(rig, { prompt: 'three friends' }, { user: traveller, channel: group.id });
    expect(handle.payload['context']).toBe(2);
    const card = await waitForResult(handle);
    expect(statusOf(card)).toContain(EDIT_NOTE);
    expect(refusedCalls()).toEqual([]);
  });

  it('posts a result that outlives the interaction’s token as a direct message, never in the foreign channel', async () => {
    rig.emulator.faults.stepMs = 60;
    try {
      const handle = await imagine(rig, { prompt: 'a slow glacier' }, { user: traveller, channel: foreign.id });
      await handle.waitForCallback();
      rig.discord.expireInteraction(handle);
      const dm = await rig.discord.waitForMessage(
        (message) => message.channelId === rig.discord.openDm(traveller).id && message.attachments.length > 0,
        20_000,
      );
      expect(descriptionOf(dm)).toBe('a slow glacier');
      expect(isV2(dm)).toBe(true);
      expect(refusedCalls()).toEqual([]);
    } finally {
      rig.emulator.faults.stepMs = 2;
    }
  });

  it('still works as before where the bot is: replies and a thread on request in its server, replies in its DM', async () => {
    rig.discord.addMember(rig.discord.guild, traveller);
    const handle = await imagine(rig, { prompt: 'home again' }, { user: traveller, channel: rig.discord.channel.id });
    expect(handle.payload['authorizing_integration_owners']).toEqual({
      '0': rig.discord.guild.id,
      '1': traveller.id,
    });
    const card = await waitForResult(handle);
    expect(footerOf(card)).toBe(refineFooter('en-US', '//'));
    await waitForRecorded(rig, card);
    const { thread } = await openThread(rig, card, traveller);
    expect(thread.parentId).toBe(rig.discord.channel.id);

    const dm = rig.discord.openDm(traveller);
    const inDm = await resultIn(dm, 'a letter');
    expect(footerOf(inDm)).toBe(refineFooter('en-US', '//'));
    expect(buttonLabels(inDm)).not.toContain('Refine in thread');
    expect(statusOf(inDm)).not.toContain(EDIT_NOTE);
  });
});
