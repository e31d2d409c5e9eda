/**
 * The shapes of the web API, as zod schemas: the same objects validate the requests and produce the OpenAPI document
 * (`z.toJSONSchema`), so the document cannot drift from what the server accepts.
 */
import { z } from 'zod';
import { describeZodIssue } from '../workflows/zod-sentences.js';
import { loraChoiceSchema, MAX_COUNT, MAX_LORAS, MAX_SEED } from '../workflows/settings.js';
import { ApiProblem } from './problem.js';

const generationId = z.string().regex(/^[\w-]{6,32}$/);

/** An image the server already has: one output of an earlier generation of the caller's, or an upload of theirs. */
export const imageReferenceSchema = z.union([
  z
    .object({
      generation: generationId.describe('The id of an earlier generation of yours.'),
      output: z.number().int().min(0).default(0).describe('Which of its outputs, from 0.'),
    })
    .strict(),
  z
    .object({
      upload: z
        .string()
        .regex(/^upl_[\w-]{1,40}$/, 'must be an id POST /v1/uploads answered, such as upl_3Jb9xQ2mT0aL5vZk')
        .describe('The id POST /v1/uploads answered: an image you uploaded earlier.'),
    })
    .strict(),
]);

/** The settings a request may give besides the prompt; the prompt's flags may give them too, but not both. */
const settingFields = {
  negative: z.string().max(100_000).optional().describe('What the image should not show (like --no).'),
  workflow: z
    .string()
    .regex(/^[\w.-]+$/)
    .optional()
    .describe('The workflow to run (like --wf); GET /v1/workflows lists them.'),
  aspect: z
    .string()
    .regex(/^\d{1,2}:\d{1,2}$/)
    .optional()
    .describe('Aspect ratio such as 16:9 (like --ar).'),
  seed: z.number().int().min(0).max(MAX_SEED).optional().describe('Random unless set.'),
  count: z.number().int().min(1).max(MAX_COUNT).optional().describe('Images in one batch.'),
  steps: z.number().int().min(1).max(1000).optional(),
  cfg: z.number().min(0).max(100).optional(),
  denoise: z.number().min(0).max(1).optional(),
  model: z
    .string()
    .min(1)
    .max(1000)
    .optional()
    .describe('The model (checkpoint) to draw with (like --model); GET /v1/workflows lists each workflow’s.'),
  loras: z
    .array(loraChoiceSchema.strict())
    .min(1)
    .max(MAX_LORAS)
    .optional()
    .describe('LoRAs to apply in order, each { "name", "weight" } (like --lora name:weight); weight defaults to 1.'),
};

/** `POST /v1/generations` (as JSON, or as multipart form fields with an `image` file). */
export const createGenerationSchema = z
  .object({
    prompt: z
      .string()
      .max(100_000)
      .describe('The prompt; flags such as --ar 16:9 --seed 42 --no trees --n 2 work as in Discord.'),
    ...settingFields,
    image: imageReferenceSchema
      .optional()
      .describe('Start image-to-image from an earlier output or an uploaded image (or send the file as multipart).'),
    webhook: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Where to POST the finished generation (signed the Standard Webhooks way).'),
  })
  .strict();
export type CreateGeneration = z.output<typeof createGenerationSchema>;

/** `POST /v1/generations/{id}/refine`. */
export const refineSchema = z
  .object({
    text: z
      .string()
      .max(100_000)
      .default('')
      .describe(
        'As a reply in a Discord thread: new text replaces the prompt, "+ more" adds, flags change just those, "again" rerolls.',
      ),
    action: z
      .enum(['vary', 'upscale'])
      .optional()
      .describe('Run image-to-image (vary) or an upscale on one of the outputs instead.'),
    output: z.number().int().min(0).default(0).describe('The output the action starts from.'),
    webhook: z.url({ protocol: /^https?$/ }).optional(),
  })
  .strict();
export type RefineRequest = z.output<typeof refineSchema>;

/** `GET /v1/generations` query. */
export const listQuerySchema = z.object({
  page: z.coerce.number().int().min(1).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

const outputSchema = z.object({
  url: z.string().describe('Where to download it (a capability URL: no key needed).'),
  content_type: z.string(),
  size: z.number().int(),
  filename: z.string(),
});

/** What the API says about one generation. */
export const generationSchema = z.object({
  id: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  position: z.number().int().optional().describe('While queued: 1 is next.'),
  progress: z
    .object({ value: z.number(), max: z.number(), percent: z.number() })
    .optional()
    .describe('While running: the sampler steps.'),
  workflow: z.string(),
  settings: z.record(z.string(), z.unknown()).describe('The settings actually used, the seed included.'),
  outputs: z.array(outputSchema),
  error: z
    .object({ code: z.string(), message: z.string() })
    .optional()
    .describe('Why it failed or was cancelled: a stable code and one sentence.'),
  parent_id: z.string().optional().describe('The generation this one refines.'),
  created_at: z.string(),
  finished_at: z.string().optional(),
  urls: z.object({
    self: z.string(),
    events: z.string(),
    cancel: z.string(),
    refine: z.string(),
  }),
});
export type GenerationView = z.infer<typeof generationSchema>;

/** What the API says about an uploaded image (`POST /v1/uploads`). */
export const uploadSchema = z.object({
  id: z.string().describe('Use it as `image: {"upload": id}` in POST /v1/generations.'),
  url: z.string().describe('Where this description is.'),
  filename: z.string(),
  content_type: z.string(),
  size: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  created_at: z.string(),
  expires_at: z.string().describe('Kept until then (the input images retention), then upload it again.'),
});
export type UploadView = z.infer<typeof uploadSchema>;

export const generationListSchema = z.object({
  data: z.array(generationSchema),
  page: z.number().int(),
  page_count: z.number().int(),
  total: z.number().int(),
});

export const workflowListSchema = z.object({
  data: z.array(
    z.object({
      name: z.string(),
      kind: z.string(),
      description: z.string(),
      settings: z.array(
        z.object({
          name: z.string(),
          required: z.boolean(),
          default: z.union([z.string(), z.number()]).optional(),
          min: z.number().optional(),
          max: z.number().optional(),
          choices: z.array(z.union([z.string(), z.number()])).optional(),
        }),
      ),
      models: z.array(z.string()).optional().describe('The models the servers that run it have, when it takes one.'),
      loras: z.array(z.string()).optional().describe('The LoRAs the servers that run it have, when it takes them.'),
    }),
  ),
});

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  code: z.string().describe('Stable: bad-flag, prompt-too-long, member-limit, …'),
  detail: z.string().describe('One sentence that says what to fix.'),
  instance: z.string().optional(),
});

/** Parses `value` with `schema`, or throws a 422 problem whose sentence names the first wrong field. */
export function parseOr422<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const sentence = issue.path.length === 0 ? describeRoot(issue) : `${describeZodIssue(issue)}.`;
  throw new ApiProblem(422, 'invalid-request', capitalize(sentence));
}

function describeRoot(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `The request has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}.`;
  }
  return 'The request body must be a JSON object.';
}

function capitalize(sentence: string): string {
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}
