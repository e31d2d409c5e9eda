// Loaded before discord.js on purpose, as any module of the bot might: uploads must not depend on which undici a
// process loads first, since the first one sets the process-wide dispatcher (discord.js#11525).
import 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InteractionHandle } from '../fakes/discord/index.js';
import { startRig, type Rig } from './harness.js';
import { recordFault } from '../faults/ledger.js';
import {
  deliveriesOf,
  emulatorOutput,
  imagine,
  openThread,
  waitForRecorded,
  waitForResult,
  waitForUpload,
} from './helpers.js';
import { statusOf } from './card-reader.js';

/** Fails the next `times` edits of this interaction's response with `status`. */
function failEdits(rig: Rig, handle: InteractionHandle, status: number, times = 1) {
  return rig.discord.inject({
    method: 'PATCH',
    match: (call) => call.path.includes(`/${handle.token}/messages/`),
    status,
    times,
  });
}

describe('/imagine when Discord misbehaves', () => {
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig();
  });

  afterEach(() => {
    rig.emulator.faults.stepMs = 2;
    rig.discord.assertNoUnhandledCalls();
  });

  afterAll(async () => {
    await rig?.close();
  });

  it('survives a 429 on an edit of the card: the final card still arrives', async () => {
    const handle = await imagine(rig, { prompt: 'rate limited fox' });
    const fault = failEdits(rig, handle, 429);
    const result = await waitForResult(handle);
    expect(fault.hits).toBe(1);
    const limited = handle.edits.filter((call) => call.status === 429);
    expect(limited).toHaveLength(1);
    expect(limited[0]!.injected).toBe(true);
    const upload = await waitForUpload(rig, handle);
    expect(upload.status).toBe(200);
    expect(result.attachments[0]!.data.equals(await emulatorOutput(rig, upload.files[0]!.filename))).toBe(true);
    recordFault('429 from Discord', [{ deliveries: deliveriesOf(rig, handle) }]);
  });

  it('survives a 502 from Discord’s edge on an edit: the final card still arrives', async () => {
    const handle = await imagine(rig, { prompt: 'bad gateway fox' });
    const fault = failEdits(rig, handle, 502);
    const result = await waitForResult(handle);
    expect(fault.hits).toBe(1);
    expect(handle.edits.some((call) => call.status === 502)).toBe(true);
    expect(statusOf(result)).toMatch(/^Done in/);
    recordFault('5xx from Discord', [{ deliveries: deliveriesOf(rig, handle) }]);
  });

  it('posts the result as a new channel message mentioning the member once the interaction token has expired', async () => {
    rig.emulator.faults.stepMs = 40;
    const handle = await imagine(rig, { prompt: 'a very slow tortoise --steps 15' });
    await handle.waitForOriginal((message) => statusOf(message).startsWith('Running:'), 10_000);
    rig.discord.expireInteraction(handle);
    const { member } = rig.discord;
    const posted = await rig.discord.waitForMessage(
      (message) => statusOf(message).startsWith(`<@${member.id}> Done in`) && message.attachments.length > 0,
      20_000,
    );
    expect(posted.channelId).toBe(rig.discord.channel.id);
    expect(posted.webhookId).toBeNull();
    expect(posted.mentionUserIds).toEqual([member.id]);
    // The session is rooted at the message that carries the result, and a thread opens on it when a member asks.
    expect((await waitForRecorded(rig, posted)).sessionId).toBe(posted.id);
    const { thread } = await openThread(rig, posted);
    expect(thread.parentId).toBe(rig.discord.channel.id);
    // The deferred response was left where it was; nothing more could be done with the dead token.
    expect(handle.original?.attachments).toHaveLength(0);
    const posts = rig.discord.messagesIn(rig.discord.channel).filter((message) => message.id === posted.id);
    recordFault('the interaction token expired', [{ deliveries: posts.length + deliveriesOf(rig, handle) }]);
  });
});

describe('/imagine where Discord takes only small files', () => {
  const limit = 512 * 1024;
  let rig: Rig;

  beforeAll(async () => {
    rig = await startRig({ discord: { attachmentSizeLimit: limit } });
  });

  afterAll(async () => {
    rig.discord.assertNoUnhandledCalls();
    await rig?.close();
  });

  it('re-encodes a PNG larger than the upload limit so it fits, and says so on the card', async () => {
    const handle = await imagine(rig, { prompt: 'a detailed forest' });
    const result = await waitForResult(handle);
    const upload = await waitForUpload(rig, handle);
    expect(upload.status).toBe(200);
    const original = await emulatorOutput(rig, upload.files[0]!.filename.replace(/\.\w+$/, '.png'));
    expect(original.length).toBeGreaterThan(limit);
    expect(upload.files[0]!.data.length).toBeLessThan(limit);
    expect(upload.files[0]!.filename).toMatch(/\.(webp|jpg)$/);
    expect(statusOf(result)).toMatch(
      /^Done in [\d.]+ s\.\nRe-encoded as (WebP|JPEG|a smaller JPEG) to fit Discord's 0\.5 MiB upload limit\.$/,
    );
    recordFault("an output larger than Discord's upload limit", [{ deliveries: deliveriesOf(rig, handle) }]);
  });
});
