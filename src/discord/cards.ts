/**
 * The status card: what a member sees of a job, from "queued" to the finished picture. Pure rendering: a card state in,
 * a Components V2 message body out (card-layout.ts holds Discord's limits). The card updater decides when to send it.
 *
 * Layout, top to bottom, in one container coloured by the phase: the status sentence (with a progress bar while
 * running), the prompt, the settings, the pictures as a media gallery (the live preview while running), files that
 * are no pictures, the texts a workflow wrote, then the buttons.
 */
import { ButtonStyle, type APIMessageTopLevelComponent } from 'discord.js';
import { buildCard, rowsOf, V2_LIMITS, type CardBlock, type CardButton } from './card-layout.js';
import { text, type TextKey, type TextParams } from '../i18n/catalog.js';
import { truncate } from '../text.js';

/** What a card says about the generation (its prompt and settings). */
export interface CardDetails {
  readonly prompt: string;
  readonly negative?: string | undefined;
  readonly workflow: string;
  readonly seed?: number | undefined;
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  readonly count?: number | undefined;
  /** The model (checkpoint) it ran with, and the LoRAs a member chose with their weights. */
  readonly model?: string | undefined;
  readonly loras?: readonly { readonly name: string; readonly weight?: number | undefined }[] | undefined;
  /** Member defaults from /settings that were applied, shown so nobody wonders where they came from. */
  readonly defaultsApplied?: readonly string[] | undefined;
  /** The member's Discord language: the card's words are in it where translated (src/i18n). */
  readonly locale?: string | undefined;
}

/** A file to attach to the card. */
export interface CardFile {
  readonly name: string;
  readonly data: Buffer;
  readonly contentType?: string | undefined;
}

/** A text a workflow produced (a caption, an answer), shown on the finished card. */
export interface CardText {
  /** What it is, e.g. `Text` or `Text (Show Text)` when there are several. */
  readonly label: string;
  readonly text: string;
}

export type CardState =
  | { readonly phase: 'queued'; readonly position: number }
  | { readonly phase: 'starting'; readonly note?: string | undefined }
  | {
      readonly phase: 'running';
      readonly value: number;
      readonly max: number;
      readonly elapsedMs: number;
      readonly preview?: CardFile | undefined;
    }
  | {
      readonly phase: 'done';
      readonly files: readonly CardFile[];
      /** Texts the workflow produced, shown on the card. */
      readonly texts?: readonly CardText[] | undefined;
      readonly durationMs: number;
      readonly notes: readonly string[];
      readonly generationId: string;
      /** How to refine by replying, in small print at the card's foot. */
      readonly refineHelp?: string | undefined;
      /** Offer a button that opens a thread on the result, in which every message refines it. */
      readonly threadButton?: boolean | undefined;
    }
  | { readonly phase: 'failed'; readonly sentence: string }
  | { readonly phase: 'cancelled'; readonly by?: string | undefined };

/** A card's message body (flag IS_COMPONENTS_V2: no `content`, no `embeds`) and the files uploaded with it. */
export interface RenderedCard {
  readonly components: APIMessageTopLevelComponent[];
  readonly files: CardFile[];
}

const COLOURS = { waiting: 0x5865f2, running: 0xfee75c, done: 0x57f287, failed: 0xed4245, cancelled: 0x99aab5 };

/** Renders one state of a job's card. `jobId` names the job for the Cancel button. */
export function renderCard(jobId: string, details: CardDetails, state: CardState): RenderedCard {
  switch (state.phase) {
    case 'queued':
      return progressCard(jobId, details, [say('card.queued', { position: state.position })], COLOURS.waiting);
    case 'starting':
      return progressCard(jobId, details, [state.note ?? say('card.starting')], COLOURS.waiting);
    case 'running':
      return runningCard(jobId, details, state);
    case 'done':
      return doneCard(details, state);
    case 'failed':
      return plainCard(details, `❌ ${state.sentence}`, COLOURS.failed);
    case 'cancelled': {
      const sentence = state.by ? say('card.cancelledBy', { member: `<@${state.by}>` }) : say('card.cancelled');
      return plainCard(details, sentence, COLOURS.cancelled);
    }
  }

  function say(key: TextKey, params?: TextParams): string {
    return text(details.locale, key, params);
  }
}

/** The first card of a job not queued yet (a refine being planned): "Starting…", and no Cancel for a job to come. */
export function pendingCard(details: CardDetails): RenderedCard {
  return progressCard(undefined, details, [text(details.locale, 'card.starting')], COLOURS.waiting);
}

function cancelButton(jobId: string, details: CardDetails): CardButton {
  return {
    customId: buttonId('cancel', jobId),
    label: text(details.locale, 'button.cancel'),
    style: ButtonStyle.Secondary,
  };
}

/** A card that only says one thing, e.g. where the outcome went when this card could not carry it. */
export function sentenceCard(sentence: string): RenderedCard {
  return { components: buildCard(COLOURS.done, [{ kind: 'text', content: sentence, role: 'status' }]), files: [] };
}

