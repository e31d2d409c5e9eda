/**
 * The optional manifest beside a workflow (`<name>.manifest.json`): what the workflow is, which settings it takes,
 * where each goes, their defaults and limits, and which nodes to post. Every part is optional; what a manifest does
 * not say is inferred from the graph. A setting set to `false` is not offered at all.
 */
import { z } from 'zod';
import { aspectSchema, MAX_COUNT, MAX_LORAS, MAX_SEED } from './settings.js';

/** What a workflow does, for the `/workflows` list and for choosing one (Vary needs image-to-image...). */
export const workflowKindSchema = z.enum(['text-to-image', 'image-to-image', 'upscale', 'other']);
export type WorkflowKind = z.infer<typeof workflowKindSchema>;

/** A workflow name as members type it after `--wf`. */
export const workflowNameSchema = z
  .string()
  .regex(/^[\w.-]+$/, 'must be letters, digits, "-", "_" or "." (it is typed after --wf)');

/** A node input, addressed by node id or by node title: `"3.seed"`, `"Positive prompt.text"`. */
const targetSchema = z
  .string()
  .regex(/^.+\.[A-Za-z_]\w*$/, 'must name a node (id or title) and an input, like "3.seed" or "KSampler.seed"');

/** A node, addressed by id or title: `"9"`, `"Save Image"`. */
const nodeRefSchema = z.string().min(1, 'must name a node by id or title');

/** A node's output, as an API graph links it: `["Load Checkpoint", 0]` (node id or title, output slot from 0). */
const outputRefSchema = z.tuple([nodeRefSchema, z.number().int().min(0)], {
  error: 'must name a node and an output slot, like ["4", 0] or ["Load Checkpoint", 1]',
});

const targetsSchema = z.union([targetSchema, z.array(targetSchema).min(1)]);

// A setting may be written as just its target(s): `"prompt": "6.text"`.
const shorthand = (value: unknown): unknown =>
  typeof value === 'string' || Array.isArray(value) ? { to: value } : value;

function settingSchema<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.preprocess(
    shorthand,
    z.union([z.literal(false), z.strictObject({ to: targetsSchema.optional(), ...shape })], {
      error:
        'must be false, a target such as "3.steps", a list of targets, or an object such as { "to": "3.steps", "max": 60 }',
    }),
  );
}

const int = z.number().int();
const numericShape = <T extends z.ZodNumber>(value: T) => ({
  default: value.optional(),
  min: value.optional(),
  max: value.optional(),
  choices: z.array(value).min(1).optional(),
});
const textShape = { default: z.string().optional() };
const modelShape = { default: z.string().min(1).optional(), choices: z.array(z.string().min(1)).min(1).optional() };

const manifestSettingsSchema = z.strictObject({
  prompt: settingSchema(textShape).optional(),
  negative: settingSchema(textShape).optional(),
  seed: settingSchema({
    default: z.never({ error: 'is not allowed: the seed is fresh for every job unless a member sets one' }).optional(),
    min: int.min(0).max(MAX_SEED).optional(),
    max: int.min(0).max(MAX_SEED).optional(),
  }).optional(),
  steps: settingSchema(numericShape(int.min(1).max(10_000))).optional(),
  cfg: settingSchema(numericShape(z.number().min(0).max(100))).optional(),
  denoise: settingSchema(numericShape(z.number().min(0).max(1))).optional(),
  width: settingSchema(numericShape(int.min(16).max(16_384))).optional(),
  height: settingSchema(numericShape(int.min(16).max(16_384))).optional(),
  count: settingSchema(numericShape(int.min(1).max(MAX_COUNT))).optional(),
  // A default image (one already in the server's input folder) makes the member's image optional, e.g. a pose.
  image: settingSchema({ default: z.string().min(1).optional() }).optional(),
  checkpoint: settingSchema(modelShape).optional(),
  // `to` lists chained LoRA loaders to fill (their lora_name inputs, in chain order); `insert` names the MODEL (and
  // CLIP) output after which a chain of new loaders goes. Either way the graph's own loaders run when none is named.
  lora: settingSchema({
    choices: modelShape.choices,
    default: z
      .never({ error: "is not allowed: the graph's own LoRA loaders are what runs when a member names no LoRA" })
      .optional(),
    insert: z
      .strictObject({
        model: outputRefSchema,
        clip: outputRefSchema.optional(),
        max: int.min(1).max(MAX_LORAS).optional(),
      })
      .optional(),
    weight: z
      .strictObject({
        default: z.number().min(-100).max(100).optional(),
        min: z.number().min(-100).max(100).optional(),
        max: z.number().min(-100).max(100).optional(),
      })
      .optional(),
  }).optional(),
  aspect: z
    .union([
      z.literal(false),
      z.strictObject({ default: aspectSchema.optional(), choices: z.array(aspectSchema).min(1).optional() }),
    ])
    .optional(),
});

/** The manifest file's schema. */
export const manifestSchema = z.strictObject({
  /** Editors' JSON-schema hint; ignored. */
  $schema: z.string().optional(),
  name: workflowNameSchema.optional(),
  description: z.string().max(300).optional(),
  kind: workflowKindSchema.optional(),
  /** The model's native resolution (512 for SD1.5, 1024 for SDXL/Flux) and what sizes snap to. */
  resolution: z
    .strictObject({
      base: int.min(64).max(4096),
      multiple: int.min(8).max(256).multipleOf(8).optional(),
    })
    .optional(),
  settings: manifestSettingsSchema.optional(),
  /** Output nodes to post, by id or title; by default every saving output node. */
  outputs: z.array(nodeRefSchema).min(1).optional(),
  /** The workflow to use instead on a server where this one cannot run (e.g. upscale -> upscale-basic). */
  fallback: workflowNameSchema.optional(),
  /** Adult content: offered and run only in age-restricted channels (and their threads). */
  nsfw: z.boolean().optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestSettings = z.infer<typeof manifestSettingsSchema>;
/** One setting's entry after shorthand expansion: `false`, or its targets, default, limits and choices. */
export type ManifestSetting = Exclude<NonNullable<ManifestSettings[keyof ManifestSettings]>, false>;
