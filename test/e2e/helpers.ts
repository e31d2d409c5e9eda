/**
 * Small readers shared by the end-to-end tests: what the emulator received, what a card shows, and member actions
 * that every test repeats.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { fetch } from 'undici';
import type { Generation } from '../../src/sessions/index.js';
import type {
  FakeChannel,
  FakeMessage,
  FakeUser,
  FileInput,
  InteractionHandle,
  OptionValue,
  RecordedCall,
} from '../fakes/discord/index.js';
import { buttonsOf, promptOf, statusLineOf, statusOf } from './card-reader.js';
import type { Rig } from './harness.js';

export {
  buttonsOf,
  fieldsOf,
  footerOf,
  galleryOf,
  isV2,
  promptOf,
  rowsOf,
  statusLineOf,
  statusOf,
  textsOf,
} from './card-reader.js';

/** A node of an API-format graph as the emulator received it. */
export interface ReceivedNode {
  readonly class_type: string;
  readonly inputs: Record<string, unknown>;
}

/** A graph the emulator accepted, with its prompt id. */
export interface ReceivedGraph {
  readonly promptId: string;
  readonly nodes: Record<string, ReceivedNode>;
}

/** `/imagine` as a member types it in the default channel (or another one). */
export function imagine(
  rig: Rig,
  options: Record<string, OptionValue>,
  more: { user?: FakeUser; channel?: string; attachments?: Record<string, FileInput> } = {},
): Promise<InteractionHandle> {
  return rig.discord.sendSlashCommand({
    user: more.user ?? rig.discord.member,
    channel: more.channel ?? rig.discord.channel.id,
    name: 'imagine',
    options,
    ...(more.attachments ? { attachments: more.attachments } : {}),
  });
}

/** How many times the interaction's result was posted: its response (or follow-ups) accepted with files. */
export function deliveriesOf(rig: Rig, handle: InteractionHandle): number {
  return rig.discord.calls.filter(
    (call) => call.params.token === handle.token && call.files.length > 0 && call.status < 300,
  ).length;
}

/** Waits for the finished card (the original response once it carries files and no Cancel: a preview is not it). */
export function waitForResult(handle: InteractionHandle, timeoutMs = 20_000): Promise<FakeMessage> {
  return handle.waitForOriginal(
    (message) =>
      message.attachments.length > 0 && !buttonsOf(message).some((button) => button.custom_id.startsWith('cancel:')),
    timeoutMs,
  );
}

/** Waits for the recorded PATCH that uploaded files to the original response (recorded once it was answered). */
export function waitForUpload(rig: Rig, handle: InteractionHandle, timeoutMs = 20_000): Promise<RecordedCall> {
  return rig.discord.waitFor(
    (call) => call.method === 'PATCH' && call.params.token === handle.token && call.files.length > 0,
    timeoutMs,
  );
}

/** Waits for the original response to show a terminal sentence (failed or cancelled: no buttons left). */
export function waitForEnd(handle: InteractionHandle, timeoutMs = 20_000): Promise<FakeMessage> {
  return handle.waitForOriginal(
    (message) => statusOf(message) !== '' && buttonsOf(message).length === 0 && message.attachments.length === 0,
    timeoutMs,
  );
}

