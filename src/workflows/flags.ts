/**
 * Inline flags, in the style people know from other image bots: `a fox --ar 16:9 --seed 42 --no trees --n 4`.
 *
 * One parser serves the `/imagine` prompt, the refine replies in a session thread and `npm run generate`, so a flag
 * means the same thing everywhere. It is pure and returns a result instead of throwing: an unknown or malformed flag
 * is an error that names the offending token, never silently ignored.
 */
import { english, sentence, type Sentence } from '../i18n/catalog.js';
import {
  aspectSchema,
  MAX_ASPECT_SKEW,
  MAX_COUNT,
  MAX_LORAS,
  MAX_SEED,
  type LoraChoice,
  type SettingsChange,
} from './settings.js';

/** What a piece of text said: the prompt words (may be empty) and the settings its flags set. */
export interface ParsedFlags {
  readonly ok: true;
  /** The text with every flag and its value removed, whitespace folded. */
  readonly prompt: string;
  readonly settings: SettingsChange;
}

/** Why the text could not be read; `token` is the flag (or value) to fix, `message` one sentence for a member. */
export interface FlagError {
  readonly ok: false;
  readonly token: string;
  /** The sentence in English (the web API, the command line). */
  readonly message: string;
  /** The same sentence, for saying it in the member's language. */
  readonly sentence: Sentence;
}

export type FlagParseResult = ParsedFlags | FlagError;

type ValueParser = (value: string, flag: string) => { value: SettingsChange } | { error: Sentence };

interface FlagSpec {
  readonly names: readonly string[];
  readonly example: string;
  /** `--no` takes every word up to the next flag; the others take exactly one word. */
  readonly multiWord?: boolean;
  /** A file name in quotes may hold spaces: `--lora "film grain":0.5`. */
  readonly quotable?: boolean;
  /** `--lora` may be given several times; each adds one. */
  readonly repeatable?: boolean;
  readonly parse: ValueParser;
}

const wholeNumber =
  (setting: 'seed' | 'steps' | 'count', min: number, max: number): ValueParser =>
  (value, flag) => {
    const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(number) || number < min || number > max) {
      return { error: sentence('flag.wholeNumber', { flag, min, max, value }) };
    }
    return { value: { [setting]: number } };
  };

const decimal =
  (setting: 'cfg' | 'denoise', min: number, max: number): ValueParser =>
  (value, flag) => {
    const number = /^\d+(\.\d+)?$|^\.\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isFinite(number) || number < min || number > max) {
      return { error: sentence('flag.number', { flag, min, max, value }) };
    }
    return { value: { [setting]: number } };
  };

const FLAGS: readonly FlagSpec[] = [
  {
    names: ['ar', 'aspect'],
    example: '--ar 16:9',
    parse: (value, flag) => {
      const parsed = aspectSchema.safeParse(value);
      return parsed.success ? { value: { aspect: parsed.data } } : { error: aspectError(flag, value) };
    },
  },
  { names: ['seed'], example: '--seed 42', parse: wholeNumber('seed', 0, MAX_SEED) },
  { names: ['no'], example: '--no trees, text', multiWord: true, parse: (value) => ({ value: { negative: value } }) },
  { names: ['steps'], example: '--steps 30', parse: wholeNumber('steps', 1, 1000) },
  { names: ['cfg'], example: '--cfg 6.5', parse: decimal('cfg', 0, 100) },
  { names: ['n', 'count'], example: '--n 4', parse: wholeNumber('count', 1, MAX_COUNT) },
  { names: ['denoise'], example: '--denoise 0.6', parse: decimal('denoise', 0, 1) },
  {
    names: ['model', 'checkpoint', 'ckpt'],
    example: '--model juggernautXL',
    quotable: true,
    parse: (value) => ({ value: { checkpoint: unquote(value) } }),
  },
  { names: ['lora'], example: '--lora detail:0.8', quotable: true, repeatable: true, parse: parseLora },
  {
    names: ['wf', 'workflow'],
    example: '--wf portrait',
    parse: (value, flag) =>
      /^[\w.-]+$/.test(value) ? { value: { workflow: value } } : { error: sentence('flag.workflow', { flag, value }) },
  },
];

/** Every flag name, for help texts: `--ar, --aspect, --seed, …`. */
export const FLAG_NAMES: readonly string[] = FLAGS.flatMap((spec) => spec.names.map((name) => `--${name}`));

/** One line per flag with an example, for the README and the thread's help. */
export const FLAG_EXAMPLES: readonly string[] = FLAGS.map((spec) => spec.example);

const SPEC_BY_NAME = new Map(FLAGS.flatMap((spec) => spec.names.map((name) => [name, spec] as const)));

// Phones turn `--` into an em or en dash; people mean a flag all the same.
const FLAG_TOKEN = /^(?:--|\u2014|\u2013)([A-Za-z][\w-]*)$/;

