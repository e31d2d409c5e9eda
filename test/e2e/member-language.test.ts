import { MessageFlags } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMessage, InteractionHandle, OptionValue } from '../fakes/discord/index.js';
import { startRig, type Rig } from './harness.js';
import { imagine, statusOf, waitForEnd, waitForRecorded, waitForResult, waitForServerHealth } from './helpers.js';
import { pngDeclaring } from '../discord/png-bomb.js';

// One job per member at a time, slow enough that a second one meets the first still running.
let rig: Rig;

beforeAll(async () => {
  rig = await startRig({ emulator: { stepMs: 80 }, env: { MAX_JOBS_PER_MEMBER: '1' } });
  await waitForServerHealth(rig, 'up');
});

afterEach(() => {
  rig.discord.assertNoUnhandledCalls();
  rig.emulator.faults.clearFailures();
});

afterAll(async () => {
  await rig?.close();
});

function memberSpeaking(locale: string) {
  return rig.discord.createUser(
    { username: `speaks-${locale}-${Math.random().toString(36).slice(2, 7)}`, locale },
    rig.discord.guild,
  );
}

type Member = ReturnType<typeof memberSpeaking>;

function command(member: Member, name: string, options: Record<string, OptionValue> = {}): Promise<InteractionHandle> {
  return rig.discord.sendSlashCommand({ user: member, channel: rig.discord.channel.id, name, options });
}

/** The private sentence an /imagine was refused with after it was acknowledged. */
async function refusalOf(handle: InteractionHandle): Promise<string> {
  const followup = await handle.waitForFollowup();
  expect(followup.flags & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
  return followup.content;
}

/** What an ephemeral command answered, once it says something. */
async function answerOf(handle: InteractionHandle): Promise<string> {
  const callback = await handle.waitForCallback();
  const immediate = callback.data?.['content'];
  if (typeof immediate === 'string' && immediate !== '') return immediate;
  return (await handle.waitForOriginal((message: FakeMessage) => message.content !== '')).content;
}

/** Resolves once `done` holds (polled). */
async function until(done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('waited in vain');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a German member', () => {
  it('is refused by the job limit, deep in the job layer, in German; and /queue answers in German', async () => {
    const member = memberSpeaking('de');
    const first = await imagine(rig, { prompt: 'ein Leuchtturm --steps 60' }, { user: member });
    await until(() => rig.emulator.received.some((entry) => JSON.stringify(entry.prompt).includes('ein Leuchtturm')));
    const second = await imagine(rig, { prompt: 'ein zweiter Leuchtturm' }, { user: member });
    expect(await refusalOf(second)).toBe('Du hast schon ein Bild in Arbeit; warte, bis es fertig ist.');

    const queue = await answerOf(await command(member, 'queue'));
    expect(queue).toMatch(/^• `[\w-]+` txt2img: (läuft auf|an) /);
    expect(queue).toContain('Insgesamt wartend: 0. Server:');
    expect(queue).toMatch(/• \S+: bereit, 1\/\d+ belegt/);
    await waitForResult(first, 30_000);
  });

  it('reads a setting the workflow cannot use, refused by binding, in German', async () => {
    const member = memberSpeaking('de');
    const refused = await imagine(rig, { prompt: 'ein Reiher --denoise 0.5' }, { user: member });
    expect(await refusalOf(refused)).toBe(
      'txt2img nimmt keine Angabe für eine Entrauschungsstärke; nimm --wf img2img.',
    );
  });

  it('reads a value outside the workflow’s limits and a picture with too many pixels, in German', async () => {
    const member = memberSpeaking('de');
    expect(await refusalOf(await imagine(rig, { prompt: 'ein Fuchs --steps 100' }, { user: member }))).toBe(
      'steps muss für txt2img zwischen 1 und 60 liegen.',
    );
    const bomb = { image: { name: 'riesig.png', data: pngDeclaring(100_000, 100_000) } };
    expect(await refusalOf(await imagine(rig, { prompt: 'ein Fuchs' }, { user: member, attachments: bomb }))).toBe(
      'riesig.png hat 100000×100000 Pixel, mehr als die 50 Megapixel, die der Bot annimmt; häng ein kleineres Bild an.',
    );
  });

  it('reads /workflows’ settings and outputs in German, the flags’ own names kept', async () => {
    const answer = await answerOf(await command(memberSpeaking('de'), 'workflows'));
    expect(answer).toContain('seed: zufällig, wenn nicht gesetzt');
    expect(answer).toContain('steps: Standard 25, 1–60');
    expect(answer).toContain('lora: bis zu 3');
    expect(answer).toContain('Ausgaben: Bilder');
    expect(answer).not.toContain('random unless set');
  });

  it('reads a failed node on the card in German', async () => {
    rig.emulator.faults.failNode({ classType: 'VAEDecode' }, 'CUDA out of memory');
    const member = memberSpeaking('de');
    const card = await waitForEnd(await imagine(rig, { prompt: 'ein Otter' }, { user: member }), 30_000);
    expect(statusOf(card)).toContain('ist fehlgeschlagen: CUDA out of memory');
  });

  it('saves and shows /settings in German', async () => {
    const member = memberSpeaking('de');
    expect(await answerOf(await command(member, 'settings', { count: 2, aspect: '2:3' }))).toBe(
      'Gespeichert. Deine Standardwerte für /imagine:\n• Seitenverhältnis: 2:3\n• Anzahl: 2',
    );
    expect(await answerOf(await command(member, 'settings', { reset: true }))).toBe(
      'Gespeichert. Du hast keine Standardwerte; /imagine nimmt die des jeweiligen Workflows.',
    );
  });

  it('gets the refusal of a reply to their picture in German, and "nochmal" rerolls it', async () => {
    const member = memberSpeaking('de');
    const card = await waitForResult(await imagine(rig, { prompt: 'eine Eule' }, { user: member }), 30_000);
    await waitForRecorded(rig, card);
    const say = (content: string) =>
      rig.discord.postMessage({ user: member, channel: rig.discord.channel, content, replyTo: card });
    const bad = await say('--steps viele');
    const answer = await rig.discord.waitForMessage(
      (message) => message.authorId === rig.discord.botUser.id && message.reference?.messageId === bad.id,
      20_000,
    );
    expect(answer.content).toBe('❌ --steps muss eine ganze Zahl von 1 bis 1000 sein, nicht „viele“.');
    const again = await say('nochmal');
    const rerolled = await rig.discord.waitForMessage(
      (message) =>
        message.authorId === rig.discord.botUser.id &&
        message.reference?.messageId === again.id &&
        message.attachments.length > 0,
      30_000,
    );
    expect(rerolled.attachments.length).toBeGreaterThan(0);
  });
});

describe('a member whose language has no translation', () => {
  it('reads the same refusal in English', async () => {
    const member = memberSpeaking('nl');
    const refused = await imagine(rig, { prompt: 'een reiger --denoise 0.5' }, { user: member });
    expect(await refusalOf(refused)).toBe('txt2img does not take a denoise strength; use --wf img2img.');
  });
});
