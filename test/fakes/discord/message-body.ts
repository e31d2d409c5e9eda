/**
 * The message body the bot sends (create, edit, interaction responses, followups), parsed with zod and checked
 * against Discord's limits, which answer with 400 50035 "Invalid Form Body" and the offending field's path.
 */
import { z } from 'zod';
import { componentsV2Problems } from './components-v2.js';
import { errors } from './rest-types.js';

const attachmentRefSchema = z.looseObject({
  id: z.union([z.string(), z.number()]).transform(String),
  filename: z.string().optional(),
  description: z.string().nullish(),
  title: z.string().nullish(),
});

const allowedMentionsSchema = z.looseObject({
  parse: z.array(z.enum(['users', 'roles', 'everyone'])).optional(),
  users: z.array(z.string()).optional(),
  roles: z.array(z.string()).optional(),
  replied_user: z.boolean().optional(),
});

/** The fields of a message body the fake understands; others are kept in the recorded call only. */
export const messageBodySchema = z.looseObject({
  content: z.string().nullish(),
  tts: z.boolean().optional(),
  nonce: z.union([z.string(), z.number()]).nullish(),
  enforce_nonce: z.boolean().nullish(),
  embeds: z.array(z.record(z.string(), z.unknown())).nullish(),
  components: z.array(z.record(z.string(), z.unknown())).nullish(),
  allowed_mentions: allowedMentionsSchema.nullish(),
  flags: z.number().int().nullish(),
  message_reference: z
    .looseObject({
      message_id: z.string(),
      channel_id: z.string().optional(),
      fail_if_not_exists: z.boolean().optional(),
    })
    .nullish(),
  attachments: z.array(attachmentRefSchema).nullish(),
  sticker_ids: z.array(z.string()).nullish(),
  poll: z.unknown().optional(),
});

/** A parsed message body. */
export type MessageBody = z.infer<typeof messageBodySchema>;

/** One field problem, in Discord's error vocabulary. */
export interface FieldProblem {
  readonly path: (string | number)[];
  readonly code: string;
  readonly message: string;
}

/** Parses a body (null means `{}`), throwing Discord's 50035 error for a wrong shape or a broken limit. */
export function parseMessageBody(raw: unknown): MessageBody {
  const body = parseShape(raw);
  return checked(body, [...contentProblems(body), ...embedProblems(body), ...componentProblems(body)]);
}

/** Parses an edit of a message with `previousFlags`: a message once sent as Components V2 stays V2, checked as one. */
export function parseMessageEdit(raw: unknown, previousFlags: number): MessageBody {
  if ((previousFlags & IS_COMPONENTS_V2) === 0) return parseMessageBody(raw);
  const body = parseShape(raw);
  if (body.flags !== undefined && body.flags !== null && (body.flags & IS_COMPONENTS_V2) === 0) {
    throw errors.invalidFormBody([
      {
        path: ['flags'],
        code: 'MESSAGE_CANNOT_REMOVE_COMPONENTS_V2_FLAG',
        message: 'The IS_COMPONENTS_V2 flag cannot be removed.',
      },
    ]);
  }
  return checked(body, [...contentProblems(body), ...componentsV2Problems(body)]);
}

function parseShape(raw: unknown): MessageBody {
  const parsed = messageBodySchema.safeParse(raw ?? {});
  if (!parsed.success) {
    throw errors.invalidFormBody(
      parsed.error.issues.map((issue) => ({
        path: issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key)),
        code: 'BASE_TYPE_INVALID',
        message: issue.message,
      })),
    );
  }
  return parsed.data;
}

function checked(body: MessageBody, problems: FieldProblem[]): MessageBody {
  if (problems.length > 0) throw errors.invalidFormBody(problems);
  return body;
}

const maxLength = (path: (string | number)[], max: number): FieldProblem => ({
  path,
  code: 'BASE_TYPE_MAX_LENGTH',
  message: `Must be ${max} or fewer in length.`,
});