/** The custom id of a button: static `kind:id[:extra]`, so buttons keep working after a restart. */
export function buttonId(kind: ButtonKind, id: string, extra?: string | number): string {
  return extra === undefined ? `${kind}:${id}` : `${kind}:${id}:${extra}`;
}

export type ButtonKind = 'cancel' | 'reroll' | 'vary' | 'upscale' | 'edit' | 'delete' | 'history' | 'thread';

const BUTTON_KINDS: readonly string[] = ['cancel', 'reroll', 'vary', 'upscale', 'edit', 'delete', 'history', 'thread'];

/** Splits a custom id made by `buttonId`; null for ids that are not ours. */
export function parseButtonId(customId: string): { kind: ButtonKind; id: string; extra?: string } | null {
  const [kind, id, extra] = customId.split(':');
  if (!id || !BUTTON_KINDS.includes(kind as ButtonKind)) return null;
  return extra === undefined ? { kind: kind as ButtonKind, id } : { kind: kind as ButtonKind, id, extra };
}

function progressCard(
  jobId: string | undefined,
  details: CardDetails,
  status: readonly string[],
  colour: number,
  preview?: CardFile,
): RenderedCard {
  const cancel = jobId === undefined ? [] : [cancelButton(jobId, details)];
  const blocks: CardBlock[] = [
    { kind: 'text', content: status.join('\n'), role: 'status' },
    ...detailBlocks(details),
    ...(preview ? [{ kind: 'gallery' as const, urls: [attachmentUrl(preview)] }] : []),
    ...(cancel.length > 0 ? [{ kind: 'buttons' as const, buttons: cancel }] : []),
  ];
  return { components: buildCard(colour, blocks), files: preview ? [preview] : [] };
}

function runningCard(
  jobId: string,
  details: CardDetails,
  state: Extract<CardState, { phase: 'running' }>,
): RenderedCard {
  const percent = state.max > 0 ? Math.min(100, Math.floor((state.value / state.max) * 100)) : 0;
  const elapsed = formatSeconds(state.elapsedMs);
  const status = text(details.locale, 'card.running', { percent, value: state.value, max: state.max, elapsed });
  return progressCard(jobId, details, [status, progressBar(percent)], COLOURS.running, state.preview);
}

/** A bar of 20 blocks, one per 5 %: language-free, and as wide on a phone as on a desktop. */
export function progressBar(percent: number): string {
  const filled = Math.round(Math.max(0, Math.min(100, percent)) / 5);
  return `\`${'█'.repeat(filled)}${'░'.repeat(20 - filled)}\``;
}

/**
 * The most characters of one workflow text shown on the card (longer ones are attached as files too): three of them
 * leave room for the prompt and settings within Discord's 4,000 characters of text per message.
 */
export const TEXT_FIELD_LIMIT = 800;

function doneCard(details: CardDetails, state: Extract<CardState, { phase: 'done' }>): RenderedCard {
  const say = (key: TextKey, params?: TextParams) => text(details.locale, key, params);
  const files = uploadNames(state.files);
  const id = state.generationId;
  // Vary and Upscale start from an attached still image; videos, sounds and texts cannot be varied or upscaled.
  const stills = files.flatMap((file, index) => (isStillImage(file) ? [index] : []));
  const several = stills.length > 1;
  const perImage = (kind: 'upscale' | 'vary') =>
    stills.map((index, position) => ({
      customId: kind === 'vary' ? varyId(id, index) : buttonId('upscale', id, index),
      label: several
        ? say(kind === 'vary' ? 'button.varyN' : 'button.upscaleN', { n: position + 1 })
        : say(kind === 'vary' ? 'button.vary' : 'button.upscale'),
      style: ButtonStyle.Secondary as const,
    }));
  const actions: CardButton[] = [
    { customId: buttonId('reroll', id), label: say('button.reroll'), style: ButtonStyle.Primary },
    { customId: buttonId('edit', id), label: say('button.edit'), style: ButtonStyle.Secondary },
    ...(state.threadButton
      ? [{ customId: buttonId('thread', id), label: say('button.thread'), style: ButtonStyle.Secondary as const }]
      : []),
    { customId: buttonId('delete', id), label: say('button.delete'), style: ButtonStyle.Danger },
  ];
  const media = files.filter(isGalleryMedia).slice(0, V2_LIMITS.gallery);
  const others = files.filter((file) => !media.includes(file));
  const texts = (state.texts ?? []).map(
    (output) => `**${output.label}**\n${truncate(output.text.trim() || '(empty)', TEXT_FIELD_LIMIT)}`,
  );
  const settings = [{ name: say('card.field.time'), value: formatSeconds(state.durationMs) }];
  // Per-image buttons as members know them from other bots: a row of Upscale 1…N and a row of Vary 1…N (N ≤ 4, the
  // most /imagine makes, fits one row of Discord's 5). A workflow's batch of up to 10 takes two rows each: with the
  // other rows that stays under Discord's 40 components, and should it not, these rows are the ones left off.
  const blocks: CardBlock[] = [
    {
      kind: 'text',
      content: [say('card.done', { duration: formatSeconds(state.durationMs) }), ...state.notes].join('\n'),
      role: 'status',
    },
    ...detailBlocks(details, settings),
    ...(media.length > 0 ? [{ kind: 'gallery' as const, urls: media.map(attachmentUrl) }] : []),
    ...others.map((file) => ({ kind: 'file' as const, url: attachmentUrl(file) })),
    { kind: 'text', content: texts.join('\n'), role: 'fitted' },
    { kind: 'separator' },
    ...rowsOf(perImage('upscale'), true),
    ...rowsOf(perImage('vary'), true),
    { kind: 'buttons', buttons: actions },
    { kind: 'text', content: state.refineHelp ? `-# ${state.refineHelp}` : '' },
  ];
  return { components: buildCard(COLOURS.done, blocks), files };
}