/** Splits text into the prompt and the settings its flags set. */
export function parseFlags(text: string): FlagParseResult {
  const words = text.split(/\s+/).filter(Boolean);
  const promptWords: string[] = [];
  const settings: SettingsChange = {};
  const seen = new Map<FlagSpec, string>();
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index]!;
    const match = FLAG_TOKEN.exec(word);
    if (!match) {
      promptWords.push(word);
      continue;
    }
    const flag = `--${match[1]!.toLowerCase()}`;
    const spec = SPEC_BY_NAME.get(match[1]!.toLowerCase());
    if (!spec) return unknownFlag(word);
    if (seen.has(spec) && spec.repeatable !== true) {
      return failure(word, sentence('flag.twice', { flag, other: seen.get(spec)! }));
    }
    seen.set(spec, flag);
    const valueWords = takeValue(words, index + 1, spec);
    if (valueWords.length === 0) return failure(word, sentence('flag.needsValue', { flag, example: spec.example }));
    index += valueWords.length;
    const parsed = spec.parse(valueWords.join(' '), flag);
    if ('error' in parsed) return failure(word, parsed.error);
    const merged = mergeSettings(settings, parsed.value);
    if (merged) return failure(word, merged);
  }
  return { ok: true, prompt: promptWords.join(' '), settings };
}

function takeValue(words: readonly string[], start: number, spec: FlagSpec): string[] {
  const first = words[start];
  if (spec.quotable === true && first !== undefined && OPENING_QUOTE.test(first)) return takeQuoted(words, start);
  const taken: string[] = [];
  for (let index = start; index < words.length; index += 1) {
    const word = words[index]!;
    if (FLAG_TOKEN.test(word)) break;
    taken.push(word);
    if (spec.multiWord !== true) break;
  }
  return taken;
}

// Phones write curly quotes; people mean straight ones.
const OPENING_QUOTE = /^["\u201c\u201e]/;
const CLOSING_QUOTE = /["\u201d\u201c](:[^\s"]*)?$/;

/** The words from an opening quote to the closing one (all the rest when it is never closed). */
function takeQuoted(words: readonly string[], start: number): string[] {
  const taken: string[] = [];
  for (let index = start; index < words.length; index += 1) {
    const word = words[index]!;
    taken.push(word);
    const rest = index === start ? word.slice(1) : word;
    if (CLOSING_QUOTE.test(rest)) break;
  }
  return taken;
}

/** A file name without the quotes around it. */
function unquote(value: string): string {
  return value.replace(/^["\u201c\u201e]/, '').replace(/["\u201d\u201c]$/, '');
}

/** A LoRA as written in an option or after `--lora`: `name`, `name:0.8`, `"a name":0.8`. */
export function parseLoraValue(
  value: string,
): { ok: true; lora: LoraChoice } | { ok: false; message: string; sentence: Sentence } {
  const parsed = parseLora(value.trim(), 'lora');
  if ('error' in parsed) return { ok: false, message: english(parsed.error), sentence: parsed.error };
  return { ok: true, lora: parsed.value.loras![0]! };
}

/** `name`, `name:0.8`, `"a name":0.8`: the weight is the number after the last colon. */
function parseLora(value: string, flag: string): { value: SettingsChange } | { error: Sentence } {
  const weighted = /^(.*):([+-]?(?:\d+(?:\.\d*)?|\.\d+))$/.exec(value);
  const name = unquote(weighted ? weighted[1]! : value).trim();
  if (name === '') return { error: sentence('flag.loraName', { flag }) };
  if (!weighted && /:[^/\\]*$/.test(value) && !/^[A-Za-z]:[/\\]/.test(value)) {
    const after = value.slice(value.lastIndexOf(':') + 1);
    return { error: sentence('flag.loraWeight', { flag, value: after }) };
  }
  const choice: LoraChoice = weighted ? { name, weight: Number(weighted[2]) } : { name };
  return { value: { loras: [choice] } };
}

/** Adds one flag's settings; LoRAs add up (at most `MAX_LORAS`). Returns a sentence when there are too many. */
function mergeSettings(settings: SettingsChange, added: SettingsChange): Sentence | undefined {
  const loras = [...(settings.loras ?? []), ...(added.loras ?? [])];
  if (loras.length > MAX_LORAS) return sentence('flag.tooManyLoras', { most: MAX_LORAS });
  Object.assign(settings, added, loras.length > 0 ? { loras } : {});
  return undefined;
}

function unknownFlag(word: string): FlagError {
  const flags = FLAGS.map((spec) => `--${spec.names[0]}`).join(', ');
  return failure(word, sentence('flag.unknown', { word, flags }));
}

/** `--ar` with a value that is no ratio, or one too wide or too tall. */
function aspectError(flag: string, value: string): Sentence {
  return /^\d{1,2}:\d{1,2}$/.test(value)
    ? sentence('flag.aspectRange', { flag, value, most: MAX_ASPECT_SKEW })
    : sentence('flag.aspectShape', { flag, value });
}

function failure(token: string, said: Sentence): FlagError {
  return { ok: false, token, message: english(said), sentence: said };
}
