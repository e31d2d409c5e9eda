/**
 * Reads a workflow file and its manifest from text into checked values, with one readable sentence per problem.
 */
import { API_EXPORT_HINT, type ApiGraph, apiGraphSchema, findBrokenLinks, isUiExport } from './graph.js';
import { type Manifest, manifestSchema } from './manifest.js';
import { describeZodError } from './zod-sentences.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reasons: string[] };

/** Parses an API-format graph; refuses UI-format exports with a sentence that says how to export in API format. */
export function parseGraphText(file: string, text: string): Parsed<ApiGraph> {
  const json = parseJson(file, text);
  if (!json.ok) return json;
  if (isUiExport(json.value)) {
    return {
      ok: false,
      reasons: [
        `${file} is a ComfyUI UI-format export (it has "nodes" and "links"), which the ComfyUI API cannot run. ${API_EXPORT_HINT}`,
      ],
    };
  }
  const parsed = apiGraphSchema.safeParse(json.value, { reportInput: true });
  if (!parsed.success) {
    return { ok: false, reasons: [...describeZodError(file, parsed.error), notApiFormatHint(file)] };
  }
  const broken = findBrokenLinks(parsed.data).map((problem) => `${file}: ${problem}`);
  return broken.length > 0 ? { ok: false, reasons: broken } : { ok: true, value: parsed.data };
}

/** Parses a manifest; every schema problem becomes a sentence naming the file and the field. */
export function parseManifestText(file: string, text: string): Parsed<Manifest> {
  const json = parseJson(file, text);
  if (!json.ok) return json;
  const parsed = manifestSchema.safeParse(json.value, { reportInput: true });
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, reasons: describeZodError(file, parsed.error) };
}

function parseJson(file: string, text: string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reasons: [`${file} is not valid JSON (${detail}).`] };
  }
}

function notApiFormatHint(file: string): string {
  return `${file} does not look like a ComfyUI API-format graph (an object of node id -> { "class_type", "inputs" }). ${API_EXPORT_HINT}`;
}
