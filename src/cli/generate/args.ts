/**
 * The command line of `npm run generate`: the CLI's own options are taken out, and everything else (the prompt and
 * its flags) goes through `parseFlags`, the parser `/imagine` and the session threads use, so `--ar`, `--seed`, `--no`
 * and the rest mean the same thing in a terminal as in Discord. Pure: returns a result with one sentence on error.
 */
import { FLAG_EXAMPLES, FLAG_NAMES, parseFlags } from '../../workflows/flags.js';
import type { SettingsChange } from '../../workflows/settings.js';
import { parseOverride, type InputOverride } from './overrides.js';

/** Where files go when `--out` is not given. */
export const DEFAULT_OUT_DIR = 'out/';

/** A generation to run. */
export interface GenerationArgs {
  readonly mode: 'generate';
  /** The prompt with every flag removed (empty for workflows that take none, such as upscale). */
  readonly prompt: string;
  /** What the flags set. */
  readonly settings: SettingsChange;
  readonly out: string;
  /** A local image file for image-to-image or upscaling. */
  readonly image?: string;
  /** `--workflow ./path.json`: an API-format file run instead of a workflow from WORKFLOWS_DIR. */
  readonly workflowFile?: string;
  readonly overrides: readonly InputOverride[];
  /** A server name from COMFY_URLS: use only that one. */
  readonly server?: string;
  readonly verbose: boolean;
}

/** Every workflow checked against every server. */
export interface CheckArgs {
  readonly mode: 'check';
  readonly server?: string;
  readonly verbose: boolean;
}

/** What the command line asked for. */
export type GenerateArgs = { readonly mode: 'help' } | CheckArgs | GenerationArgs;

export type ArgsResult =
  { readonly ok: true; readonly args: GenerateArgs } | { readonly ok: false; readonly message: string };

interface Collected {
  out?: string;
  image?: string;
  workflowFile?: string;
  server?: string;
  sets: InputOverride[];
  check: boolean;
  verbose: boolean;
  rest: string[];
}

type OptionSpec =
  | { readonly value: false; readonly apply: (collected: Collected) => void }
  | {
      readonly value: true;
      readonly example: string;
      readonly apply: (collected: Collected, value: string) => string | undefined;
    };

const once =
  (key: 'out' | 'image' | 'server', name: string) =>
  (collected: Collected, value: string): string | undefined => {
    if (collected[key] !== undefined) return `${name} is given twice; keep one.`;
    collected[key] = value;
    return undefined;
  };

const OPTIONS: Readonly<Record<string, OptionSpec>> = {
  '--out': { value: true, example: '--out out/', apply: once('out', '--out') },
  '--image': { value: true, example: '--image photo.png', apply: once('image', '--image') },
  '--server': { value: true, example: '--server gpu1', apply: once('server', '--server') },
  '--set': {
    value: true,
    example: '--set KSampler.sampler_name=euler',
    apply: (collected, value) => {
      const parsed = parseOverride(value);
      if (!parsed.ok) return parsed.message;
      collected.sets.push(parsed.override);
      return undefined;
    },
  },
  '--check': { value: false, apply: (collected) => void (collected.check = true) },
  '--verbose': { value: false, apply: (collected) => void (collected.verbose = true) },
};

/** The CLI's own option names, for help and error texts. */
export const CLI_OPTION_NAMES: readonly string[] = [...Object.keys(OPTIONS), '--help'];

/** Parses the arguments after `npm run generate --`. */
export function parseGenerateArgs(argv: readonly string[]): ArgsResult {
  if (argv.some((token) => token === '--help' || token === '-h')) return { ok: true, args: { mode: 'help' } };
  const collected: Collected = { sets: [], check: false, verbose: false, rest: [] };
  for (let index = 0; index < argv.length; index += 1) {
    const token = argv[index]!;
    // npm passes a second `--` through; it separates nothing here.
    if (token === '--') continue;
    const [name, inline] = splitOption(token);
    // `--workflow` names a workflow, as in Discord, or, ending in .json, a file to run.
    const file = workflowFileOf(token, argv[index + 1]);
    if (file !== undefined) {
      if (collected.workflowFile !== undefined) return failure('--workflow is given twice; keep one.');
      collected.workflowFile = file.path;
      index += file.consumed - 1;
      continue;
    }
    const spec = OPTIONS[name];
    if (!spec) {
      collected.rest.push(token);
      continue;
    }
    if (!spec.value) {
      if (inline !== undefined) return failure(`${name} takes no value.`);
      spec.apply(collected);
      continue;
    }
    const value = inline ?? argv[index + 1];
    if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) {
      return failure(`${name} needs a value, e.g. ${spec.example}.`);
    }
    if (inline === undefined) index += 1;
    const problem = spec.apply(collected, value);
    if (problem !== undefined) return failure(problem);
  }
  return finish(collected);
}

