/**
 * Types and helpers shared by the validation modules.
 */
import { PythonError } from './py-coerce.js';

/** One validation error as ComfyUI serialises it. */
export interface ValidationError {
  readonly type: string;
  readonly message: string;
  readonly details: string;
  readonly extra_info: Readonly<Record<string, unknown>>;
}

/** Per-node verdicts shared across the walk (ComfyUI's `validated` dict). */
export type Verdicts = Map<string, { readonly ok: boolean; readonly errors: readonly ValidationError[] }>;

/** Turns anything thrown during validation into the Python exception ComfyUI would have caught. */
export function asPythonError(error: unknown): PythonError {
  if (error instanceof PythonError) return error;
  return new PythonError('Exception', error instanceof Error ? error.message : String(error));
}

/** True for a JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
