/**
 * Discord's checks of a Components V2 message (flag IS_COMPONENTS_V2, 1 << 15): no `content`, `embeds`, stickers or
 * poll beside it; at most 40 components in all (nested ones count); at most 4,000 characters of text in all its Text
 * Displays; top-level Action Rows, Sections, Text Displays, Media Galleries, Files, Separators and Containers only; a
 * Section holds 1–3 Text Displays and a Button or Thumbnail accessory; a Media Gallery 1–10 items; custom ids unique.
 */
import { ComponentType } from 'discord.js';
import type { FieldProblem, MessageBody } from './message-body.js';

type Component = Record<string, unknown>;
type Path = (string | number)[];

const TOP_LEVEL: readonly number[] = [
  ComponentType.ActionRow,
  ComponentType.Section,
  ComponentType.TextDisplay,
  ComponentType.MediaGallery,
  ComponentType.File,
  ComponentType.Separator,
  ComponentType.Container,
];
const IN_CONTAINER: readonly number[] = TOP_LEVEL.filter((type) => type !== ComponentType.Container);
const MAX_COMPONENTS = 40;
const MAX_TEXT = 4000;

/** The problems of a V2 message body (the flag is set), empty when Discord would take it. */
export function componentsV2Problems(body: MessageBody): FieldProblem[] {
  const problems = legacyFieldProblems(body);
  if ((body.sticker_ids?.length ?? 0) > 0) problems.push(legacy(['sticker_ids']));
  if (body.poll !== undefined && body.poll !== null) problems.push(legacy(['poll']));
  const tally = { components: 0, text: 0, ids: new Set<string>() };
  for (const [index, component] of (body.components ?? []).entries()) {
    problems.push(...componentProblems(component, ['components', index], TOP_LEVEL, tally));
  }
  if (tally.components > MAX_COMPONENTS) {
    problems.push(problem(['components'], 'BASE_TYPE_MAX_LENGTH', `Must be ${MAX_COMPONENTS} or fewer in total.`));
  }
  if (tally.text > MAX_TEXT) {
    problems.push(problem(['components'], 'BASE_TYPE_MAX_LENGTH', `Text must be ${MAX_TEXT} or fewer in total.`));
  }
  return problems;
}

/**
 * Content or embeds where a V2 message may have none: in a body, or left on a message an edit turns into a V2 one
 * (Discord's guide: upgrading a message means setting `content` and `embeds` to null in the same edit).
 */
export function legacyFieldProblems(fields: Pick<MessageBody, 'content' | 'embeds'>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (fields.content) problems.push(legacy(['content']));
  if ((fields.embeds?.length ?? 0) > 0) problems.push(legacy(['embeds']));
  return problems;
}

/**
 * `attachment://name` references (gallery items, thumbnails, files) that name none of the message's attachments.
 * A V2 message shows no attachment by itself, so a reference that misses is a picture the members never see.
 */
export function attachmentReferenceProblems(
  components: readonly unknown[],
  filenames: readonly string[],
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const visit = (component: Component, path: Path) => {
    const media: [Component | undefined, Path][] = [
      [component.media as Component | undefined, [...path, 'media']],
      [component.file as Component | undefined, [...path, 'file']],
    ];
    if (Array.isArray(component.items)) {
      for (const [index, item] of (component.items as Component[]).entries()) {
        media.push([item.media as Component | undefined, [...path, 'items', index, 'media']]);
      }
    }
    for (const [item, itemPath] of media) {
      const url = item?.url;
      if (typeof url !== 'string' || !url.startsWith('attachment://')) continue;
      if (!filenames.includes(url.slice('attachment://'.length))) {
        problems.push(
          problem(
            [...itemPath, 'url'],
            'UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND',
            `No attachment named ${url.slice('attachment://'.length)} in this message.`,
          ),
        );
      }
    }
    if (component.accessory) visit(component.accessory as Component, [...path, 'accessory']);
    if (Array.isArray(component.components)) {
      for (const [index, child] of (component.components as Component[]).entries()) {
        visit(child, [...path, 'components', index]);
      }
    }
  };
  for (const [index, component] of (components as Component[]).entries()) visit(component, ['components', index]);
  return problems;
}

/** Every Text Display's content in a message's components, joined by new lines: what a V2 message says. */
export function textDisplaysOf(components: readonly unknown[]): string {
  const texts: string[] = [];
  const visit = (component: Component) => {
    if (Number(component.type) === ComponentType.TextDisplay && typeof component.content === 'string') {
      texts.push(component.content);
    }
    if (Array.isArray(component.components)) for (const child of component.components as Component[]) visit(child);
  };
  for (const component of components as Component[]) visit(component);
  return texts.join('\n');
}

interface Tally {
  components: number;
  text: number;
  readonly ids: Set<string>;
}

