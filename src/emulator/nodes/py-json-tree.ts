/**
 * JSON kept as a tree that remembers how each number was written, so node info read from a recording is served back
 * exactly as the real server wrote it. `JSON.parse` would turn `1.0` into `1` and 18446744073709551615 into
 * 18446744073709552000; Python's `json.dumps` writes the first as `1.0` and the second exactly.
 */

/** A parsed JSON value; numbers keep their source text. */
export type JsonTree =
  | { readonly kind: 'object'; readonly entries: ReadonlyArray<readonly [string, JsonTree]> }
  | { readonly kind: 'array'; readonly items: readonly JsonTree[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'literal'; readonly value: true | false | null };

/** Parses JSON text into a tree; throws a SyntaxError naming the offset of the first fault. */
export function parseJsonTree(text: string): JsonTree {
  const parser = new TreeParser(text);
  const tree = parser.value();
  parser.end();
  return tree;
}

/** Writes a tree like Python's `json.dumps` with default arguments (", " and ": ", non-ASCII escaped). */
export function dumpPyJson(tree: JsonTree): string {
  switch (tree.kind) {
    case 'object':
      return `{${tree.entries.map(([key, value]) => `${asciiString(key)}: ${dumpPyJson(value)}`).join(', ')}}`;
    case 'array':
      return `[${tree.items.map(dumpPyJson).join(', ')}]`;
    case 'string':
      return asciiString(tree.value);
    case 'number':
      return tree.text;
    case 'literal':
      return String(tree.value);
  }
}

/** The plain JavaScript value of a tree (integers beyond 2^53 lose precision, as with `JSON.parse`). */
export function treeValue(tree: JsonTree): unknown {
  switch (tree.kind) {
    case 'object':
      return Object.fromEntries(tree.entries.map(([key, value]) => [key, treeValue(value)]));
    case 'array':
      return tree.items.map(treeValue);
    case 'string':
      return tree.value;
    case 'number':
      return Number(tree.text);
    case 'literal':
      return tree.value;
  }
}

/** A tree holding a list of strings (a combo's options). */
export function stringListTree(values: readonly string[]): JsonTree {
  return { kind: 'array', items: values.map((value) => ({ kind: 'string', value })) };
}

/** The member `key` of an object tree, if it is one and has it. */
export function member(tree: JsonTree | undefined, key: string): JsonTree | undefined {
  return tree?.kind === 'object' ? tree.entries.find(([name]) => name === key)?.[1] : undefined;
}

/** A copy of `tree` with the value at `path` (object keys and array indexes) replaced; throws if the path is absent. */
export function replaceAt(tree: JsonTree, path: ReadonlyArray<string | number>, replacement: JsonTree): JsonTree {
  const [step, ...rest] = path;
  if (step === undefined) return replacement;
  if (tree.kind === 'object' && typeof step === 'string') {
    const index = tree.entries.findIndex(([key]) => key === step);
    if (index >= 0) {
      const entries = [...tree.entries];
      entries[index] = [step, replaceAt(tree.entries[index]![1], rest, replacement)];
      return { kind: 'object', entries };
    }
  }
  if (tree.kind === 'array' && typeof step === 'number' && step < tree.items.length) {
    const items = [...tree.items];
    items[step] = replaceAt(tree.items[step]!, rest, replacement);
    return { kind: 'array', items };
  }
  throw new Error(`no value at ${JSON.stringify(path)}`);
}

/** Python's ensure_ascii string form: JSON escapes, and every character outside space..~ as \uXXXX. */
function asciiString(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// JSON forbids raw control characters inside strings.
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const SPACE = /[ \t\n\r]*/y;

class TreeParser {
  private offset = 0;

  constructor(private readonly text: string) {}

  value(): JsonTree {
    this.skipSpace();
    const char = this.text[this.offset];
    if (char === '{') return this.object();
    if (char === '[') return this.array();
    if (char === '"') return { kind: 'string', value: this.string() };
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.offset)) {
        this.offset += word.length;
        return { kind: 'literal', value };
      }
    }
    return { kind: 'number', text: this.match(NUMBER, 'a value') };
  }

  end(): void {
    this.skipSpace();
    if (this.offset !== this.text.length) this.fail('the end of the text');
  }

  private object(): JsonTree {
    this.offset += 1;
    const entries: Array<readonly [string, JsonTree]> = [];
    this.skipSpace();
    if (this.text[this.offset] === '}') {
      this.offset += 1;
      return { kind: 'object', entries };
    }
    for (;;) {
      this.skipSpace();
      const key = this.string();
      this.skipSpace();
      this.expect(':');
      entries.push([key, this.value()]);
      this.skipSpace();
      if (this.text[this.offset] === '}') {
        this.offset += 1;
        return { kind: 'object', entries };
      }
      this.expect(',');
    }
  }

  private array(): JsonTree {
    this.offset += 1;
    const items: JsonTree[] = [];
    this.skipSpace();
    if (this.text[this.offset] === ']') {
      this.offset += 1;
      return { kind: 'array', items };
    }
    for (;;) {
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.offset] === ']') {
        this.offset += 1;
        return { kind: 'array', items };
      }
      this.expect(',');
    }
  }

  private string(): string {
    return JSON.parse(this.match(STRING, 'a string')) as string;
  }

  private expect(char: string): void {
    if (this.text[this.offset] !== char) this.fail(`"${char}"`);
    this.offset += 1;
  }

  private match(pattern: RegExp, what: string): string {
    pattern.lastIndex = this.offset;
    const found = pattern.exec(this.text);
    if (!found || found[0].length === 0) this.fail(what);
    this.offset += found[0].length;
    return found[0];
  }

  private skipSpace(): void {
    SPACE.lastIndex = this.offset;
    this.offset += SPACE.exec(this.text)?.[0].length ?? 0;
  }

  private fail(expected: string): never {
    throw new SyntaxError(`expected ${expected} at offset ${this.offset}`);
  }
}
