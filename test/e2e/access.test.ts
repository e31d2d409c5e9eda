import { MessageFlags } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChannel, FakeUser, InteractionHandle } from '../fakes/discord/index.js';
import { startRig, type Rig } from './harness.js';
import { buttonId, imagine, openThread, waitForGraph, waitForRecorded, waitForResult } from './helpers.js';

let rig: Rig;
let outsider: FakeUser;
let offTopic: FakeChannel;
// The harness reads this at every (re)start: the allowed ids exist only once the fake has made them.
const env: Record<string, string> = {};

beforeAll(async () => {
  rig = await startRig({ env });
  const artists = rig.discord.createRole(rig.discord.guild, 'artists');
  rig.discord.assignRole(rig.discord.member, artists);
  outsider = rig.discord.createUser({ username: 'outsider' }, rig.discord.guild);
  offTopic = rig.discord.createTextChannel({ name: 'off-topic' });
  Object.assign(env, { ALLOWED_ROLE_IDS: artists.id, ALLOWED_CHANNEL_IDS: rig.discord.channel.id });
  await rig.restartBot();
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
});

afterAll(async () => {
  await rig?.close();
});

/** The private sentence an interaction was refused with, before anything was deferred. */
async function refusal(handle: InteractionHandle): Promise<string> {
  const callback = await handle.waitForCallback();
  expect(callback.type).toBe(4);
  expect(Number(callback.data?.['flags']) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  return String(callback.data?.['content']);
}

describe('allowed channels and roles', () => {
  it('refuses /imagine privately outside the allowed channels, in DMs and to a member without an allowed role', async () => {
    const elsewhere = await imagine(rig, { prompt: 'a fox elsewhere' }, { channel: offTopic.id });
    expect(await refusal(elsewhere)).toBe(
      'I am not allowed to make images in this channel; try one of the bot channels.',
    );
    const roleless = await imagine(rig, { prompt: 'a fox without a role' }, { user: outsider });
    expect(await refusal(roleless)).toBe('Making images here needs a role you do not have; ask a moderator.');
    const dm = await imagine(rig, { prompt: 'a fox in a DM' }, { channel: rig.discord.openDm(rig.discord.member).id });
    expect(await refusal(dm)).toBe('I am not allowed to make images in this channel; try one of the bot channels.');
    expect(rig.emulator.received).toHaveLength(0);
  });

  it('refuses a refine or an Edit from a member without an allowed role, and refines for one with it', async () => {
    const result = await waitForResult(await imagine(rig, { prompt: 'a quiet pond' }));
    await waitForRecorded(rig, result);
    // Nor may they open a thread on it; the member may.
    const press = await rig.discord.pressButton(result, buttonId(result, 'Refine in thread'), outsider);
    expect(await refusal(press)).toBe('Making images here needs a role you do not have; ask a moderator.');
    const { thread } = await openThread(rig, result);
    const graphsBefore = rig.emulator.received.length;

    const outsiders = await rig.discord.postMessage({ user: outsider, channel: thread, content: '+ with ducks' });
    const refused = await rig.discord.waitForMessage(
      (answer) => answer.reference?.messageId === outsiders.id && answer.content.startsWith('❌'),
      20_000,
    );
    expect(refused.content).toBe('❌ Making images here needs a role you do not have; ask a moderator.');

    // The Edit button refuses at once rather than open a form whose submission would be refused.
    const edit = await rig.discord.pressButton(result, buttonId(result, 'Edit'), outsider);
    expect(await refusal(edit)).toBe('Making images here needs a role you do not have; ask a moderator.');

    await rig.discord.postMessage({ user: rig.discord.member, channel: thread, content: '+ with swans' });
    await waitForGraph(rig, 'a quiet pond with swans');
    expect(rig.emulator.received).toHaveLength(graphsBefore + 1);
  });
});
