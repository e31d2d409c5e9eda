/**
 * `npm start`'s entry point as a real child process, for tests that stop or kill the bot: run from its own data
 * directory (so its `data/results` and `data/inputs` are its own), against the emulator and the fake Discord, with
 * only the environment it is given. Its log is kept for the failure message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = path.join(REPO_ROOT, 'src', 'index.ts');
// What `--import tsx` loads, named by path: the bot runs from its data directory, where `tsx` does not resolve.
const TSX = pathToFileURL(path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** A bot process and how it ended. */
export interface BotChild {
  readonly child: ChildProcess;
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote (its JSON log and any crash report). */
  readonly output: string[];
}

/**
 * Starts the bot in `workDir` with `env` (PATH is added); kill it with `child.kill`. `prefix` runs it under another
 * command (`unshare`, for a pid namespace of its own).
 */
export function startBotChild(workDir: string, env: Record<string, string>, prefix: readonly string[] = []): BotChild {
  const [command, ...args] = [...prefix, process.execPath, '--import', TSX, ENTRY];
  const child = spawn(command!, args, {
    env: { PATH: process.env.PATH, WORKFLOWS_DIR: path.join(REPO_ROOT, 'workflows'), ...env },
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output };
}