function finish(collected: Collected): ArgsResult {
  const flags = parseFlags(collected.rest.join(' '));
  if (!flags.ok) return failure(isKnownFlag(flags.token) ? flags.message : unknownOption(flags.token));
  const verbose = collected.verbose;
  const server = collected.server === undefined ? {} : { server: collected.server };
  if (collected.check) {
    const extra = flags.prompt !== '' || Object.keys(flags.settings).length > 0;
    const options = [collected.image, collected.out, collected.workflowFile].some((value) => value !== undefined);
    if (extra || options || collected.sets.length > 0) {
      return failure('--check takes no prompt and no generation options; run it alone (or with --server).');
    }
    return { ok: true, args: { mode: 'check', verbose, ...server } };
  }
  return {
    ok: true,
    args: {
      mode: 'generate',
      prompt: flags.prompt,
      settings: flags.settings,
      out: collected.out ?? DEFAULT_OUT_DIR,
      overrides: collected.sets,
      verbose,
      ...server,
      ...(collected.image === undefined ? {} : { image: collected.image }),
      ...(collected.workflowFile === undefined ? {} : { workflowFile: collected.workflowFile }),
    },
  };
}

/** `--workflow x.json`, `--wf=dir/x.json`: the path and how many tokens it took; undefined for a workflow name. */
function workflowFileOf(token: string, next: string | undefined): { path: string; consumed: number } | undefined {
  const match = /^(?:--workflow|--wf)(?:=(.*))?$/i.exec(token);
  if (!match) return undefined;
  const value = match[1] ?? next;
  if (value === undefined || !/\.json$/i.test(value)) return undefined;
  return { path: value, consumed: match[1] === undefined ? 2 : 1 };
}

/** `--out=dir` is `--out dir`; only our own options are split, so a prompt word with `=` stays whole. */
function splitOption(token: string): [string, string | undefined] {
  const equals = token.indexOf('=');
  if (!token.startsWith('--') || equals < 0) return [token, undefined];
  const name = token.slice(0, equals);
  return OPTIONS[name] ? [name, token.slice(equals + 1)] : [token, undefined];
}

// parseFlags names the offending word; it is an unknown flag (rather than a bad value) when its name is not one.
function isKnownFlag(token: string): boolean {
  return FLAG_NAMES.includes(`--${token.replace(/^(?:--|\u2014|\u2013)/, '').toLowerCase()}`);
}

function unknownOption(token: string): string {
  return (
    `${token} is not an option I know; the prompt flags are ${FLAG_NAMES.join(', ')} ` +
    `and the options are ${CLI_OPTION_NAMES.join(', ')}.`
  );
}

function failure(message: string): ArgsResult {
  return { ok: false, message };
}

/** The text `--help` prints. */
export const GENERATE_USAGE = `Usage: npm run generate -- "<prompt>" [flags] [options]

Runs a workflow from WORKFLOWS_DIR on a ComfyUI server from COMFY_URLS and writes the images it makes.

Prompt flags (the same as inside a Discord prompt):
${FLAG_EXAMPLES.map((example) => `  ${example}`).join('\n')}

Options:
  --out <dir>                     where to write the files (default ${DEFAULT_OUT_DIR})
  --workflow <file.json>          run an API-format workflow file (with <name>.manifest.json beside it, if any)
                                  instead of one from WORKFLOWS_DIR; --workflow <name> picks one from there
  --image <path>                  an input image: image-to-image (chosen when no workflow is named), or upscaling
  --set <node>.<input>=<value>    override any input of the graph; the node by id or title, the value as JSON
                                  when it parses (30, true, "text"), else as text; repeatable
  --server <name>                 use only this server from COMFY_URLS
  --check                         check every workflow against every server, print the report, and exit
  --verbose                       print the full detail of failures (as does LOG_LEVEL=debug)
  --help                          show this help

Examples:
  npm run generate -- "a red fox in the snow" --wf txt2img --ar 3:2 --seed 42 --n 2 --out out/
  npm run generate -- "the same fox, as a watercolour" --image out/fox.png --denoise 0.5
  npm run generate -- --wf upscale --image out/fox.png
  npm run generate -- "a lighthouse" --set KSampler.sampler_name=dpmpp_2m --set 3.scheduler=karras
  npm run generate -- "a red fox" --workflow ./my-flow.json --set 4.ckpt_name=sd_xl_base_1.0.safetensors
  npm run generate -- --check
`;
