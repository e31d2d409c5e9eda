/**
 * The settings a member (or an operator on the command line) can give a generation. One vocabulary for the slash
 * command options, the inline flags, the refine grammar, the CLI and the workflow manifests, so a setting means the
 * same thing everywhere.
 */
import { z } from 'zod';

/** The aspect ratios offered as slash-command choices; flags accept any ratio within `MAX_ASPECT_SKEW`. */
export const ASPECT_CHOICES = ['1:1', '3:2', '2:3', '4:3', '3:4', '16:9', '9:16'] as const;

/** The widest ratio we accept either way (4:1 or 1:4); beyond it models produce garbage. */
export const MAX_ASPECT_SKEW = 4;

/** ComfyUI's seeds are unsigned 64-bit, but JSON numbers are exact only up to 2^53 - 1. */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/** The most images one generation may ask for. */
export const MAX_COUNT = 4;

/** An aspect ratio as written by people: `16:9`. Normalised to whole numbers with no common factor. */
export const aspectSchema = z
  .string()
  .regex(/^\d{1,2}:\d{1,2}$/, 'must look like 16:9')
  .transform((value, ctx) => {
    const [width, height] = value.split(':').map(Number) as [number, number];
    if (width < 1 || height < 1 || Math.max(width / height, height / width) > MAX_ASPECT_SKEW) {
      ctx.addIssue({ code: 'custom', message: `must be between 1:${MAX_ASPECT_SKEW} and ${MAX_ASPECT_SKEW}:1` });
      return z.NEVER;
    }
    const divisor = greatestCommonDivisor(width, height);
    return `${width / divisor}:${height / divisor}`;
  });

/** The most LoRAs one generation may name. */
export const MAX_LORAS = 8;

/** The LoRA weights a workflow takes unless its manifest says otherwise: beyond them, pictures fall apart. */
export const LORA_WEIGHT_RANGE = { min: -2, max: 2 } as const;

/** One LoRA a member chose, by the name a server lists it under, and how strongly to apply it (default 1). */
export const loraChoiceSchema = z.object({
  name: z.string().min(1),
  weight: z.number().min(-100).max(100).optional(),
});
export type LoraChoice = z.infer<typeof loraChoiceSchema>;

/** A reference to an image the ComfyUI server already has (uploaded), for image-to-image and upscaling. */
export const imageRefSchema = z.object({
  /** The name LoadImage takes: `name` or `subfolder/name`, as returned by POST /upload/image. */
  name: z.string().min(1),
  /** Where the image came from, for the card and the history ("attachment.png", "generation abc/1"). */
  source: z.string().optional(),
});

/** Everything a generation can be told. Every field but the prompt is optional: the workflow supplies defaults. */
export const generationSettingsSchema = z.object({
  prompt: z.string(),
  negative: z.string().optional(),
  workflow: z
    .string()
    .regex(/^[\w.-]+$/)
    .optional(),
  aspect: aspectSchema.optional(),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  seed: z.number().int().min(0).max(MAX_SEED).optional(),
  steps: z.number().int().min(1).optional(),
  cfg: z.number().min(0).optional(),
  count: z.number().int().min(1).max(MAX_COUNT).optional(),
  denoise: z.number().min(0).max(1).optional(),
  /** The checkpoint (members say "model"), by the name the servers list it under. */
  checkpoint: z.string().min(1).optional(),
  /**
   * The LoRAs, in the order they are applied; they replace the workflow's own (an empty list, left when a refine took
   * every one out, runs none at all).
   */
  loras: z.array(loraChoiceSchema).max(MAX_LORAS).optional(),
  image: imageRefSchema.optional(),
});

/** What a member asked for, before the workflow's defaults are applied. */
export type GenerationSettings = z.infer<typeof generationSettingsSchema>;

/** The settings that can be changed without touching the prompt text (everything but `prompt`). */
export type SettingsChange = Partial<Omit<GenerationSettings, 'prompt'>>;

/** The names of settings, as used by manifests, error messages and the CLI's reports. */
export type SettingName = Exclude<keyof GenerationSettings, 'prompt'> | 'prompt' | 'lora';

/**
 * A fresh random seed: ComfyUI caches identical prompts, so a fixed seed would return the same image again. It lies
 * within `max` (the lowest cap of the inputs it goes to; some nodes take no more than 2^32 - 1).
 */
export function randomSeed(random: () => number = Math.random, max: number = MAX_SEED): number {
  // Two draws, because Math.random() has only 52 bits of entropy and we want the whole 0..2^53-1 range.
  const wide = Math.floor(random() * 2 ** 21) * 2 ** 32 + Math.floor(random() * 2 ** 32);
  const cap = Math.floor(Math.min(max, MAX_SEED));
  return cap >= MAX_SEED ? wide : foldSeed(wide, cap);
}

/** Brings a seed within 0..max, the same way every time (so binding again for another server keeps it stable). */
export function foldSeed(seed: number, max: number): number {
  const cap = Math.floor(Math.min(max, MAX_SEED));
  return seed <= cap ? seed : seed % (cap + 1);
}

function greatestCommonDivisor(a: number, b: number): number {
  return b === 0 ? a : greatestCommonDivisor(b, a % b);
}
