/**
 * A fleet on one machine, as an operator would run it: a real `redis-server` (fresh, on a free 127.0.0.1 port), two
 * ComfyUI emulators, the fake Discord with a guild on each of several shards, and N real comfycord processes started
 * the way `npm start` runs `src/index.ts` (tsx instead of the build), each with its own data directory and its own
 * shard, all on the same `STORE_URL=redis://…`. Processes can be stopped (SIGTERM), killed (SIGKILL) and started
 * again; every one of them is killed, and Redis stopped, by `close()`, also when a test fails. With `FLEET_LOG_DIR`
 * set, `close()` writes each process's whole log there (`process-<index>.log`), for a failure to be read in full.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { startBotChild, type BotChild } from '../e2e/bot-child.js';
import {
  DISCORD_ENVIRONMENT_VARIABLES,
  startFakeDiscord,
  type FakeChannel,
  type FakeDiscord,
  type FakeGuild,
  type FakeUser,
} from '../fakes/discord/index.js';
import { shardOf } from '../fakes/discord/gateway-protocol.js';
import {
  startRedisServer,
  startRestartableRedisServer,
  type RedisServer,
  type RestartableRedisServer,
} from '../store/redis-server.js';

/** How big a fleet to start. */
export interface FleetOptions {
  /** comfycord processes; process i (from 0) connects shard i of `processes`. */
  readonly processes: number;
  /** Guilds, each on a different shard (shards 0, 1, …), each with `membersPerGuild` members. */
  readonly guilds: number;
  readonly membersPerGuild: number;
  /** The emulators' time per sampler step. */
  readonly stepMs: number;
  /** More environment for every process (limits…). */
  readonly env?: Record<string, string>;
  /**
   * `redis` (default): every process on the fleet's redis-server. `embedded`: one process on a SQLite file of its
   * own, as comfycord runs by default, to compare with.
   */
  readonly store?: 'redis' | 'embedded';
  /**
   * `restartable`: a persistent redis-server (append-only file) that the test can end and start again under the
   * running fleet (`fleet.restartableRedis`). Default: a throwaway one.
   */
  readonly redis?: 'throwaway' | 'restartable';
}

/**
 * Runs a process in a pid namespace of its own, as on another host: the others cannot see whether its pid lives, only
 * its lease in Redis. Not pid 1 there (the shell is), so it can still SIGKILL itself at a fault point; killing the
 * `unshare` kills it too. Linux only, as root or with unprivileged user namespaces.
 */
const OWN_PID_SPACE = ['unshare', '--pid', '--fork', '--kill-child', '--', 'sh', '-c', '"$@"; exit $?', 'sh'];

/** A guild of the fleet's Discord with its channel and members. */
export interface FleetGuild {
  readonly guild: FakeGuild;
  readonly channel: FakeChannel;
  readonly members: readonly FakeUser[];
  /** The shard Discord sends its events to. */
  readonly shard: number;
}

/** One comfycord process of the fleet, across its restarts. */
export interface FleetProcess {
  readonly index: number;
  readonly shard: number;
  /** The running (or last) child; replaced by each start. */
  bot: BotChild;
  /** Its working directory (its `data/` is there); a new one at each start, as a new host would have. */
  workDir: string;
  /** Where its `/healthz` and `/metrics` answer, once it listens. */
  healthUrl: string | undefined;
  /** What its earlier starts wrote (a restart replaces `bot`). */
  readonly earlier: string[];
}

/** When an emulator first saw each prompt, by the test's clock (the emulators run in the test process). */
export interface Submission {
  readonly at: number;
  readonly emulator: number;
  readonly promptId: string;
  readonly clientId: string | undefined;
  /** The prompt's text as JSON, to find a job's marker in. */
  readonly text: string;
}

export class Fleet {
  readonly processes: FleetProcess[] = [];
  readonly submissions: Submission[] = [];
  readonly #dirs: string[] = [];
  readonly #seen: number[];
  readonly #watch: NodeJS.Timeout;

  private constructor(
    readonly redis: RedisServer,
    readonly discord: FakeDiscord,
    readonly emulators: readonly Emulator[],
    readonly guilds: readonly FleetGuild[],
    private readonly options: FleetOptions,
  ) {
    this.#seen = emulators.map(() => 0);
    // Stamp each prompt as it arrives: the order jobs reached ComfyUI is what fairness is measured on.
    this.#watch = setInterval(() => this.#stampSubmissions(), 2);
  }