function componentProblems(component: Component, path: Path, allowed: readonly number[], tally: Tally): FieldProblem[] {
  tally.components += 1;
  const type = Number(component.type);
  if (!allowed.includes(type))
    return [problem([...path, 'type'], 'UNION_TYPE_CHOICES', `Type ${type} is not allowed here.`)];
  const children = Array.isArray(component.components) ? (component.components as Component[]) : [];
  const nested = (child: Component, index: number, types: readonly number[]) =>
    componentProblems(child, [...path, 'components', index], types, tally);
  switch (type) {
    case ComponentType.TextDisplay: {
      const content = typeof component.content === 'string' ? component.content : '';
      tally.text += content.length;
      return content.length === 0
        ? [problem([...path, 'content'], 'BASE_TYPE_REQUIRED', 'This field is required')]
        : [];
    }
    case ComponentType.Container:
      return children.length === 0
        ? [problem([...path, 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be at least 1 in length.')]
        : children.flatMap((child, index) => nested(child, index, IN_CONTAINER));
    case ComponentType.Section: {
      const problems = children.flatMap((child, index) => nested(child, index, [ComponentType.TextDisplay]));
      if (children.length < 1 || children.length > 3) {
        problems.push(problem([...path, 'components'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 3 in length.'));
      }
      const accessory = component.accessory as Component | undefined;
      if (!accessory)
        return [...problems, problem([...path, 'accessory'], 'BASE_TYPE_REQUIRED', 'This field is required')];
      return [
        ...problems,
        ...componentProblems(accessory, [...path, 'accessory'], [ComponentType.Button, ComponentType.Thumbnail], tally),
      ];
    }
    case ComponentType.MediaGallery: {
      const items = Array.isArray(component.items) ? (component.items as Component[]) : [];
      const problems =
        items.length < 1 || items.length > 10
          ? [problem([...path, 'items'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 10 in length.')]
          : [];
      for (const [index, item] of items.entries()) problems.push(...mediaProblems(item, [...path, 'items', index]));
      return problems;
    }
    case ComponentType.Thumbnail:
      return mediaProblems(component, path);
    case ComponentType.File: {
      const url = (component.file as { url?: unknown } | undefined)?.url;
      return typeof url === 'string' && url.startsWith('attachment://')
        ? []
        : [problem([...path, 'file', 'url'], 'UNFURLED_MEDIA_ITEM_INVALID', 'A file must be an attachment://.')];
    }
    case ComponentType.Separator:
      return component.spacing === undefined || component.spacing === 1 || component.spacing === 2
        ? []
        : [problem([...path, 'spacing'], 'BASE_TYPE_CHOICES', 'Value must be one of (1, 2).')];
    case ComponentType.ActionRow: {
      const problems = children.flatMap((child, index) =>
        nested(child, index, [ComponentType.Button, ComponentType.StringSelect]),
      );
      if (children.length < 1 || children.length > 5) {
        problems.push(
          problem([...path, 'components'], 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', 'An action row needs 1 to 5 components.'),
        );
      }
      return problems;
    }
    case ComponentType.Button:
    case ComponentType.StringSelect:
      return interactiveProblems(component, path, tally);
    default:
      return [];
  }
}

function mediaProblems(item: Component, path: Path): FieldProblem[] {
  const url = (item.media as { url?: unknown } | undefined)?.url;
  const problems =
    typeof url === 'string' && url.length > 0
      ? []
      : [problem([...path, 'media', 'url'], 'BASE_TYPE_REQUIRED', 'This field is required')];
  if (typeof item.description === 'string' && item.description.length > 1024) {
    problems.push(problem([...path, 'description'], 'BASE_TYPE_MAX_LENGTH', 'Must be 1024 or fewer in length.'));
  }
  return problems;
}

function interactiveProblems(component: Component, path: Path, tally: Tally): FieldProblem[] {
  const customId = component.custom_id;
  const isLink = component.type === ComponentType.Button && (component.style === 5 || component.style === 6);
  if (typeof customId !== 'string') {
    return isLink ? [] : [problem([...path, 'custom_id'], 'BASE_TYPE_REQUIRED', 'This field is required')];
  }
  const problems: FieldProblem[] = [];
  if (customId.length > 100)
    problems.push(problem([...path, 'custom_id'], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.'));
  if (tally.ids.has(customId)) {
    problems.push(
      problem([...path, 'custom_id'], 'COMPONENT_CUSTOM_ID_DUPLICATED', 'Component custom id cannot be duplicated'),
    );
  }
  tally.ids.add(customId);
  if (typeof component.label === 'string' && component.label.length > 80) {
    problems.push(problem([...path, 'label'], 'BASE_TYPE_MAX_LENGTH', 'Must be 80 or fewer in length.'));
  }
  return problems;
}

function legacy(path: Path): FieldProblem {
  return problem(
    path,
    'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2',
    'The content, embeds, stickers and poll fields cannot be used with the IS_COMPONENTS_V2 flag.',
  );
}

function problem(path: Path, code: string, message: string): FieldProblem {
  return { path, code, message };
}
