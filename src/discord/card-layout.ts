/**
 * The pieces of a Components V2 card (Discord's message flag IS_COMPONENTS_V2) and the limits Discord holds them to:
 * at most 40 components in all, nested ones counted; at most 4,000 characters across every Text Display; a gallery of
 * 1–10 items; 5 buttons to an action row; attachments shown only where a component points at them
 * (`attachment://name`). A message sent with the flag keeps it for good, so every state of a card — queued, running,
 * finished, failed, cancelled, "the result went elsewhere" — is built here, as one container.
 */
import type { ButtonStyle } from 'discord.js';
import {
  ActionRowBuilder,
  ButtonBuilder,
  ComponentType,
  ContainerBuilder,
  FileBuilder,
  MediaGalleryBuilder,
  MediaGalleryItemBuilder,
  MessageFlags,
  SeparatorBuilder,
  SeparatorSpacingSize,
  TextDisplayBuilder,
  type APIMessageTopLevelComponent,
} from 'discord.js';
import { truncate } from '../text.js';

/** The flags of every card body: a card is a Components V2 message from its first state to its last. */
export const CARD_FLAGS = MessageFlags.IsComponentsV2;

/** Discord's limits for a Components V2 message. */
export const V2_LIMITS = { components: 40, text: 4000, gallery: 10, rowButtons: 5 } as const;

/** One button of a card. */
export interface CardButton {
  readonly customId: string;
  readonly label: string;
  readonly style: ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Danger;
}

/** A block of a card, top to bottom; texts are Markdown. */
export type CardBlock =
  | { readonly kind: 'text'; readonly content: string; readonly role?: 'status' | 'prompt' | 'fitted' }
  | { readonly kind: 'gallery'; readonly urls: readonly string[] }
  | { readonly kind: 'file'; readonly url: string }
  | { readonly kind: 'separator' }
  | { readonly kind: 'buttons'; readonly buttons: readonly CardButton[]; readonly optional?: boolean };

/**
 * Builds a card's container from its blocks within Discord's limits. The text is fitted first: blocks marked `prompt`
 * (the member's own words, kept whole in the store) and `fitted` (texts also attached as files when long) give up
 * characters until the whole fits 4,000. Then, should the count pass 40, `optional` button rows go, last first.
 */
export function buildCard(accent: number, blocks: readonly CardBlock[]): APIMessageTopLevelComponent[] {
  let fitted = fitText(blocks.filter((block) => !isEmptyText(block)));
  while (countOf(fitted) > V2_LIMITS.components) {
    const last = fitted.findLastIndex((block) => block.kind === 'buttons' && block.optional === true);
    if (last < 0) break;
    fitted = fitted.filter((_, index) => index !== last);
  }
  const container = new ContainerBuilder().setAccentColor(accent);
  for (const block of fitted) addBlock(container, block);
  return [container.toJSON()];
}

function addBlock(container: ContainerBuilder, block: CardBlock): void {
  switch (block.kind) {
    case 'text':
      container.addTextDisplayComponents(new TextDisplayBuilder().setContent(block.content));
      return;
    case 'gallery':
      container.addMediaGalleryComponents(
        new MediaGalleryBuilder().addItems(block.urls.map((url) => new MediaGalleryItemBuilder().setURL(url))),
      );
      return;
    case 'file':
      container.addFileComponents(new FileBuilder().setURL(block.url));
      return;
    case 'separator':
      container.addSeparatorComponents(new SeparatorBuilder().setDivider(true).setSpacing(SeparatorSpacingSize.Small));
      return;
    case 'buttons':
      container.addActionRowComponents(
        new ActionRowBuilder<ButtonBuilder>().addComponents(
          block.buttons.map((button) =>
            new ButtonBuilder().setCustomId(button.customId).setLabel(button.label).setStyle(button.style),
          ),
        ),
      );
      return;
  }
}

/** How many components the blocks make: the container, each block, and each button. */
function countOf(blocks: readonly CardBlock[]): number {
  return 1 + blocks.reduce((sum, block) => sum + 1 + (block.kind === 'buttons' ? block.buttons.length : 0), 0);
}

function isEmptyText(block: CardBlock): boolean {
  return block.kind === 'text' && block.content.trim().length === 0;
}

/**
 * Cuts blocks until the text of all is within Discord's 4,000 characters: the prompt down to 200 characters first (the
 * member wrote it and the store keeps it whole), then the workflow's texts, then the prompt further.
 */
/**
 * Text kept free for the mention `prefixFirstText` puts before a card posted in the channel (`<@` a snowflake of up to
 * 20 digits `> `): the card is fitted once, wherever it goes.
 */
const MENTION_ROOM = 32;

function fitText(blocks: readonly CardBlock[]): CardBlock[] {
  const fitted = [...blocks];
  const passes = [
    ['prompt', 200],
    ['fitted', 1],
    ['prompt', 1],
  ] as const;
  for (const [role, floor] of passes) {
    for (const [index, block] of fitted.entries()) {
      const over = textLength(fitted) - (V2_LIMITS.text - MENTION_ROOM);
      if (over <= 0) return fitted;
      if (block.kind !== 'text' || block.role !== role || block.content.length <= floor) continue;
      fitted[index] = { ...block, content: truncate(block.content, Math.max(floor, block.content.length - over)) };
    }
  }
  return fitted;
}

function textLength(blocks: readonly CardBlock[]): number {
  return blocks.reduce((sum, block) => sum + (block.kind === 'text' ? block.content.length : 0), 0);
}

/** Splits buttons into rows of Discord's five. */
export function rowsOf(buttons: readonly CardButton[], optional = false): CardBlock[] {
  const rows: CardBlock[] = [];
  for (let start = 0; start < buttons.length; start += V2_LIMITS.rowButtons) {
    rows.push({ kind: 'buttons', buttons: buttons.slice(start, start + V2_LIMITS.rowButtons), optional });
  }
  return rows;
}

type Json = Record<string, unknown>;

/** Every Text Display's content of a card's components, depth first, joined by new lines: what the card says. */
export function cardText(components: readonly unknown[]): string {
  return textsOf(components).join('\n');
}

/** A card's status: its first Text Display (the sentence a card opens with, and its notes). */
export function cardStatus(components: readonly unknown[]): string {
  return textsOf(components)[0] ?? '';
}

function textsOf(components: readonly unknown[]): string[] {
  return components.flatMap((component) => {
    if (typeof component !== 'object' || component === null) return [];
    const json = component as Json;
    if (json.type === ComponentType.TextDisplay) return typeof json.content === 'string' ? [json.content] : [];
    return Array.isArray(json.components) ? textsOf(json.components) : [];
  });
}

/** The components with `prefix` put before the first Text Display (a mention for a card posted in the channel). */
export function prefixFirstText(
  components: readonly APIMessageTopLevelComponent[],
  prefix: string,
): APIMessageTopLevelComponent[] {
  let done = false;
  const visit = (component: Json): Json => {
    if (done) return component;
    if (component.type === ComponentType.TextDisplay) {
      done = true;
      return { ...component, content: `${prefix}${String(component.content)}` };
    }
    if (!Array.isArray(component.components)) return component;
    return { ...component, components: (component.components as Json[]).map(visit) };
  };
  return components.map((component) => visit(component as unknown as Json) as unknown as APIMessageTopLevelComponent);
}