  /** Starts Redis, the emulators, the fake Discord and every process; resolves once each is connected to Discord. */
  static async start(options: FleetOptions): Promise<Fleet> {
    for (const name of DISCORD_ENVIRONMENT_VARIABLES) delete process.env[name];
    const redis = options.redis === 'restartable' ? await startRestartableRedisServer() : await startRedisServer();
    const emulators: Emulator[] = [];
    let discord: FakeDiscord | undefined;
    try {
      for (let index = 0; index < 2; index += 1) emulators.push(await startEmulator({ stepMs: options.stepMs }));
      discord = await startFakeDiscord();
      const guilds = guildsOnShards(discord, options);
      const fleet = new Fleet(redis, discord, emulators, guilds, options);
      try {
        for (let index = 0; index < options.processes; index += 1) {
          const { bot, workDir } = fleet.#spawn(index, index);
          fleet.processes.push({ index, shard: index, bot, workDir, healthUrl: undefined, earlier: [] });
        }
        await Promise.all(fleet.processes.map(async (member) => fleet.waitUntilConnected(member)));
      } catch (error) {
        await fleet.close();
        throw error;
      }
      return fleet;
    } catch (error) {
      await discord?.close();
      await Promise.all(emulators.map(async (emulator) => emulator.close()));
      await redis.stop();
      throw error;
    }
  }

  /** The fleet's redis-server, when it was started `restartable`. */
  get restartableRedis(): RestartableRedisServer {
    if (!('halt' in this.redis)) throw new Error('this fleet was started on a throwaway redis-server');
    return this.redis as RestartableRedisServer;
  }

  /** Every member of every guild, with the guild's channel. */
  get members(): Array<{ user: FakeUser; channel: FakeChannel; guild: FleetGuild }> {
    return this.guilds.flatMap((guild) => guild.members.map((user) => ({ user, channel: guild.channel, guild })));
  }

  /** The processes whose child is running now. */
  get running(): FleetProcess[] {
    return this.processes.filter((member) => isRunning(member.bot));
  }

  /** Everything the processes wrote, for a failure message. */
  get output(): string {
    return this.processes
      .map(
        (member) =>
          `--- process ${member.index}\n${[...member.earlier, member.bot.output.join('')].join('--- restarted\n')}`,
      )
      .join('\n');
  }

  /**
   * Starts process `index` again (after a stop or a kill), on its own shard and a new data directory; `env` adds to the
   * fleet's environment for this start only (a fault point, say). With `ownPidSpace`, it runs in a pid namespace of its
   * own, as on another host (`OWN_PID_SPACE`).
   */
  async restart(
    member: FleetProcess,
    env: Record<string, string> = {},
    { ownPidSpace = false }: { ownPidSpace?: boolean } = {},
  ): Promise<void> {
    if (isRunning(member.bot)) throw new Error(`process ${member.index} is still running`);
    member.earlier.push(member.bot.output.join(''));
    const { bot, workDir } = this.#spawn(member.index, member.shard, env, ownPidSpace ? OWN_PID_SPACE : []);
    member.bot = bot;
    member.workDir = workDir;
    member.healthUrl = undefined;
    await this.waitUntilConnected(member);
  }

  /** SIGTERM: the process drains and exits; resolves with its exit code. */
  async stop(member: FleetProcess): Promise<number | null> {
    member.bot.child.kill('SIGTERM');
    return (await member.bot.exited).code;
  }

  /** SIGKILL, at once. */
  async kill(member: FleetProcess): Promise<void> {
    member.bot.child.kill('SIGKILL');
    await member.bot.exited;
  }

