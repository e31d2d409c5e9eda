/**
 * What validation and execution read from a node's served `/object_info` entry: its inputs with their limits, hidden
 * inputs, return types and whether it is an output node. Reading them from the served entry (never from a second,
 * hand-written description) keeps what the emulator checks identical to what it announces.
 */

/** An input's type: a type name such as `INT` / `IMAGE` / `*` / `COMBO`, or a V1 combo's list of options. */
export type InputType = string | readonly unknown[];

/** `[type, options]` as served (options hold default/min/max/step/options/tooltip...). */
export type InputSpec = readonly [InputType, Readonly<Record<string, unknown>>];

/** The parts of a node's info the emulator acts on. */
export interface NodeInfo {
  readonly name: string;
  readonly required: Readonly<Record<string, InputSpec>>;
  readonly optional: Readonly<Record<string, InputSpec>>;
  /** Hidden inputs by name and kind (`PROMPT`, `EXTRA_PNGINFO`, `UNIQUE_ID`...). */
  readonly hidden: Readonly<Record<string, string>>;
  readonly returnTypes: readonly unknown[];
  readonly outputNode: boolean;
}

/** Reads a served entry. V3 entries write a hidden input's kind as `["UNIQUE_ID"]`, V1 entries as `"UNIQUE_ID"`. */
export function readNodeInfo(name: string, entry: unknown): NodeInfo {
  const info = asRecord(entry);
  const input = asRecord(info['input']);
  const hidden: Record<string, string> = {};
  for (const [key, kind] of Object.entries(asRecord(input['hidden']))) {
    const text = Array.isArray(kind) ? kind[0] : kind;
    if (typeof text === 'string') hidden[key] = text;
  }
  return {
    name,
    required: readSpecs(input['required']),
    optional: readSpecs(input['optional']),
    hidden,
    returnTypes: Array.isArray(info['output']) ? info['output'] : [],
    outputNode: info['output_node'] === true,
  };
}

/** A combo's options: a V1 list type, or a V3 `COMBO` input's `options`; undefined for other inputs. */
export function comboOptions(spec: InputSpec): readonly unknown[] | undefined {
  const [type, options] = spec;
  if (Array.isArray(type)) return type;
  if (type === 'COMBO') return Array.isArray(options['options']) ? options['options'] : [];
  return undefined;
}

function readSpecs(value: unknown): Record<string, InputSpec> {
  const specs: Record<string, InputSpec> = {};
  for (const [name, spec] of Object.entries(asRecord(value))) {
    if (!Array.isArray(spec)) continue;
    const type = typeof spec[0] === 'string' || Array.isArray(spec[0]) ? (spec[0] as InputType) : '*';
    specs[name] = [type, asRecord(spec[1])];
  }
  return specs;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