function contentProblems(body: MessageBody): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if ((body.content?.length ?? 0) > 2000) problems.push(maxLength(['content'], 2000));
  if ((body.attachments?.length ?? 0) > 10) problems.push(maxLength(['attachments'], 10));
  return problems;
}

const EMBED_TEXT_LIMITS: readonly [string, number][] = [
  ['title', 256],
  ['description', 4096],
];

function embedProblems(body: MessageBody): FieldProblem[] {
  const embeds = body.embeds ?? [];
  const problems: FieldProblem[] = [];
  if (embeds.length > 10) problems.push(maxLength(['embeds'], 10));
  let total = 0;
  for (const [index, embed] of embeds.entries()) {
    for (const [key, max] of EMBED_TEXT_LIMITS) {
      const text = typeof embed[key] === 'string' ? embed[key] : '';
      total += text.length;
      if (text.length > max) problems.push(maxLength(['embeds', index, key], max));
    }
    const fields = Array.isArray(embed.fields) ? (embed.fields as { name?: unknown; value?: unknown }[]) : [];
    if (fields.length > 25) problems.push(maxLength(['embeds', index, 'fields'], 25));
    for (const [fieldIndex, field] of fields.entries()) {
      const name = typeof field.name === 'string' ? field.name : '';
      const value = typeof field.value === 'string' ? field.value : '';
      total += name.length + value.length;
      if (name.length > 256) problems.push(maxLength(['embeds', index, 'fields', fieldIndex, 'name'], 256));
      if (value.length > 1024) problems.push(maxLength(['embeds', index, 'fields', fieldIndex, 'value'], 1024));
    }
    total += nestedText(embed, 'footer', 'text') + nestedText(embed, 'author', 'name');
  }
  if (total > 6000) {
    problems.push({
      path: ['embeds'],
      code: 'BASE_TYPE_MAX_LENGTH',
      message: 'Embed size exceeds maximum size of 6000',
    });
  }
  return problems;
}

function nestedText(embed: Record<string, unknown>, key: string, field: string): number {
  const inner = embed[key];
  if (typeof inner !== 'object' || inner === null) return 0;
  const text = (inner as Record<string, unknown>)[field];
  return typeof text === 'string' ? text.length : 0;
}

/** Flag that switches a message to Components V2 layouts (checked in components-v2.ts). */
export const IS_COMPONENTS_V2 = 1 << 15;

function componentProblems(body: MessageBody): FieldProblem[] {
  const rows = body.components ?? [];
  if (((body.flags ?? 0) & IS_COMPONENTS_V2) !== 0) return componentsV2Problems(body);
  const problems: FieldProblem[] = [];
  if (rows.length > 5) problems.push(maxLength(['components'], 5));
  const seen = new Set<string>();
  for (const [rowIndex, row] of rows.entries()) {
    const children = Array.isArray(row.components) ? (row.components as Record<string, unknown>[]) : [];
    if (row.type !== 1 || children.length === 0 || children.length > 5) {
      problems.push({
        path: ['components', rowIndex],
        code: 'COMPONENT_LAYOUT_WIDTH_EXCEEDED',
        message: 'An action row needs 1 to 5 components.',
      });
    }
    for (const [index, child] of children.entries()) {
      problems.push(...childProblems(child, ['components', rowIndex, 'components', index], seen));
    }
  }
  return problems;
}

function childProblems(child: Record<string, unknown>, path: (string | number)[], seen: Set<string>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const customId = child.custom_id;
  const isLink = child.type === 2 && (child.style === 5 || child.style === 6);
  if (typeof customId === 'string') {
    if (customId.length > 100) problems.push(maxLength([...path, 'custom_id'], 100));
    if (seen.has(customId)) {
      problems.push({
        path: [...path, 'custom_id'],
        code: 'COMPONENT_CUSTOM_ID_DUPLICATED',
        message: 'Component custom id cannot be duplicated',
      });
    }
    seen.add(customId);
  } else if (!isLink) {
    problems.push({ path: [...path, 'custom_id'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
  }
  if (typeof child.label === 'string' && child.label.length > 80) problems.push(maxLength([...path, 'label'], 80));
  return problems;
}
