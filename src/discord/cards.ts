/**
 * The status card: what a member sees of a job, from "queued" to the finished picture. Pure rendering: a card state in,
 * a message body out. The card updater decides when to send it.
 */
import {
  ButtonStyle,
  ComponentType,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
} from 'discord.js';
import { text, type TextKey, type TextParams } from '../i18n/catalog.js';
import { truncate } from '../text.js';

/** What the embed of a card says about the generation. */
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
      /** Texts the workflow produced, shown in the embed. */
      readonly texts?: readonly CardText[] | undefined;
      readonly durationMs: number;
      readonly notes: readonly string[];
      readonly generationId: string;
      /** How to refine by replying, in the embed's footer. */
      readonly refineHelp?: string | undefined;
      /** Offer a button that opens a thread on the result, in which every message refines it. */
      readonly threadButton?: boolean | undefined;
    }
  | { readonly phase: 'failed'; readonly sentence: string }
  | { readonly phase: 'cancelled'; readonly by?: string | undefined };

/** A message body for the interaction webhook or a channel message, plus the files to upload with it. */
export interface RenderedCard {
  readonly content: string;
  readonly embeds: APIEmbed[];
  readonly components: APIActionRowComponent<APIButtonComponent>[];
  readonly files: CardFile[];
}

const COLOURS = { waiting: 0x5865f2, running: 0xfee75c, done: 0x57f287, failed: 0xed4245, cancelled: 0x99aab5 };

/** Renders one state of a job's card. `jobId` names the job for the Cancel button. */
export function renderCard(jobId: string, details: CardDetails, state: CardState): RenderedCard {
  switch (state.phase) {
    case 'queued':
      return progressCard(jobId, details, say('card.queued', { position: state.position }), COLOURS.waiting);
    case 'starting':
      return progressCard(jobId, details, state.note ?? say('card.starting'), COLOURS.waiting);
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

function progressCard(jobId: string, details: CardDetails, status: string, colour: number): RenderedCard {
  return {
    content: status,
    embeds: [detailsEmbed(details, colour)],
    components: [
      row([button(buttonId('cancel', jobId), text(details.locale, 'button.cancel'), ButtonStyle.Secondary)]),
    ],
    files: [],
  };
}

function runningCard(
  jobId: string,
  details: CardDetails,
  state: Extract<CardState, { phase: 'running' }>,
): RenderedCard {
  const percent = state.max > 0 ? Math.floor((state.value / state.max) * 100) : 0;
  const elapsed = formatSeconds(state.elapsedMs);
  const status = text(details.locale, 'card.running', { percent, value: state.value, max: state.max, elapsed });
  const card = progressCard(jobId, details, status, COLOURS.running);
  if (!state.preview) return card;
  const embed = { ...card.embeds[0], image: { url: `attachment://${state.preview.name}` } };
  return { ...card, embeds: [embed], files: [state.preview] };
}

/** Discord allows 1024 characters in an embed field's value. */
export const TEXT_FIELD_LIMIT = 1024;

function doneCard(details: CardDetails, state: Extract<CardState, { phase: 'done' }>): RenderedCard {
  const say = (key: TextKey, params?: TextParams) => text(details.locale, key, params);
  const embed = detailsEmbed(details, COLOURS.done);
  const texts = (state.texts ?? []).map((output) => ({
    name: output.label,
    value: truncate(output.text.trim() || '(empty)', TEXT_FIELD_LIMIT),
    inline: false,
  }));
  const fields = [
    ...(embed.fields ?? []),
    { name: say('card.field.time'), value: formatSeconds(state.durationMs), inline: true },
    ...texts,
  ];
  const notes = state.notes.length > 0 ? `\n${state.notes.join('\n')}` : '';
  const id = state.generationId;
  // Vary and Upscale start from an attached still image; videos, sounds and texts cannot be varied or upscaled.
  const stills = state.files.flatMap((file, index) => (isStillImage(file) ? [index] : []));
  const upscaleButtons = stills.map((index, position) =>
    button(
      buttonId('upscale', id, index),
      stills.length > 1 ? say('button.upscaleN', { n: position + 1 }) : say('button.upscale'),
      ButtonStyle.Secondary,
    ),
  );
  const vary =
    stills[0] === undefined ? [] : [button(varyId(id, stills[0]), say('button.vary'), ButtonStyle.Secondary)];
  const thread = state.threadButton
    ? [button(buttonId('thread', id), say('button.thread'), ButtonStyle.Secondary)]
    : [];
  const footer = state.refineHelp ? { footer: { text: state.refineHelp } } : {};
  return {
    content: `${say('card.done', { duration: formatSeconds(state.durationMs) })}${notes}`,
    embeds: [{ ...embed, fields, ...footer }],
    components: [
      row([
        button(buttonId('reroll', id), say('button.reroll'), ButtonStyle.Primary),
        ...vary,
        button(buttonId('edit', id), say('button.edit'), ButtonStyle.Secondary),
        ...thread,
        button(buttonId('delete', id), say('button.delete'), ButtonStyle.Danger),
      ]),
      ...(upscaleButtons.length > 0 ? [row(upscaleButtons.slice(0, 5))] : []),
    ],
    files: [...state.files],
  };
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

function plainCard(details: CardDetails, status: string, colour: number): RenderedCard {
  return { content: status, embeds: [detailsEmbed(details, colour)], components: [], files: [] };
}

function detailsEmbed(details: CardDetails, colour: number): APIEmbed {
  const name = (key: TextKey) => text(details.locale, key);
  const fields = [
    details.negative
      ? { name: name('card.field.negative'), value: truncate(details.negative, 1024), inline: false }
      : undefined,
    details.seed === undefined
      ? undefined
      : { name: name('card.field.seed'), value: String(details.seed), inline: true },
    details.width && details.height
      ? { name: name('card.field.size'), value: `${details.width}×${details.height}`, inline: true }
      : undefined,
    { name: name('card.field.workflow'), value: details.workflow, inline: true },
    details.count && details.count > 1
      ? { name: name('card.field.images'), value: String(details.count), inline: true }
      : undefined,
    details.model
      ? { name: name('card.field.model'), value: truncate(fileName(details.model), 1024), inline: true }
      : undefined,
    details.loras?.length
      ? {
          name: name('card.field.loras'),
          value: truncate(details.loras.map(describeLora).join(', '), 1024),
          inline: true,
        }
      : undefined,
    details.defaultsApplied?.length
      ? { name: name('card.field.defaults'), value: truncate(details.defaultsApplied.join(', '), 1024), inline: false }
      : undefined,
  ].filter((field) => field !== undefined);
  return { description: truncate(details.prompt, 4000), color: colour, fields };
}

// A model's folders say where the server keeps it, which is the operator's business; its file name is enough.
function fileName(name: string): string {
  return name.split(/[\\/]/).pop() ?? name;
}

function describeLora(lora: { readonly name: string; readonly weight?: number | undefined }): string {
  return `${fileName(lora.name)}${lora.weight === undefined ? '' : ` ${lora.weight}`}`;
}

function row(components: APIButtonComponent[]): APIActionRowComponent<APIButtonComponent> {
  return { type: ComponentType.ActionRow, components };
}

function button(
  customId: string,
  label: string,
  style: ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Danger,
): APIButtonComponent {
  return { type: ComponentType.Button, custom_id: customId, label, style };
}

/** `12.3 s` below a minute, `2 min 5 s` above. */
export function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}
