/**
 * Starts a real, throwaway `redis-server` on 127.0.0.1 for the Redis tests: a free port, no persistence, a temporary
 * working directory. Under `setpriv --pdeathsig` the server is killed by the kernel if the test process dies. A
 * persistent one (`appendonly`, as the README tells operators to run it) can be ended and started again on the same
 * port and data, for tests of a Redis restart or crash under a running bot.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { makeTempDir } from './helpers.js';

/** A running redis-server. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** A persistent redis-server that can go away and come back, as operators restart Redis or it crashes. */
export interface RestartableRedisServer extends RedisServer {
  /**
   * Ends the server with `signal` and resolves once it exited: SIGTERM is Redis's own shutdown (it finishes writing
   * its append-only file), SIGKILL a crash (what was written to the file stays, being in the kernel's hands).
   */
  halt(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port with the same data directory; resolves once it accepts connections. */
  resume(): Promise<void>;
  /** Its data directory (`appendonlydir/` holds the append-only file). */
  readonly directory: string;
}

const INSTALL_HINT =
  'redis-server is not on PATH. The Redis store tests need a real Redis: run `apt-get install redis-server` ' +
  '(Debian/Ubuntu) or install Redis another way, then run the tests again.';

/** Whether `redis-server` can be started from PATH. */
export function isRedisInstalled(): boolean {
  return !spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).error;
}

/** Throws a sentence saying how to install Redis when `redis-server` is missing. */
export function assertRedisInstalled(): void {
  if (!isRedisInstalled()) throw new Error(INSTALL_HINT);
}

/**
 * Whether the Redis tests of `suite` run here. A machine with Node alone skips them, saying so in one line; on CI
 * (`CI` set, as every CI service does) they always run, so a missing redis-server fails them with the install hint.
 */
export function shouldRunRedisTests(suite = 'Redis store suite', env: NodeJS.ProcessEnv = process.env): boolean {
  if (isRedisInstalled() || isCi(env)) return true;
  // One line per skipped suite, so a skip is never silent.
  process.stderr.write(`skipped: ${suite} (redis-server not on PATH)\n`);
  return false;
}

function isCi(env: NodeJS.ProcessEnv): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/** A TCP port nothing listens on right now (another process may still take it: callers retry). */
export async function findFreePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** Starts redis-server (on `port`, or any free one) and resolves once it accepts connections. */
export async function startRedisServer(requestedPort?: number): Promise<RedisServer> {
  assertRedisInstalled();
  const directory = await makeTempDir();
  for (let attempt = 1; ; attempt += 1) {
    const port = requestedPort ?? (await findFreePort());
    const child = spawnRedis(port, directory.path);
    const outcome = await waitUntilReady(child);
    if (outcome === 'ready') {
      return { url: `redis://127.0.0.1:${port}`, port, stop: async () => stopServer(child, directory.remove) };
    }
    // The probed port was taken in between; try another (a requested port is not negotiable).
    if (attempt >= 5 || requestedPort !== undefined) {
      await directory.remove();
      throw new Error(`redis-server did not start: ${outcome}`);
    }
  }
}

/**
 * Starts a persistent redis-server (`--appendonly yes --appendfsync everysec`, BullMQ's advice for production) that
 * `halt` and `resume` end and start again. Its port is outside the kernel's range for outgoing connections: a client
 * reconnecting while the server is down must never be given that port as its own (a TCP connection to itself, which
 * would also keep Redis from listening there again).
 */
export async function startRestartableRedisServer(): Promise<RestartableRedisServer> {
  assertRedisInstalled();
  const directory = await makeTempDir();
  const persistence = ['--appendonly', 'yes', '--appendfsync', 'everysec'];
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 1; child === undefined; attempt += 1) {
    port = 20_000 + Math.floor(Math.random() * 12_000);
    const started = spawnRedis(port, directory.path, persistence);
    const outcome = await waitUntilReady(started);
    if (outcome === 'ready') child = started;
    else if (attempt >= 10) {
      await directory.remove();
      throw new Error(`redis-server did not start: ${outcome}`);
    }
  }
  let current: ChildProcess = child;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    directory: directory.path,
    stop: async () => stopServer(current, directory.remove),
    halt: async (signal) => {
      if (current.exitCode !== null || current.signalCode !== null) return;
      const exited = once(current, 'exit');
      current.kill(signal);
      await exited;
    },
    resume: async () => {
      // The port was free a moment ago and nothing else is given it (see above); a few tries cover a slow release.
      for (let attempt = 1; ; attempt += 1) {
        const started = spawnRedis(port, directory.path, persistence);
        const outcome = await waitUntilReady(started);
        if (outcome === 'ready') return void (current = started);
        if (attempt >= 5) throw new Error(`redis-server did not start again: ${outcome}`);
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    },
  };
}

function spawnRedis(port: number, directory: string, persistence = ['--appendonly', 'no']): ChildProcess {
  const redisArgs = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence];
  redisArgs.push('--dir', directory);
  const hasSetpriv = !spawnSync('setpriv', ['--version'], { stdio: 'ignore' }).error;
  const [command, args] = hasSetpriv
    ? ['setpriv', ['--pdeathsig', 'KILL', '--', 'redis-server', ...redisArgs]]
    : ['redis-server', redisArgs];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // Without setpriv, this is the last line of defence when the test process exits without running afterAll.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  return child;
}

async function waitUntilReady(child: ChildProcess): Promise<'ready' | string> {
  let output = '';
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        // Keep draining its log so a full pipe never blocks the server.
        child.stdout?.resume();
        child.off('exit', onExit);
        resolve('ready');
      }
    };
    const onExit = (code: number | null) => resolve(`exited with ${code}: ${output.slice(-500)}`);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('exit', onExit);
  });
}

async function stopServer(child: ChildProcess, removeDirectory: () => Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const fallback = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(fallback);
  }
  await removeDirectory();
}
