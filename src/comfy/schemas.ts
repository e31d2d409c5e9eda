/**
 * zod schemas of ComfyUI's HTTP bodies (PROTOCOL.md, recorded from 0.3.64). Lenient where older servers lack fields:
 * only what the client cannot work without is required; unknown keys pass through.
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

const NodeErrorItemSchema = z.looseObject({
  type: z.string().default(''),
  message: z.string().default(''),
  details: z.string().default(''),
  extra_info: z.record(z.string(), z.unknown()).optional(),
});

const NodeErrorSchema = z.looseObject({
  errors: z.array(NodeErrorItemSchema).default([]),
  dependent_outputs: z.array(NodeIdSchema).default([]),
  class_type: z.string().optional(),
});

/** `node_errors`: failing node id → its errors and the output nodes they take down. Old servers sent a list. */
const NodeErrorsRecordSchema = z.record(z.string(), NodeErrorSchema);
export const NodeErrorsSchema = z
  .union([NodeErrorsRecordSchema, z.array(z.unknown()).transform((): z.infer<typeof NodeErrorsRecordSchema> => ({}))])
  .default({});
/** Parsed `node_errors`. */
export type NodeErrors = z.infer<typeof NodeErrorsSchema>;

/** `POST /prompt` → 200. */
export const PromptAcceptedSchema = z.looseObject({
  prompt_id: z.string(),
  number: z.number().optional(),
  node_errors: NodeErrorsSchema,
});
/** A prompt the server queued. */
export type PromptAccepted = z.infer<typeof PromptAcceptedSchema>;

/** `POST /prompt` → 400. `error` was a bare string on old servers. */
export const PromptRejectedSchema = z.looseObject({
  error: z
    .union([
      z.looseObject({ type: z.string().default(''), message: z.string().default(''), details: z.unknown() }),
      z.string().transform((message) => ({ type: '', message, details: undefined })),
    ])
    .optional(),
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
export const FileRefSchema = z.looseObject({
  filename: z.string().min(1),
  subfolder: z.string().default(''),
  type: z.string().default('output'),
  /** Only VideoHelperSuite's `gifs` entries carry this (e.g. `video/h264-mp4`). */
  format: z.string().optional(),
});
/** A file on the server. */
export type FileRef = Pick<z.infer<typeof FileRefSchema>, 'filename' | 'subfolder' | 'type'>;

/** One node's UI output: `images`, `animated`, `gifs`, `text`, `audio`… — the shape varies by node. */
export const NodeOutputSchema = z.record(z.string(), z.unknown());
/** One node's UI output, as in history `outputs[node]` and `executed.output`. */
export type NodeOutput = z.infer<typeof NodeOutputSchema>;

const HistoryStatusSchema = z.looseObject({
  status_str: z.string().optional(),
  completed: z.boolean().optional(),
  messages: z.array(z.tuple([z.string(), z.unknown()])).default([]),
});

/** One `/history` entry (present only once the prompt finished). `status` exists since 2024-01. */
export const HistoryEntrySchema = z.looseObject({
  prompt: z.array(z.unknown()).optional(),
  outputs: z
    .record(
      z.string(),
      NodeOutputSchema.nullable().transform((output) => output ?? {}),
    )
    .default({}),
  status: HistoryStatusSchema.optional(),
});
/** A finished prompt as history records it. */
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;

/** `GET /history/{id}` (`{}` when unknown or unfinished) and `GET /history`. */
export const HistorySchema = z.record(z.string(), HistoryEntrySchema);

/** `POST /upload/image` → 200. */
export const UploadedFileSchema = z.looseObject({
  name: z.string().min(1),
  subfolder: z.string().default(''),
  type: z.string().default('input'),
});
/** Where an uploaded file landed; LoadImage takes `subfolder/name`. */
export type UploadedFile = z.infer<typeof UploadedFileSchema>;

/** `GET /system_stats`. */
export const SystemStatsSchema = z.looseObject({
  system: z
    .looseObject({
      os: z.string().optional(),
      comfyui_version: z.string().optional(),
      python_version: z.string().optional(),
      ram_total: z.number().optional(),
      ram_free: z.number().optional(),
    })
    .default({}),
  devices: z
    .array(
      z.looseObject({
        name: z.string().optional(),
        type: z.string().optional(),
        vram_total: z.number().optional(),
        vram_free: z.number().optional(),
      }),
    )
    .default([]),
});
/** The server's version, memory and devices. */
export type SystemStats = z.infer<typeof SystemStatsSchema>;

/** `GET /features` (since 0.3.44; older servers answer 404, read as no features). */
export const FeaturesSchema = z.looseObject({
  supports_preview_metadata: z.boolean().optional(),
  max_upload_size: z.number().optional(),
});
/** What the server supports. */
export type Features = z.infer<typeof FeaturesSchema>;

const NodeInputsSchema = z.record(z.string(), z.unknown());

/** One node type in `GET /object_info`. */
export const NodeInfoSchema = z.looseObject({
  input: z
    .looseObject({
      required: NodeInputsSchema.optional(),
      optional: NodeInputsSchema.optional(),
      hidden: NodeInputsSchema.optional(),
    })
    .default({}),
  output: z.array(z.unknown()).default([]),
  output_name: z.array(z.unknown()).optional(),
  output_node: z.boolean().default(false),
  name: z.string().optional(),
  display_name: z.string().optional(),
  category: z.string().optional(),
});

/** `GET /object_info`: class type → its inputs and outputs. */
export const ObjectInfoSchema = z.record(z.string(), NodeInfoSchema);
/** Every node type the server knows. */
export type ObjectInfo = z.infer<typeof ObjectInfoSchema>;