  /**
   * Waits until the process logged that it is connected to Discord (and where its endpoint listens), and that a SIGTERM
   * now stops it cleanly (it handles signals only once its start is over).
   */
  async waitUntilConnected(member: FleetProcess, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = member.bot.output.join('');
      member.healthUrl ??= /"url":"(http:\/\/127\.0\.0\.1:\d+)","msg":"health and metrics endpoint listening"/.exec(
        log,
      )?.[1];
      if (log.includes('"msg":"connected to Discord"') && log.includes('"msg":"running; SIGTERM or SIGINT')) return;
      if (!isRunning(member.bot)) throw new Error(`process ${member.index} exited while starting:\n${log}`);
      if (Date.now() > deadline) throw new Error(`process ${member.index} did not connect in time:\n${log}`);
      await sleep(100);
    }
  }

  /** Polls `probe` until `accept` holds, failing with `detail()` and the processes' logs after `timeoutMs`. */
  async until<T>(
    what: string,
    probe: () => T | Promise<T>,
    accept: (value: T) => boolean,
    timeoutMs = 120_000,
    detail: () => string = () => '',
  ) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (accept(value)) return value;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}\n${detail()}\n${this.output.slice(-20_000)}`);
      }
      await sleep(100);
    }
  }

  /** Kills every process still running, stops the stand-ins and Redis, and removes the data directories. */
  async close(): Promise<void> {
    clearInterval(this.#watch);
    await Promise.all(
      this.processes.filter((member) => isRunning(member.bot)).map(async (member) => this.kill(member)),
    );
    this.#keepLogs(process.env.FLEET_LOG_DIR);
    await this.discord.close();
    await Promise.all(this.emulators.map(async (emulator) => emulator.close()));
    await this.redis.stop();
    await Promise.all(this.#dirs.map(async (dir) => rm(dir, { recursive: true, force: true })));
  }

  #keepLogs(dir: string | undefined): void {
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    for (const member of this.processes) {
      const log = [...member.earlier, member.bot.output.join('')].join('--- restarted\n');
      writeFileSync(path.join(dir, `process-${member.index}.log`), log);
    }
  }

  #spawn(
    index: number,
    shard: number,
    env: Record<string, string> = {},
    prefix: readonly string[] = [],
  ): { bot: BotChild; workDir: string } {
    // A data directory per start, as on separate hosts: nothing passes between processes but Redis.
    const workDir = mkdtempSync(path.join(tmpdir(), `comfycord-fleet-${index}-`));
    this.#dirs.push(workDir);
    const bot = startBotChild(
      workDir,
      {
        DISCORD_TOKEN: this.discord.token,
        DISCORD_APPLICATION_ID: this.discord.applicationId,
        DISCORD_API_URL: this.discord.apiUrl,
        DISCORD_SHARD_COUNT: String(this.options.processes),
        DISCORD_SHARD_IDS: String(shard),
        COMFY_URLS: this.emulators.map((emulator, number) => `emu${number + 1}=${emulator.url}`).join(','),
        STORE_URL: this.options.store === 'embedded' ? `sqlite://${path.join(workDir, 'bot.sqlite')}` : this.redis.url,
        HTTP_PORT: '0',
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        ...this.options.env,
        ...env,
      },
      prefix,
    );
    return { bot, workDir };
  }

  #stampSubmissions(): void {
    const now = Date.now();
    this.emulators.forEach((emulator, number) => {
      for (; this.#seen[number]! < emulator.received.length; this.#seen[number]! += 1) {
        const prompt = emulator.received[this.#seen[number]!]!;
        this.submissions.push({
          at: now,
          emulator: number,
          promptId: prompt.promptId,
          clientId: prompt.clientId,
          text: JSON.stringify(prompt.prompt),
        });
      }
    });
  }
}

/** Makes `options.guilds` guilds, guild i on shard i of `options.processes` (the default guild where it fits). */
function guildsOnShards(discord: FakeDiscord, options: FleetOptions): FleetGuild[] {
  return Array.from({ length: options.guilds }, (_, shard) => {
    const fits = shardOf(discord.guild.id, options.processes) === shard;
    const made = fits
      ? { guild: discord.guild, channel: discord.channel }
      : discord.createGuild(`Guild on shard ${shard}`, discord.owner, { shard: [shard, options.processes] });
    const members = Array.from({ length: options.membersPerGuild }, (_, number) =>
      discord.createUser({ username: `member-${shard}-${number + 1}` }, made.guild),
    );
    return { guild: made.guild, channel: made.channel, members, shard };
  });
}

function isRunning(bot: BotChild): boolean {
  return bot.child.exitCode === null && bot.child.signalCode === null;
}
