/**
 * A fleet on several hosts: three real comfycord processes (as `npm start` runs them) on one real redis-server, each
 * with a data directory of its own (a new one at every start), as on separate machines: nothing passes between them
 * but Redis. What a member or a web caller gives one process (an image), and what one process keeps (a web output, a
 * finished result), must be there for whichever process needs it:
 * - an image-to-image `/imagine` taken in by one process is carried by another (the first is stopped before a server
 *   slot frees), and its Reroll by a process that never saw the image;
 * - a web upload made through one process, a generation from it asked of another, its output fetched from every one;
 * - a carrier SIGKILLed after keeping a result (before posting it): another host, without that folder, delivers it
 *   once, downloaded again from ComfyUI.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { openSessions } from '../../src/sessions/index.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { buttonsOf } from '../e2e/card-reader.js';
import { pngImage } from '../e2e/helpers.js';
import type { FakeMessage, InteractionHandle } from '../fakes/discord/index.js';
import { shouldRunRedisTests } from '../store/redis-server.js';
import { Fleet, type FleetProcess, type Submission } from './harness.js';
import { finishedCards, type SentJob } from './outcomes.js';

const KEY = 'hosts-test-key-0123456789';

describe.runIf(shouldRunRedisTests('fleet suite (several hosts)'))('a fleet whose processes share only Redis', () => {
  let fleet: Fleet;
  let store: Store;

  beforeAll(async () => {
    fleet = await Fleet.start({
      processes: 3,
      guilds: 1,
      membersPerGuild: 3,
      stepMs: 20,
      env: {
        COMFY_PROMPTS_PER_SERVER: '1',
        WEB_API_KEYS: `tester:${KEY}`,
        LOG_LEVEL: process.env.FLEET_LOG_LEVEL ?? 'info',
      },
    });
    // The test reads what the processes recorded (a card's generation) from the fleet's store, as a process would.
    store = await openStore(fleet.redis.url, silentLogger());
  }, 180_000);

  afterAll(async () => {
    await store?.close();
    await fleet?.close();
  });

  it('carries an image-to-image job taken in by one process on another, and its Reroll on a host that never had the image', async () => {
    const [receiver] = fleet.processes;
    const { channel, members } = fleet.guilds[0]!;
    const [member, blockerA, blockerB] = members;
    // Both server slots held by long renders, so the image's job waits while the process that took it in stops.
    for (const emulator of fleet.emulators) emulator.faults.stepMs = 2_000;
    const blockers = await Promise.all(
      [blockerA!, blockerB!].map(async (user, number) =>
        fleet.discord.sendSlashCommand({
          user,
          channel,
          name: 'imagine',
          options: { prompt: `a wall hosts-blocker-${number + 1} --steps 30` },
        }),
      ),
    );
    await fleet.until(
      'both servers to run a blocker',
      () => submissionsOf('hosts-blocker').length,
      (n) => n === 2,
    );

    const picture = await pngImage(80, 48);
    const handle = await fleet.discord.sendSlashCommand({
      user: member!,
      channel,
      name: 'imagine',
      options: { prompt: 'make it a watercolour hosts-img2img' },
      attachments: { image: { name: 'sketch.png', data: picture } },
    });
    await fleet.until(
      'the job to be taken in',
      () => statusText(handle.original),
      (text) => /Queued/.test(text),
    );
    const storedOnReceiver = await inputsOf(receiver!);
    expect(storedOnReceiver, 'the image kept by the process that took it in').toHaveLength(1);
    expect(await fleet.stop(receiver!)).toBe(0);
    for (const emulator of fleet.emulators) emulator.faults.stepMs = 5;

    const result = await finished(handle);
    expect(result.attachments).toHaveLength(1);
    const [submission] = submissionsOf('hosts-img2img');
    const carrier = carrierOf(submission!);
    expect(carrier, 'the process that carried it').not.toBe(receiver);
    expect(await loadedImage(submission!), 'the image ComfyUI loaded').toEqual(picture);
    // The carrier fetched it from Redis into its own folder: it had never seen it.
    expect(await inputsOf(carrier)).toEqual(storedOnReceiver);

    // Reroll: the first carrier stops, the receiver starts again as a new host; neither of the two left has the image.
    await waitForRecorded(result);
    expect(await fleet.stop(carrier)).toBe(0);
    await fleet.restart(receiver!);
    expect(await inputsOf(receiver!)).toEqual([]);
    const rerollId = buttonsOf(result).find((button) => button.label === 'Reroll')!.custom_id;
    const reroll = await fleet.discord.pressButton(result, rerollId, member!);
    const rerolled = await finished(reroll);
    expect(rerolled.attachments).toHaveLength(1);
    const second = submissionsOf('hosts-img2img')[1]!;
    const third = carrierOf(second);
    expect(third).not.toBe(carrier);
    expect(await loadedImage(second)).toEqual(picture);
    expect(await inputsOf(third)).toEqual(storedOnReceiver);
    expect(
      finishedCards(fleet.discord, [
        sent(handle, member!.id, 'hosts-img2img'),
        sent(reroll, member!.id, 'hosts-img2img'),
      ]),
    ).toEqual([1, 1]);
    await Promise.all(blockers.map(async (blocker) => finished(blocker)));
    await fleet.restart(carrier);
  }, 300_000);

  it('serves a web generation started from an upload made through another process on every process', async () => {
    const [first, second, third] = fleet.processes;
    const picture = await pngImage(64, 64);
    const form = new FormData();
    form.set('file', new Blob([picture], { type: 'image/png' }), 'start.png');
    const upload = await api(first!, 'POST', '/v1/uploads', form);
    expect(upload.status).toBe(201);
    const created = await api(second!, 'POST', '/v1/generations', {
      prompt: 'a harbour at dusk hosts-web',
      image: { upload: upload.body['id'] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = String(created.body['id']);
    const done = await fleet.until(
      'the generation to end',
      async () => (await api(third!, 'GET', `/v1/generations/${id}`)).body,
      (body) => ['succeeded', 'failed', 'cancelled'].includes(String(body['status'])),
    );
    expect(done['status'], JSON.stringify(done)).toBe('succeeded');
    const [submission] = submissionsOf('hosts-web');
    expect(await loadedImage(submission!)).toEqual(picture);
    const url = String((done['outputs'] as Array<{ url: string }>)[0]!.url);
    const files = await Promise.all(
      fleet.processes.map(async (member) => {
        const response = await fetch(`${member.healthUrl}${url}`);
        return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
      }),
    );
    expect(files.map((file) => file.status)).toEqual([200, 200, 200]);
    expect(files.every((file) => file.bytes.equals(files[0]!.bytes) && file.bytes.length > 0)).toBe(true);
  }, 180_000);

  it('delivers once, from ComfyUI again, a result kept by a carrier killed before posting it', async () => {
    const [receiver, ...others] = fleet.processes;
    const { channel, members } = fleet.guilds[0]!;
    // The receiver alone runs, set to die (SIGKILL) once the result is kept and the job recorded as succeeded.
    for (const member of others) await fleet.stop(member);
    await fleet.stop(receiver!);
    await fleet.restart(receiver!, { COMFYCORD_FAULT_POINT: 'delivery:before-post' });
    const handle = await fleet.discord.sendSlashCommand({
      user: members[0]!,
      channel,
      name: 'imagine',
      options: { prompt: 'a kite hosts-kept' },
    });
    const died = await receiver!.bot.exited;
    expect(died.signal).toBe('SIGKILL');
    // It had kept the result in its own data directory, which no other host has.
    const kept = await readdir(path.join(receiver!.workDir, 'data', 'results')).catch(() => [] as string[]);
    expect(kept, 'results the killed carrier kept').toHaveLength(1);

    // Another host (a new data directory, without that folder) takes the job over when its lock lapses.
    const taker = others[0]!;
    await fleet.restart(taker);
    const result = await finished(handle, 120_000);
    expect(result.attachments).toHaveLength(1);
    expect(taker.bot.output.join('')).toContain('a kept result is missing on disk; fetching it from its server');
    expect(submissionsOf('hosts-kept'), 'prompts sent to ComfyUI').toHaveLength(1);
    expect(finishedCards(fleet.discord, [sent(handle, members[0]!.id, 'hosts-kept')])).toEqual([1]);
  }, 240_000);

  /** The prompts whose text holds `marker`, in the order ComfyUI got them. */
  function submissionsOf(marker: string): Submission[] {
    return fleet.submissions.filter((submission) => submission.text.includes(marker));
  }

  /** The process that submitted a prompt: its ComfyUI client id names the process (`<host>-<pid>` by default). */
  function carrierOf(submission: Submission): FleetProcess {
    const carrier = fleet.processes.find((member) => submission.clientId?.includes(`-${member.bot.child.pid}-`));
    if (carrier === undefined) throw new Error(`no running process submitted with ${submission.clientId}`);
    return carrier;
  }

  /** The bytes of the image the prompt's LoadImage read on its server. */
  async function loadedImage(submission: Submission): Promise<Buffer> {
    const graph = JSON.parse(submission.text) as Record<string, { class_type: string; inputs: { image?: string } }>;
    const name = Object.values(graph).find((node) => node.class_type === 'LoadImage')!.inputs.image!;
    return readFile(path.join(fleet.emulators[submission.emulator]!.dataDir, 'input', name));
  }

  /** The members' images in a process's own data directory. */
  async function inputsOf(member: FleetProcess): Promise<string[]> {
    return (await readdir(path.join(member.workDir, 'data', 'inputs')).catch(() => [] as string[])).sort();
  }

  async function finished(handle: InteractionHandle, timeoutMs = 90_000): Promise<FakeMessage> {
    return handle.waitForOriginal(
      (message) =>
        message.attachments.length > 0 && !buttonsOf(message).some((button) => button.custom_id.startsWith('cancel:')),
      timeoutMs,
    );
  }

  /** Waits until the fleet recorded the card's generation (a button on it finds it from then on). */
  async function waitForRecorded(message: FakeMessage): Promise<void> {
    const sessions = openSessions(store, { retentionMs: 60_000 });
    await fleet.until(
      'the card to be recorded',
      async () => (await sessions.getGenerationByMessage(message.id))?.sessionId,
      (sessionId) => sessionId !== undefined,
    );
  }

  async function api(
    member: FleetProcess,
    method: string,
    route: string,
    body?: FormData | Record<string, unknown>,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const json = body !== undefined && !(body instanceof FormData);
    const response = await fetch(`${member.healthUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(json ? { 'content-type': 'application/json' } : {}) },
      body: json ? JSON.stringify(body) : body,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
});

function statusText(message: FakeMessage | null | undefined): string {
  return JSON.stringify(message?.components ?? []);
}

function sent(handle: InteractionHandle, memberId: string, marker: string): SentJob {
  return { handle, memberId, marker };
}
