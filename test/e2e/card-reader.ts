/**
 * Reads a status card the way a member sees it. A card is a Components V2 message (no content, no embeds): one
 * container holding, in order, the status sentence, the quoted prompt, the settings as `**Name** value` pairs, the
 * gallery, files, texts, button rows and the small print that says how to refine.
 */
import { ComponentType, MessageFlags } from 'discord.js';

type Json = Record<string, unknown>;

/** A message as the fake stores it, or as a body the bot sent. */
interface CardLike {
  readonly components?: readonly unknown[] | null | undefined;
  readonly flags?: number | null | undefined;
}

/** Every component of a card, depth first (section accessories included). */
export function componentsOf(card: CardLike): Json[] {
  const all: Json[] = [];
  const visit = (component: Json) => {
    all.push(component);
    if (component.accessory) visit(component.accessory as Json);
    if (Array.isArray(component.components)) for (const child of component.components as Json[]) visit(child);
  };
  for (const component of (card.components ?? []) as Json[]) visit(component);
  return all;
}

/** True when the message carries the IS_COMPONENTS_V2 flag. */
export function isV2(card: CardLike): boolean {
  return ((card.flags ?? 0) & MessageFlags.IsComponentsV2) !== 0;
}

/** The texts of a card's Text Displays, in order. */
export function textsOf(card: CardLike): string[] {
  return componentsOf(card)
    .filter((component) => component.type === ComponentType.TextDisplay)
    .map((component) => String(component.content));
}

/** The status sentence (with the notes under it, and a progress bar while running): the card's first text. */
export function statusOf(card: CardLike): string {
  return textsOf(card)[0] ?? '';
}

/** The status sentence without the progress bar a running card shows under it. */
export function statusLineOf(card: CardLike): string {
  return statusOf(card).split('\n')[0] ?? '';
}

/** The prompt as the card quotes it. */
export function promptOf(card: CardLike): string | undefined {
  const quoted = textsOf(card).find((text) => text.startsWith('>>> '));
  return quoted?.slice('>>> '.length);
}

/** The settings of a card by name (`**Seed** 42 · **Size** 512×768` gives Seed and Size). */
export function fieldsOf(card: CardLike): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const text of textsOf(card)) {
    for (const line of text.split('\n')) {
      for (const part of line.split(' · ')) {
        const match = /^\*\*([^*]+)\*\* (.*)$/s.exec(part);
        if (match && !text.startsWith('>>> ')) fields[match[1]!] = match[2]!;
      }
    }
  }
  return fields;
}

/** The small print at the card's foot (how to refine), without its `-# ` mark. */
export function footerOf(card: CardLike): string | undefined {
  const small = textsOf(card).findLast((text) => text.startsWith('-# '));
  return small?.slice('-# '.length);
}

/** The `attachment://` names the card's media gallery shows, in order. */
export function galleryOf(card: CardLike): string[] {
  return componentsOf(card)
    .filter((component) => component.type === ComponentType.MediaGallery)
    .flatMap((gallery) => (gallery.items as { media: { url: string } }[]).map((item) => item.media.url));
}

/** Every button of a card, in order: label, custom id and style. */
export function buttonsOf(card: CardLike): { label: string; custom_id: string; style: number }[] {
  return componentsOf(card)
    .filter((component) => component.type === ComponentType.Button)
    .map((button) => button as unknown as { label: string; custom_id: string; style: number });
}

/** The labels of each action row of a card. */
export function rowsOf(card: CardLike): string[][] {
  return componentsOf(card)
    .filter((component) => component.type === ComponentType.ActionRow)
    .map((row) => (row.components as { label: string }[]).map((button) => button.label));
}

/** True once a reply says something: a card's status, or a plain message's content. */
export function saysAnything(message: (CardLike & { readonly content?: string }) | null | undefined): boolean {
  return message != null && (statusOf(message) !== '' || (message.content ?? '') !== '');
}