/** Resolves once the bot's server pool reports the server in that state (health checks run every few seconds). */
export async function waitForServerHealth(rig: Rig, health: 'up' | 'down', timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (rig.bot.runner.snapshot().servers.some((server) => server.health !== health)) {
    if (Date.now() > deadline) throw new Error(`the image server was not ${health} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves once the runner has declared an outage (every server down longer than COMFY_OUTAGE_TIMEOUT_SECONDS). */
export async function waitForOutage(rig: Rig, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!rig.bot.runner.snapshot().outage) {
    if (Date.now() > deadline) throw new Error(`no outage was declared within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The graphs the emulator received that carry `text` as one of their input values, oldest first. */
export function receivedGraphs(rig: Rig, text: string): ReceivedGraph[] {
  return rig.emulator.received
    .filter((entry) => JSON.stringify(entry.prompt).includes(JSON.stringify(text)))
    .map((entry) => ({ promptId: entry.promptId, nodes: entry.prompt as Record<string, ReceivedNode> }));
}

/** Waits until the emulator has received the `nth` (1-based) graph carrying `text` as an input value. */
export async function waitForGraph(rig: Rig, text: string, nth = 1, timeoutMs = 10_000): Promise<ReceivedGraph> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const graph = receivedGraphs(rig, text)[nth - 1];
    if (graph) return graph;
    if (Date.now() > deadline) throw new Error(`the emulator received no graph #${nth} with ${JSON.stringify(text)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The one node of a class in a graph. */
export function nodeOfClass(graph: ReceivedGraph, classType: string): ReceivedNode {
  const nodes = Object.values(graph.nodes).filter((node) => node.class_type === classType);
  if (nodes.length !== 1) throw new Error(`expected one ${classType} node, found ${nodes.length}`);
  return nodes[0]!;
}

/** The text of the CLIPTextEncode wired to the sampler's positive or negative input. */
export function promptText(graph: ReceivedGraph, which: 'positive' | 'negative'): unknown {
  const link = nodeOfClass(graph, 'KSampler').inputs[which] as [string, number];
  return graph.nodes[link[0]]?.inputs['text'];
}

/** The prompt a card quotes. */
export function descriptionOf(message: FakeMessage): string | undefined {
  return promptOf(message);
}

/** Every button label of a message, in order. */
export function buttonLabels(message: FakeMessage): string[] {
  return buttonsOf(message).map((button) => button.label);
}

/** The custom id of the button labelled `label`. */
export function buttonId(message: FakeMessage, label: string): string {
  const button = buttonsOf(message).find((candidate) => candidate.label === label);
  if (!button) throw new Error(`no button "${label}" on message ${message.id}`);
  return button.custom_id;
}

/** The status line of each PATCH body of a set of calls (status edits), in order. */
export function editContents(calls: readonly RecordedCall[]): string[] {
  return calls.map((call) => statusLineOf((call.body ?? {}) as { components?: unknown[] }));
}

/** A file the emulator wrote under its output folder. */
export function emulatorOutput(rig: Rig, filename: string): Promise<Buffer> {
  return readFile(path.join(rig.emulator.dataDir, 'output', 'comfycord', filename));
}

/** A prompt's entry in the emulator's /history, as the bot's client would read it. */
export async function emulatorHistory(rig: Rig, promptId: string): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(`${rig.emulator.url}/history/${promptId}`);
  const body = (await response.json()) as Record<string, Record<string, unknown>>;
  return body[promptId];
}

/** A small real PNG (a gradient, so every image differs by its size). */
export function pngImage(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let index = 0; index < pixels.length; index += 1) pixels[index] = (index * 7) % 256;
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * Waits until the bot has recorded the result shown by `message` in its session: a reply to it or a button on it
 * finds it from then on. The card is visible a moment before that; a member is never that fast, a test is.
 */
export async function waitForRecorded(rig: Rig, message: FakeMessage, timeoutMs = 10_000): Promise<Generation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const generation = await rig.bot.services.sessions.getGenerationByMessage(message.id);
    if (generation?.sessionId !== undefined) return generation;
    if (Date.now() > deadline) throw new Error(`the result ${message.id} was not recorded in a session`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The REST calls from the `from`-th on that Discord's global limit counts: all but interaction callbacks and webhooks. */
export function globalCallsSince(rig: Rig, from: number): RecordedCall[] {
  return rig.discord.calls.slice(from).filter((call) => !/^\/(interactions|webhooks)\//.test(call.route ?? call.path));
}

/**
 * Presses "Refine in thread" on a result; resolves with the thread once its help is posted, and the private sentence
 * that pointed the member to it.
 */
export async function openThread(
  rig: Rig,
  result: FakeMessage,
  user: FakeUser = rig.discord.member,
): Promise<{ thread: FakeChannel; pointer: FakeMessage }> {
  const handle = await rig.discord.pressButton(result, buttonId(result, 'Refine in thread'), user);
  const pointer = await handle.waitForOriginal((message) => message.content !== '', 10_000);
  const thread = await rig.discord.waitForThread((candidate) => candidate.id === result.id);
  await rig.discord.waitForMessage((message) => message.channelId === thread.id);
  return { thread, pointer };
}
