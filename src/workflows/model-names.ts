/**
 * Model file names as members type them and as servers list them. A server lists checkpoints and LoRAs by their path
 * under its models folder (`sdxl/juggernautXL_v9.safetensors`; a Windows server writes `sdxl\juggernautXL_v9…`), often
 * hundreds of them; a member types `juggernaut` or `juggernautXL_v9`. These pure functions find the one file meant,
 * rank files for autocomplete, and fit names into Discord's 100-character choice names and values.
 */
import { createHash } from 'node:crypto';
import { portableName } from './file-spellings.js';

/** Discord's limit on an autocomplete choice's name and value. */
export const CHOICE_LIMIT = 100;

/** What a typed name resolved to: the server's own spelling, or the few names that come closest. */
export type ModelMatch =
  | { readonly ok: true; readonly name: string }
  | { readonly ok: false; readonly ambiguous: boolean; readonly candidates: readonly string[] };

// A long name's choice value ends in `~` and 12 characters of its hash, so it fits in 100 and can be found again.
const TOKEN_LENGTH = 12;
const TOKEN = new RegExp(`~([A-Za-z0-9_-]{${TOKEN_LENGTH}})$`);

/** The name with forward slashes, lower-case: how two spellings of one file compare. */
function folded(name: string): string {
  return name.replace(/\\/g, '/').toLowerCase();
}

/** The file name without its folders. */
function baseName(name: string): string {
  const parts = name.split(/[\\/]/);
  return parts[parts.length - 1] ?? name;
}

/** The name without its extension (`.safetensors`, `.ckpt`, `.pt`…). */
function withoutExtension(name: string): string {
  return name.replace(/\.[A-Za-z0-9]{1,12}$/, '');
}

/** Letters and digits only, lower-case: `Juggernaut XL v9` and `juggernaut_xl-v9` meet here. */
function loose(name: string): string {
  return name.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}

function hashOf(name: string): string {
  return createHash('sha256').update(name).digest('base64url').slice(0, TOKEN_LENGTH);
}

/** The ways a typed name may identify a file, from the strictest to the loosest. */
const LEVELS: ReadonlyArray<(name: string) => string> = [
  folded,
  (name) => withoutExtension(folded(name)),
  (name) => folded(baseName(name)),
  (name) => withoutExtension(folded(baseName(name))),
  (name) => loose(withoutExtension(baseName(name))),
];

/**
 * Finds the file a member means among `available`: the exact name, an autocomplete value, then the same name with
 * other case or slashes, without its extension, without its folders, and ignoring spaces and punctuation. The first
 * of these that fits decides; when it fits several files the match is ambiguous.
 */
export function resolveModelName(typed: string, available: readonly string[]): ModelMatch {
  const wanted = typed.trim();
  if (available.includes(wanted)) return { ok: true, name: wanted };
  const respelled = available.find((name) => portableName(name) === portableName(wanted));
  if (respelled !== undefined) return { ok: true, name: respelled };
  const token = TOKEN.exec(wanted)?.[1];
  const byToken = token === undefined ? undefined : available.find((name) => hashOf(name) === token);
  if (byToken !== undefined) return { ok: true, name: byToken };
  for (const level of LEVELS) {
    const key = level(wanted);
    if (key === '') continue;
    const hits = [...new Set(available.filter((name) => level(name) === key))];
    // A Windows and a Linux server's spellings of one file are one file.
    if (new Set(hits.map(portableName)).size === 1) return { ok: true, name: hits[0]! };
    if (hits.length > 1) return { ok: false, ambiguous: true, candidates: hits.slice(0, 5) };
  }
  return { ok: false, ambiguous: false, candidates: closestModels(wanted, available) };
}

/**
 * The few names closest to what was typed: those containing it first, then those within a small edit distance of
 * it (a typo, a missing version suffix). Empty when nothing comes close.
 */
export function closestModels(typed: string, available: readonly string[], limit = 3): string[] {
  const needle = loose(withoutExtension(baseName(typed)));
  if (needle === '') return [];
  const scored = available.map((name) => {
    const stem = loose(withoutExtension(baseName(name)));
    const contained = stem.includes(needle) || (stem.length >= 3 && needle.includes(stem));
    const distance = contained ? 0 : editDistance(needle, stem.slice(0, needle.length + 3));
    return { name, distance, contained, length: stem.length };
  });
  const near = Math.max(2, Math.floor(needle.length * 0.4));
  return scored
    .filter((entry) => entry.contained || entry.distance <= near)
    .sort((a, b) => a.distance - b.distance || a.length - b.length || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map((entry) => entry.name);
}

/**
 * Names for autocomplete: those whose file name starts with what was typed, then those containing it in the file
 * name, then in the folder, then holding its letters in order; alphabetically within each. Everything when nothing
 * is typed.
 */
export function rankModels(typed: string, available: readonly string[], limit = 25): string[] {
  const needle = typed.trim().replace(/\\/g, '/').toLowerCase();
  const compact = loose(needle);
  const rank = (name: string): number | undefined => {
    if (needle === '') return 0;
    const file = folded(baseName(name));
    const path = folded(name);
    if (file.startsWith(needle) || loose(file).startsWith(compact)) return 0;
    if (file.includes(needle) || (compact !== '' && loose(file).includes(compact))) return 1;
    if (path.includes(needle)) return 2;
    return compact !== '' && isSubsequence(compact, loose(path)) ? 3 : undefined;
  };
  return [...new Set(available)]
    .map((name) => ({ name, rank: rank(name) }))
    .filter((entry): entry is { name: string; rank: number } => entry.rank !== undefined)
    .sort((a, b) => a.rank - b.rank || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map((entry) => entry.name);
}

/** The value of an autocomplete choice: the name itself when it fits, else a shortened name that resolves back. */
export function choiceValue(name: string, suffix = ''): string {
  if (name.length + suffix.length <= CHOICE_LIMIT) return `${name}${suffix}`;
  const room = CHOICE_LIMIT - suffix.length - TOKEN_LENGTH - 1;
  return `${name.slice(0, room)}~${hashOf(name)}${suffix}`;
}

/** What a choice shows: the name, or its start and its end around an ellipsis when it is too long. */
export function choiceLabel(name: string, suffix = ''): string {
  if (name.length + suffix.length <= CHOICE_LIMIT) return `${name}${suffix}`;
  const room = CHOICE_LIMIT - suffix.length - 1;
  const head = Math.floor(room * 0.4);
  return `${name.slice(0, head)}…${name.slice(name.length - (room - head))}${suffix}`;
}

/** A name as a sentence shows it: the file name without folders when that is enough, shortened if very long. */
export function speakableName(name: string, among: readonly string[]): string {
  const file = baseName(name);
  const unique = among.filter((other) => folded(baseName(other)) === folded(file)).length <= 1;
  const shown = unique ? file : name;
  return shown.length <= 60 ? shown : `${shown.slice(0, 28)}…${shown.slice(-28)}`;
}

function isSubsequence(needle: string, haystack: string): boolean {
  let at = 0;
  for (const char of haystack) if (char === needle[at]) at += 1;
  return at === needle.length;
}

/** Levenshtein distance; the strings compared are short (file stems cut to the typed length). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost));
    }
    previous = current;
  }
  return previous[b.length]!;
}
