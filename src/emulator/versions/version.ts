/**
 * Which ComfyUI the emulator behaves as: the recorded 0.3.64 (the default), or the current protocol as laid out in
 * `comfyui/PROTOCOL-current.md` (jobs API, strict prompt ids, `missing_node_type`, RAM-pressure cache, assets...).
 */

/** The versions the emulator can behave as. */
export const COMFY_VERSIONS = ['0.3.64', 'current'] as const;
/** One of `COMFY_VERSIONS`. */
export type ComfyVersion = (typeof COMFY_VERSIONS)[number];

/** True for a name of a version the emulator can behave as. */
export function isComfyVersion(value: unknown): value is ComfyVersion {
  return (COMFY_VERSIONS as readonly unknown[]).includes(value);
}

/** What `/system_stats` reports as `comfyui_version` in each mode (current: the newest source read, 0.38.1). */
export function reportedVersion(version: ComfyVersion): string {
  return version === 'current' ? '0.38.1' : '0.3.64';
}
