/**
 * zod schemas of the WebSocket text frames `{"type": T, "data": D}` (PROTOCOL.md). Only the types the client acts on
 * are modelled; any other type is reported as unknown and ignored by the caller. Within a frame only what the client
 * acts on is required; a detail in another shape (null, a new key) falls back to its default.
 */
import { z } from 'zod';
import { NodeIdSchema, NodeOutputSchema } from './schemas.js';

const nodeList = z.array(NodeIdSchema).catch([]);

const StatusData = z.looseObject({
  status: z
    .looseObject({ exec_info: z.looseObject({ queue_remaining: z.number() }) })
    .optional()
    .catch(undefined),
  sid: z.string().optional().catch(undefined),
});

const ExecutionStartData = z.looseObject({ prompt_id: z.string(), timestamp: z.number().optional().catch(undefined) });
const ExecutionCachedData = z.looseObject({ prompt_id: z.string(), nodes: nodeList });
const ExecutionSuccessData = z.looseObject({ prompt_id: z.string() });

/** `node: null` with a prompt id is the prompt's last message; after a reconnect `prompt_id` is missing. */
const ExecutingData = z.looseObject({
  node: NodeIdSchema.nullable(),
  display_node: NodeIdSchema.optional().catch(undefined),
  prompt_id: z.string().optional(),
});

const ProgressData = z.looseObject({
  value: z.number(),
  max: z.number(),
  prompt_id: z.string().optional(),
  node: NodeIdSchema.nullable().optional().catch(undefined),
});

const ProgressStateData = z.looseObject({ prompt_id: z.string(), nodes: z.record(z.string(), z.unknown()) });

/** Output items may carry keys newer servers add (`id`, `preview_id`, `metadata`); a cached node may send `null`. */
const ExecutedData = z.looseObject({
  node: NodeIdSchema,
  display_node: NodeIdSchema.optional().catch(undefined),
  output: NodeOutputSchema.nullable()
    .catch(null)
    .transform((output) => output ?? {}),
  prompt_id: z.string(),
});

const ExecutionErrorData = z.looseObject({
  prompt_id: z.string(),
  node_id: NodeIdSchema.catch('?'),
  node_type: z.string().catch('unknown'),
  exception_message: z.string().catch(''),
  exception_type: z.string().catch(''),
  traceback: z.array(z.string()).catch([]),
  executed: nodeList,
});

const ExecutionInterruptedData = z.looseObject({
  prompt_id: z.string(),
  node_id: NodeIdSchema.optional().catch(undefined),
  node_type: z.string().optional().catch(undefined),
  executed: nodeList,
});

const FeatureFlagsData = z.record(z.string(), z.unknown());

const message = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.looseObject({ type: z.literal(type), data });

/** Every text frame the client understands. */
export const ComfyMessageSchema = z.discriminatedUnion('type', [
  message('status', StatusData),
  message('execution_start', ExecutionStartData),
  message('execution_cached', ExecutionCachedData),
  message('executing', ExecutingData),
  message('progress', ProgressData),
  message('progress_state', ProgressStateData),
  message('executed', ExecutedData),
  message('execution_success', ExecutionSuccessData),
  message('execution_error', ExecutionErrorData),
  message('execution_interrupted', ExecutionInterruptedData),
  message('feature_flags', FeatureFlagsData),
]);
/** A parsed text frame. */
export type ComfyMessage = z.infer<typeof ComfyMessageSchema>;
/** The `data` of a parsed text frame of type `T`. */
export type ComfyMessageData<T extends ComfyMessage['type']> = Extract<ComfyMessage, { type: T }>['data'];

const KNOWN_TYPES = new Set<string>(ComfyMessageSchema.options.map((option) => option.shape.type.value));

/** The result of reading one text frame. */
export type ParsedMessage =
  | { readonly ok: true; readonly message: ComfyMessage }
  | { readonly ok: false; readonly reason: 'not-json' | 'unknown-type' | 'invalid'; readonly type?: string };

/** Reads one text frame; never throws. Unknown types and malformed frames come back as `ok: false`. */
export function parseComfyMessage(text: string): ParsedMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not-json' };
  }
  const type = typeof json === 'object' && json !== null ? (json as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
    return { ok: false, reason: 'unknown-type', type: typeof type === 'string' ? type : undefined };
  }
  const parsed = ComfyMessageSchema.safeParse(json);
  return parsed.success ? { ok: true, message: parsed.data } : { ok: false, reason: 'invalid', type };
}

/** The prompt a message is about, when it names one. */
export function promptIdOf(message: ComfyMessage): string | undefined {
  if (message.type === 'status' || message.type === 'feature_flags') return undefined;
  return message.data.prompt_id;
}