// Cards made before results could hold videos varied attachment 0; they keep that id.
function varyId(id: string, index: number): string {
  return index === 0 ? buttonId('vary', id) : buttonId('vary', id, index);
}

/** A file Vary and Upscale can start from: an image that is not animated by nature (a GIF) nor a drawing (SVG). */
function isStillImage(file: CardFile): boolean {
  const type = file.contentType ?? 'image/png';
  return type.startsWith('image/') && type !== 'image/gif' && type !== 'image/svg+xml';
}

/** What a media gallery shows: pictures (animated ones too) and videos; other files get a File component. */
function isGalleryMedia(file: CardFile): boolean {
  const type = file.contentType ?? 'image/png';
  return (type.startsWith('image/') && type !== 'image/svg+xml') || type.startsWith('video/');
}

function attachmentUrl(file: CardFile): string {
  return `attachment://${file.name}`;
}

/**
 * The files under names an `attachment://` reference finds: Discord stores an upload's name with characters other than
 * letters, digits, dot, dash and underscore replaced, and two files of one name would be one reference.
 */
function uploadNames(files: readonly CardFile[]): CardFile[] {
  const taken = new Set<string>();
  return files.map((file) => {
    const safe = file.name.replace(/[^A-Za-z0-9._-]/g, '_') || 'file';
    let name = safe;
    for (let n = 2; taken.has(name); n += 1) name = safe.replace(/(\.[^.]*)?$/, (ext) => `-${n}${ext}`);
    taken.add(name);
    return name === file.name ? file : { ...file, name };
  });
}

function plainCard(details: CardDetails, status: string, colour: number): RenderedCard {
  const blocks: CardBlock[] = [{ kind: 'text', content: status, role: 'status' }, ...detailBlocks(details)];
  return { components: buildCard(colour, blocks), files: [] };
}

/** The prompt (quoted) and a block of the settings as `**Name** value` pairs. */
function detailBlocks(details: CardDetails, extra: readonly Setting[] = []): CardBlock[] {
  const name = (key: TextKey) => text(details.locale, key);
  const value = (raw: string) => truncate(raw.replace(/\s+/g, ' '), 1024);
  const inline: (Setting | undefined)[] = [
    details.seed === undefined ? undefined : { name: name('card.field.seed'), value: String(details.seed) },
    details.width && details.height
      ? { name: name('card.field.size'), value: `${details.width}×${details.height}` }
      : undefined,
    { name: name('card.field.workflow'), value: value(details.workflow) },
    details.count && details.count > 1 ? { name: name('card.field.images'), value: String(details.count) } : undefined,
    details.model ? { name: name('card.field.model'), value: value(fileName(details.model)) } : undefined,
    details.loras?.length
      ? { name: name('card.field.loras'), value: value(details.loras.map(describeLora).join(', ')) }
      : undefined,
    ...extra,
  ];
  const lines = [
    details.negative ? pair({ name: name('card.field.negative'), value: value(details.negative) }) : undefined,
    inline
      .filter((setting) => setting !== undefined)
      .map(pair)
      .join(' · '),
    details.defaultsApplied?.length
      ? pair({ name: name('card.field.defaults'), value: value(details.defaultsApplied.join(', ')) })
      : undefined,
  ].filter((line) => line !== undefined);
  return [
    { kind: 'text', content: `>>> ${details.prompt}`, role: 'prompt' },
    { kind: 'text', content: lines.join('\n') },
  ];
}

interface Setting {
  readonly name: string;
  readonly value: string;
}

function pair(setting: Setting): string {
  return `**${setting.name}** ${setting.value}`;
}

// A model's folders say where the server keeps it, which is the operator's business; its file name is enough.
function fileName(name: string): string {
  return name.split(/[\\/]/).pop() ?? name;
}

function describeLora(lora: { readonly name: string; readonly weight?: number | undefined }): string {
  return `${fileName(lora.name)}${lora.weight === undefined ? '' : ` ${lora.weight}`}`;
}

/** `12.3 s` below a minute, `2 min 5 s` above. */
export function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
