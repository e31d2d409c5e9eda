/**
 * How values are written into keyv and read back. Plain JSON (every value is zod-checked, so nothing exotic needs
 * encoding), and a reader that never throws: a row someone broke by hand must read as "unreadable", not crash the
 * handler that asked for it.
 */
import type { DeserializedData } from 'keyv';
import { z } from 'zod';

/** What a row that is not keyv's `{ value, expires }` JSON deserialises to, so the collection can log why. */
export class UnreadableValue {
  constructor(readonly reason: string) {}
}

const keyvRowSchema = z.object({ value: z.unknown(), expires: z.number().nullish() });

/** The envelope a collection stores: the record and the version of its schema. */
export const envelopeSchema = z.object({ v: z.number().int(), data: z.unknown() });

/** keyv's serializer: `{ value, expires }` as JSON. */
export function serializeRow(row: DeserializedData<unknown>): string {
  return JSON.stringify(row);
}

/** keyv's deserializer: never throws; an unparsable or misshapen row becomes an `UnreadableValue`. */
export function deserializeRow<Value>(text: string): DeserializedData<Value> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return unreadable<Value>(`not JSON: ${preview(text)}`);
  }
  const row = keyvRowSchema.safeParse(parsed);
  if (!row.success) return unreadable<Value>(`not a keyv row: ${preview(text)}`);
  return { value: row.data.value as Value, expires: row.data.expires ?? undefined };
}

function unreadable<Value>(reason: string): DeserializedData<Value> {
  // keyv passes `value` straight back to the caller, which checks for this class before anything else.
  return { value: new UnreadableValue(reason) as Value };
}

function preview(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
