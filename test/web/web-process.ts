/**
 * `npm run web` as a real process, for the tests that kill it: `src/web/main.ts` (minus the build) run from its own
 * work directory (so its `data/` is its own) with only the environment it is given, on a port the system picks. It
 * says where it listens on stdout, which is how the test finds it again after each start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = path.join(REPO_ROOT, 'src', 'web', 'main.ts');
// What `--import tsx` loads, named by path: the process runs from its work directory, where `tsx` does not resolve.
const TSX = pathToFileURL(path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** A started web process. */
export interface WebChild {
  readonly child: ChildProcess;
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote (its JSON log and any crash report). */
  readonly output: string[];
  /** Where it answers, once `ready` resolved. */
  url: string;
  /** Resolves once it says where it listens; rejects if it exits first. */
  readonly ready: Promise<string>;
}

/** Starts `npm run web`'s entry point in `workDir` with `env` (PATH and the shipped workflows are added). */
export function startWebChild(workDir: string, env: Record<string, string>): WebChild {
  const child = spawn(process.execPath, ['--import', TSX, ENTRY], {
    env: { PATH: process.env.PATH, WORKFLOWS_DIR: path.join(REPO_ROOT, 'workflows'), HTTP_PORT: '0', ...env },
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const web: WebChild = {
    child,
    exited,
    output,
    url: '',
    ready: new Promise<string>((resolve, reject) => {
      const read = (chunk: Buffer) => {
        output.push(chunk.toString());
        const found = /comfycord web: open (http:\/\/[^\s/]+)\//.exec(output.join(''));
        if (found && web.url === '') {
          web.url = found[1]!;
          resolve(web.url);
        }
      };
      child.stdout?.on('data', read);
      child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
      void exited.then((how) =>
        reject(new Error(`the web process exited first (${JSON.stringify(how)})\n${output.join('')}`)),
      );
    }),
  };
  // A process killed by a fault point before it was ready is what some tests want: no unhandled rejection then.
  web.ready.catch(() => undefined);
  return web;
}
