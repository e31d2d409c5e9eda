/**
 * The non-pixel values that flow between emulated nodes. They carry just enough identity (checkpoint, LoRAs, text)
 * for sampled pictures to depend on everything a real sampler depends on.
 */

/** MODEL: a checkpoint, possibly patched by LoRAs. */
export interface ModelValue {
  readonly kind: 'model';
  readonly identity: string;
}

/** CLIP: the text encoder of a checkpoint, possibly patched by LoRAs. */
export interface ClipValue {
  readonly kind: 'clip';
  readonly identity: string;
}

/** VAE. */
export interface VaeValue {
  readonly kind: 'vae';
  readonly identity: string;
}

/** CONDITIONING: an encoded prompt. */
export interface ConditioningValue {
  readonly kind: 'conditioning';
  readonly text: string;
  readonly clip: string;
}

/** UPSCALE_MODEL: an upscaler with its scale factor (read from the file name, e.g. `x4`). */
export interface UpscaleModelValue {
  readonly kind: 'upscale_model';
  readonly name: string;
  readonly scale: number;
}

/** Reads a value of the expected kind, failing like Python would on a wrong or missing object. */
export function expectKind<T extends { kind: string }>(value: unknown, kind: T['kind'], input: string): T {
  if (typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === kind) return value as T;
  throw new Error(`'${input}' is not a ${kind}`);
}
