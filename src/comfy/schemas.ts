/**
 * zod schemas of ComfyUI's HTTP bodies (PROTOCOL.md, recorded from 0.3.64; PROTOCOL-current.md for newer servers).
 * Parse what we need, tolerate what we don't: only what the client cannot work without is required, unknown keys pass
 * through, and a field we only read for details falls back to its default when a server sends another shape (null,
 * a number where text was expected). `/object_info` has its own per-node reader in `object-info.ts`.
 */
import { z } from 'zod';

/** Node ids are strings on the wire; very old servers and hand-written graphs sometimes use numbers. */
export const NodeIdSchema = z.union([z.string(), z.number()]).transform(String);

/** One node of an API-format graph; other fields (`_meta`…) are sent as they are. */
export interface ComfyNode {
  readonly class_type: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}

/** An API-format graph as submitted to `POST /prompt` (node id → node); the workflows layer validates it. */
export type ComfyGraph = Readonly<Record<string, ComfyNode>>;

/** Text for messages: a string as it is, a number or boolean as written, anything else (null, objects) as ''. */
const TextSchema = z
  .unknown()
  .optional()
  .transform((value) =>
    typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : '',
  );

// New servers add error types (`missing_node_type`, `dependency_cycle`, `invalid_dynamic_input`) and `extra_info`
// keys (`cycle_nodes`, `loop_error_type`…); they read like any other.
const NodeErrorItemSchema = z.looseObject({
  type: TextSchema,
  message: TextSchema,
  details: TextSchema,
  extra_info: z.record(z.string(), z.unknown()).optional().catch(undefined),
});

const NodeErrorSchema = z.looseObject({
  errors: z.array(NodeErrorItemSchema).catch([]),
  dependent_outputs: z.array(NodeIdSchema).catch([]),
  class_type: z.string().optional().catch(undefined),
});

/** `node_errors`: failing node id → its errors and the output nodes they take down. Old servers sent a list. */
const NodeErrorsRecordSchema = z.record(z.string(), NodeErrorSchema);
export const NodeErrorsSchema = z
  .union([NodeErrorsRecordSchema, z.array(z.unknown()).transform((): z.infer<typeof NodeErrorsRecordSchema> => ({}))])
  .catch({});
/** Parsed `node_errors`. */
export type NodeErrors = z.infer<typeof NodeErrorsSchema>;

/** `POST /prompt` → 200. */
export const PromptAcceptedSchema = z.looseObject({
  prompt_id: z.string(),
  number: z.number().optional().catch(undefined),
  node_errors: NodeErrorsSchema,
});
/** A prompt the server queued. */
export type PromptAccepted = z.infer<typeof PromptAcceptedSchema>;

/** `POST /prompt` → 400. `error` was a bare string on old servers. */
export const PromptRejectedSchema = z.looseObject({
  error: z
    .union([
      z.looseObject({ type: TextSchema, message: TextSchema, details: z.unknown() }),
      z.string().transform((message) => ({ type: '', message, details: undefined })),
    ])
    .optional()
    .catch(undefined),
  node_errors: NodeErrorsSchema,
});

/** One queue item: `[number, prompt_id, graph, extra_data, outputs_to_execute]`; only the first two matter here. */
const QueueItemSchema = z.tuple([z.number(), z.string()], z.unknown());

/** `GET /queue`. */
export const QueueSchema = z.looseObject({
  queue_running: z.array(QueueItemSchema).default([]),
  queue_pending: z.array(QueueItemSchema).default([]),
});

/** The queue as the client uses it: running ids, and pending ids in the order they will run. */
export interface QueueSnapshot {
  readonly running: readonly string[];
  readonly pending: readonly string[];
}

