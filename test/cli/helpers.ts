/**
 * What the CLI tests share: a configuration pointed at emulators, a run of the command in-process that captures its
 * output, a real PNG made with sharp, and the emulator's own output files to compare bytes with.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { parseGenerateArgs } from '../../src/cli/generate/args.js';
import { runGenerate } from '../../src/cli/generate/run.js';
import { loadConfig, type Config } from '../../src/config.js';
import { silentLogger, type Logger } from '../../src/logger.js';

/** The repository's shipped workflows. */
export const SHIPPED_DIR = path.resolve(import.meta.dirname, '../../workflows');

/** The seed demo's workflow (API format, no manifest). */
export const SEED_WORKFLOW = path.resolve(import.meta.dirname, '../fixtures/seed/simple_workflow.json');

/** A stream that keeps what is written to it. */
export class TextSink extends Writable {
  text = '';

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

/** A configuration as `loadConfig` makes it from these variables (shipped workflows unless told otherwise). */
export function cliConfig(env: Record<string, string>): Config {
  return loadConfig({ WORKFLOWS_DIR: SHIPPED_DIR, ...env }, { interactive: false });
}

/** What a run printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Parses `argv` (which must be valid) and runs it in-process, as `generate.ts` would. */
export async function runCli(
  argv: readonly string[],
  config: Config,
  options: { logger?: Logger; interactive?: boolean; signal?: AbortSignal } = {},
): Promise<CliResult> {
  const parsed = parseGenerateArgs(argv);
  if (!parsed.ok) throw new Error(`bad test arguments: ${parsed.message}`);
  if (parsed.args.mode === 'help') throw new Error('runCli does not run --help');
  const stdout = new TextSink();
  const stderr = new TextSink();
  const code = await runGenerate(parsed.args, {
    config,
    logger: options.logger ?? silentLogger(),
    stdout,
    stderr,
    interactive: options.interactive ?? false,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Temporary folders, removed by `removeAll` (call it in afterAll/afterEach). */
export class TempDirs {
  readonly #dirs: string[] = [];

  async make(prefix = 'comfycord-cli-test-'): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), prefix));
    this.#dirs.push(dir);
    return dir;
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.#dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** Writes a real PNG of the given size and returns its path. */
export async function writePng(dir: string, width = 64, height = 48, name = 'input.png'): Promise<string> {
  const file = path.join(dir, name);
  await sharp({ create: { width, height, channels: 3, background: '#3366cc' } })
    .png()
    .toFile(file);
  return file;
}

/** The files in a folder (not recursive), sorted by name. */
export async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort().map((name) => path.join(dir, name));
}

/** The bytes of the file of that name anywhere under the emulator's output folder. */
export async function emulatorOutput(dataDir: string, filename: string): Promise<Buffer> {
  const root = path.join(dataDir, 'output');
  const entries = await readdir(root, { recursive: true });
  const match = entries.find((entry) => path.basename(entry) === filename);
  if (match === undefined) throw new Error(`the emulator wrote no ${filename}`);
  return readFile(path.join(root, match));
}

/** The lines of a text, without the empty last one. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}