/** A file reference as ComfyUI gives it in outputs and takes in `/view` (`type` is output, temp or input). */
/** Newer servers add `id`, `preview_id` and `metadata` to these; VideoHelperSuite adds `fullpath` (never shown). */
export const FileRefSchema = z.looseObject({
  filename: z.string().min(1),
  subfolder: z.string().catch(''),
  type: z.string().catch('output'),
  /** Only VideoHelperSuite's `gifs` entries carry this (e.g. `video/h264-mp4`). */
  format: z.string().optional().catch(undefined),
});
/** A file on the server. */
export type FileRef = Pick<z.infer<typeof FileRefSchema>, 'filename' | 'subfolder' | 'type'>;

/** One node's UI output: `images`, `animated`, `gifs`, `text`, `audio`… — the shape varies by node. */
export const NodeOutputSchema = z.record(z.string(), z.unknown());
/** One node's UI output, as in history `outputs[node]` and `executed.output`. */
export type NodeOutput = z.infer<typeof NodeOutputSchema>;

/** `[name, data]` status messages; an entry of another shape is skipped rather than failing the whole entry. */
const HistoryMessagesSchema = z
  .array(z.unknown())
  .catch([])
  .transform((messages) =>
    messages.filter(
      (message): message is [string, unknown] => Array.isArray(message) && typeof message[0] === 'string',
    ),
  );

const HistoryStatusSchema = z.looseObject({
  status_str: z.string().optional().catch(undefined),
  completed: z.boolean().optional().catch(undefined),
  messages: HistoryMessagesSchema,
});

/** One node's output in history; `null` (a cached node on new servers) and other odd shapes read as no output. */
const HistoryNodeOutputSchema = NodeOutputSchema.catch({});

/**
 * One `/history` entry (present only once the prompt finished). `status` exists since 2024-01 and may be `null`
 * on new servers. `outputs` is what the client needs: when it is not an object, the answer is unusable.
 */
export const HistoryEntrySchema = z.looseObject({
  prompt: z.array(z.unknown()).optional().catch(undefined),
  outputs: z
    .record(z.string(), HistoryNodeOutputSchema)
    .nullish()
    .transform((outputs) => outputs ?? {}),
  status: HistoryStatusSchema.nullish()
    .catch(undefined)
    .transform((status) => status ?? undefined),
});
/** A finished prompt as history records it. */
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

/** `GET /history/{id}` (`{}` when unknown or unfinished) and `GET /history`. */
export const HistorySchema = z.record(z.string(), HistoryEntrySchema);

/** `POST /upload/image` → 200. */
export const UploadedFileSchema = z.looseObject({
  name: z.string().min(1),
  subfolder: z.string().catch(''),
  type: z.string().catch('input'),
});
/** Where an uploaded file landed; LoadImage takes `subfolder/name`. */
export type UploadedFile = z.infer<typeof UploadedFileSchema>;

const optionalText = z.string().optional().catch(undefined);
const optionalNumber = z.number().optional().catch(undefined);

/** `GET /system_stats`, the health check: nothing in it is required, so no new or null field fails a healthy server. */
export const SystemStatsSchema = z.looseObject({
  system: z
    .looseObject({
      os: optionalText,
      comfyui_version: optionalText,
      python_version: optionalText,
      ram_total: optionalNumber,
      ram_free: optionalNumber,
    })
    .catch({}),
  devices: z
    .array(
      z
        .looseObject({
          name: optionalText,
          type: optionalText,
          vram_total: optionalNumber,
          vram_free: optionalNumber,
        })
        .catch({}),
    )
    .catch([]),
});
/** The server's version, memory and devices. */
export type SystemStats = z.infer<typeof SystemStatsSchema>;

/** `GET /features` (since 0.3.44; older servers answer 404, read as no features). */
export const FeaturesSchema = z.looseObject({
  supports_preview_metadata: z.boolean().optional().catch(undefined),
  max_upload_size: optionalNumber,
});
/** What the server supports. */
export type Features = z.infer<typeof FeaturesSchema>;

export type { ObjectInfo } from './object-info.js';
