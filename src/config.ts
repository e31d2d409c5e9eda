/**
 * The environment, parsed once by one zod schema into a frozen Config.
 *
 * Nothing else in comfycord reads `process.env`: the composition root (and each CLI) calls `loadConfig` and passes the
 * result down. Every problem is reported at once, each naming the variable, what was wrong and an example of a right
 * value, so an operator fixes a bad `.env` in one pass.
 */
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { FAULT_POINTS, type FaultPointName } from './fault-point.js';
import { isNetwork } from './web/webhook-addresses.js';

const DEFAULT_COMFY_URL = 'http://127.0.0.1:8188';
const DEFAULT_STORE_URL = 'sqlite://data/comfycord.sqlite';
const DAY_MS = 24 * 60 * 60 * 1000;
/** More shards than any bot runs (Discord's largest bots run a few thousand), and a bound on the typing. */
const MAX_SHARDS = 65_536;

/** One ComfyUI server: a short name for logs and reports, and its base URL. */
export interface ComfyServerConfig {
  readonly name: string;
  readonly url: string;
}

/** Which of the bot's shards a process connects to the Gateway. */
export interface ShardAssignment {
  /** How many shards the whole bot has (every process says the same). */
  readonly count: number;
  /** This process's shards, each from 0 to count - 1. */
  readonly ids: readonly number[];
}

/** One web API key: whoever presents `key` acts as the member `name`. */
export interface WebApiKey {
  readonly name: string;
  readonly key: string;
}

/** An example of a right value for each variable, shown with every problem so the fix is obvious. */
const EXAMPLES: Record<string, string> = {
  DISCORD_TOKEN: 'DISCORD_TOKEN=MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abc… (Developer Portal → Bot → Reset Token)',
  DISCORD_APPLICATION_ID: 'DISCORD_APPLICATION_ID=1234567890123456789 (Developer Portal → General Information)',
  DISCORD_GUILD_ID: 'DISCORD_GUILD_ID=1234567890123456789',
  DISCORD_API_URL: 'DISCORD_API_URL=https://discord.com/api',
  DISCORD_SHARD_COUNT: "DISCORD_SHARD_COUNT=4 (the whole bot's shards; unset: one shard)",
  DISCORD_SHARD_IDS: 'DISCORD_SHARD_IDS=0,1 (the shards this process connects; unset: every shard)',
  COMFY_URLS: 'COMFY_URLS=http://127.0.0.1:8188 or COMFY_URLS=gpu1=http://10.0.0.5:8188,gpu2=http://10.0.0.6:8188',
  STORE_URL: 'STORE_URL=sqlite://data/comfycord.sqlite or STORE_URL=redis://127.0.0.1:6379',
  LOG_LEVEL: 'LOG_LEVEL=info',
  LOG_FORMAT: 'LOG_FORMAT=auto',
  NODE_ENV: 'NODE_ENV=production',
  WORKFLOWS_DIR: 'WORKFLOWS_DIR=workflows',
  DEFAULT_WORKFLOW: 'DEFAULT_WORKFLOW=txt2img',
  COMFY_STALL_TIMEOUT_SECONDS: 'COMFY_STALL_TIMEOUT_SECONDS=600',
  COMFY_PROMPTS_PER_SERVER: 'COMFY_PROMPTS_PER_SERVER=2',
  COMFY_OUTAGE_TIMEOUT_SECONDS: 'COMFY_OUTAGE_TIMEOUT_SECONDS=120',
  MAX_JOBS_PER_MEMBER: 'MAX_JOBS_PER_MEMBER=2',
  MAX_QUEUE_LENGTH: 'MAX_QUEUE_LENGTH=100',
  MAX_PROMPT_LENGTH: 'MAX_PROMPT_LENGTH=1500',
  MAX_ATTACHMENT_MB: 'MAX_ATTACHMENT_MB=20',
  MAX_IMAGE_MEGAPIXELS: 'MAX_IMAGE_MEGAPIXELS=50',
  MAX_OUTPUT_MB: 'MAX_OUTPUT_MB=100',
  MAX_INPUTS_MB: 'MAX_INPUTS_MB=2048',
  MAX_SHARED_FILE_MB: 'MAX_SHARED_FILE_MB=25',
  INPUT_RETENTION_HOURS: 'INPUT_RETENTION_HOURS=24',
  JOB_RETENTION_DAYS: 'JOB_RETENTION_DAYS=30',
  HISTORY_RETENTION_DAYS: 'HISTORY_RETENTION_DAYS=365',
  ALLOWED_CHANNEL_IDS: 'ALLOWED_CHANNEL_IDS=1234567890123456789,2345678901234567890 (empty: every channel)',
  ALLOWED_ROLE_IDS: 'ALLOWED_ROLE_IDS=1234567890123456789 (empty: every member)',
  REFINE_IGNORE_PREFIX: 'REFINE_IGNORE_PREFIX=//',
  HTTP_HOST: 'HTTP_HOST=127.0.0.1',
  HTTP_PORT: 'HTTP_PORT=9464 (unset: no health and metrics endpoint)',
  WEB_API_KEYS: 'WEB_API_KEYS=alice:3f9c…(16+ characters),ci:8e21… (unset: the web API answers on loopback only)',
  WEB_WEBHOOK_SECRET: 'WEB_WEBHOOK_SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw (base64 of 24+ random bytes)',
  WEB_WEBHOOK_ALLOW: 'WEB_WEBHOOK_ALLOW=hooks.example.com,https://ci.example.org/hooks/',
  WEB_WEBHOOK_PRIVATE_NETWORKS:
    'WEB_WEBHOOK_PRIVATE_NETWORKS=10.1.2.0/24,127.0.0.1 (unset: webhooks reach public addresses only)',
  WEB_PUBLIC_URL: 'WEB_PUBLIC_URL=https://images.example.org (where callers reach the web face; unset: relative URLs)',
  COMFYCORD_PROCESS_NAME: 'COMFYCORD_PROCESS_NAME=bot-eu-1 (unset: host name and pid, like gpu-box-4242)',
  COMFYCORD_FAULT_POINT: 'COMFYCORD_FAULT_POINT=delivery:after-post (testing only; unset in production)',
};

// Every check below carries its own plain message: zod's default wording ("Too small: expected number to be >=0")
// must never reach an operator. `describeIssue` adds the variable's name and its example.

const SNOWFLAKE = /^\d{17,20}$/;
const snowflake = z.string().regex(SNOWFLAKE, 'must be a Discord id, a number of 17 to 20 digits');

/** An empty variable means "not set", as operators expect from `FOO=` in a `.env` file. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), schema.optional());

/** A whole number from `min` to `max` written in decimal digits; the message quotes what was written. */
const wholeNumber = (min: number, max: number) =>
  z.string().transform((text, ctx) => {
    const trimmed = text.trim();
    const value = /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}, not "${text}"` });
    return z.NEVER;
  });

const positiveInt = (fallback: number, max = 1_000_000) =>
  optional(wholeNumber(1, max)).transform((value) => value ?? fallback);

/** One of a few words; the message lists them and quotes what was written. */
const oneOf = <const T extends readonly [string, ...string[]]>(choices: T) =>
  z.string().transform((text, ctx): T[number] => {
    const word = text.trim().toLowerCase();
    if ((choices as readonly string[]).includes(word)) return word;
    ctx.addIssue({ code: 'custom', message: `must be one of ${choices.join(', ')}, not "${text}"` });
    return z.NEVER;
  });

/** A comma-separated list of Discord ids (empty: no restriction); each bad entry is quoted. */
const snowflakeList = optional(z.string()).transform((value, ctx) => {
  const ids = (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  for (const id of ids.filter((candidate) => !SNOWFLAKE.test(candidate))) {
    ctx.addIssue({ code: 'custom', message: `has "${id}", which is not a Discord id (a number of 17 to 20 digits)` });
  }
  return ids;
});

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/** `COMFY_URLS`: `url` or `name=url`, comma-separated; unnamed servers are called comfy1, comfy2, … */
const comfyUrls = optional(z.string()).transform((value, ctx): ComfyServerConfig[] => {
  const entries = (value ?? DEFAULT_COMFY_URL)
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const servers: ComfyServerConfig[] = [];
  for (const [index, entry] of entries.entries()) {
    const match = /^([A-Za-z][\w.-]*)=(.+)$/.exec(entry);
    const name = match?.[1] ?? `comfy${index + 1}`;
    const url = (match?.[2] ?? entry).replace(/\/+$/, '');
    if (!httpUrl.safeParse(url).success) {
      ctx.addIssue({ code: 'custom', message: `has "${entry}", which is not an http:// or https:// URL` });
      continue;
    }
    if (servers.some((server) => server.name === name)) {
      ctx.addIssue({ code: 'custom', message: `uses the server name "${name}" twice` });
      continue;
    }
    servers.push({ name, url });
  }
  if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'lists no server' });
  return servers;
});

/** `WEB_WEBHOOK_ALLOW`: hosts (`hooks.example.com`) or URL prefixes (`https://ci.example.org/hooks/`). */
const webhookAllowList = optional(z.string()).transform((value, ctx) => {
  const entries = (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  for (const entry of entries.filter((candidate) => !/^(https?:\/\/)?[\w.[\]:-]+(\/\S*)?$/.test(candidate))) {
    ctx.addIssue({ code: 'custom', message: `has "${entry}", which is neither a host nor an http(s) URL prefix` });
  }
  return entries;
});

/** `WEB_WEBHOOK_PRIVATE_NETWORKS`: addresses or CIDRs, comma-separated, that webhooks may reach though not public. */
const privateNetworks = optional(z.string()).transform((value, ctx) => {
  const entries = (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  for (const entry of entries.filter((candidate) => !isNetwork(candidate))) {
    ctx.addIssue({
      code: 'custom',
      message: `has "${entry}", which is neither an IP address nor a CIDR like 10.0.0.0/8`,
    });
  }
  return entries;
});

/** `WEB_API_KEYS`: `name:key`, comma-separated; each name is a member of its own for limits and history. */
const webApiKeys = optional(z.string()).transform((value, ctx): WebApiKey[] => {
  const keys: WebApiKey[] = [];
  for (const entry of (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^([A-Za-z][\w.-]{0,31}):(\S{16,})$/.exec(entry);
    if (!match) {
      ctx.addIssue({
        code: 'custom',
        message: `"${entry.split(':')[0]}:…" must be name:key with a key of 16+ characters`,
      });
    } else if (keys.some((key) => key.name === match[1] || key.key === match[2])) {
      ctx.addIssue({ code: 'custom', message: `the key named "${match[1]}" repeats a name or a key` });
    } else keys.push({ name: match[1]!, key: match[2]! });
  }
  return keys;
});

/**
 * `DISCORD_SHARD_IDS`: the shards this process connects, as a comma list of whole numbers. Each entry is checked
 * here; whether they fit `DISCORD_SHARD_COUNT` is `shardProblems`'s question, asked even when other variables fail.
 */
const shardIdList = optional(z.string()).transform((value, ctx) => {
  const ids: number[] = [];
  for (const entry of (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const id = /^\d{1,5}$/.test(entry) ? Number(entry) : Number.NaN;
    if (Number.isNaN(id)) {
      ctx.addIssue({ code: 'custom', message: `has "${entry}", which is not a shard id (a whole number from 0)` });
    } else if (ids.includes(id)) {
      ctx.addIssue({ code: 'custom', message: `lists shard ${id} twice` });
    } else ids.push(id);
  }
  return ids;
});

// The URL itself is not quoted back: a Redis URL may carry a password.
const storeUrl = optional(z.string())
  .transform((value) => value ?? DEFAULT_STORE_URL)
  .refine((value) => /^(sqlite:\/\/.+|redis(s)?:\/\/.+)$/.test(value), 'must start with sqlite:// or redis://');

const environmentSchema = z.object({
  DISCORD_TOKEN: optional(z.string().min(50, 'looks too short to be a bot token (a real one is about 70 characters)')),
  DISCORD_APPLICATION_ID: optional(snowflake),
  DISCORD_GUILD_ID: optional(snowflake),
  DISCORD_API_URL: optional(httpUrl).transform((value) => (value ?? 'https://discord.com/api').replace(/\/+$/, '')),
  DISCORD_SHARD_COUNT: optional(wholeNumber(1, MAX_SHARDS)),
  DISCORD_SHARD_IDS: shardIdList,
  COMFY_URLS: comfyUrls,
  STORE_URL: storeUrl,
  LOG_LEVEL: optional(oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).transform(
    (value) => value ?? 'info',
  ),
  LOG_FORMAT: optional(oneOf(['auto', 'json', 'pretty'])).transform((value) => value ?? 'auto'),
  NODE_ENV: optional(z.string()),
  WORKFLOWS_DIR: optional(z.string()).transform((value) => value ?? 'workflows'),
  DEFAULT_WORKFLOW: optional(
    z.string().regex(/^[\w.-]+$/, 'must be a workflow name: letters, digits, dots, dashes and underscores'),
  ),
  COMFY_STALL_TIMEOUT_SECONDS: positiveInt(600, 86_400),
  COMFY_PROMPTS_PER_SERVER: positiveInt(2, 64),
  COMFY_OUTAGE_TIMEOUT_SECONDS: positiveInt(120, 86_400),
  MAX_JOBS_PER_MEMBER: positiveInt(2, 1000),
  MAX_QUEUE_LENGTH: positiveInt(100, 100_000),
  MAX_PROMPT_LENGTH: positiveInt(1500, 100_000),
  MAX_ATTACHMENT_MB: positiveInt(20, 500),
  MAX_IMAGE_MEGAPIXELS: positiveInt(50, 1000),
  MAX_OUTPUT_MB: positiveInt(100, 4096),
  MAX_INPUTS_MB: positiveInt(2048),
  // Redis keeps a string of at most 512 MB.
  MAX_SHARED_FILE_MB: positiveInt(25, 512),
  INPUT_RETENTION_HOURS: positiveInt(24, 8760),
  JOB_RETENTION_DAYS: positiveInt(30, 3650),
  HISTORY_RETENTION_DAYS: positiveInt(365, 3650),
  ALLOWED_CHANNEL_IDS: snowflakeList,
  ALLOWED_ROLE_IDS: snowflakeList,
  REFINE_IGNORE_PREFIX: optional(z.string().max(10, 'must be at most 10 characters')).transform(
    (value) => value ?? '//',
  ),
  HTTP_HOST: optional(z.string()).transform((value) => value?.trim() || '127.0.0.1'),
  HTTP_PORT: optional(wholeNumber(0, 65_535)),
  WEB_API_KEYS: webApiKeys,
  WEB_WEBHOOK_SECRET: optional(
    z.string().regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be whsec_ followed by base64 of 24 or more bytes'),
  ),
  WEB_WEBHOOK_ALLOW: webhookAllowList,
  WEB_WEBHOOK_PRIVATE_NETWORKS: privateNetworks,
  // Behind a proxy the endpoint's own address is not what callers use: this one is, in answers and webhooks.
  WEB_PUBLIC_URL: optional(httpUrl).transform((value) => value?.replace(/\/+$/, '')),
  COMFYCORD_PROCESS_NAME: optional(
    z.string().regex(/^[\w.-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores'),
  ),
  // A testing aid (src/fault-point.ts): the process kills itself at this point. Never set it in production.
  COMFYCORD_FAULT_POINT: optional(oneOf(FAULT_POINTS)),
});

/** Every environment variable comfycord reads (the README's table and `.env.example` list each one). */
export const CONFIG_VARIABLES: readonly string[] = Object.freeze(Object.keys(environmentSchema.shape));

type Environment = z.infer<typeof environmentSchema>;

/** The whole configuration of a comfycord process. */
export interface Config {
  readonly discord: {
    readonly token: string | undefined;
    readonly applicationId: string | undefined;
    readonly guildId: string | undefined;
    readonly apiUrl: string;
    /**
     * The shards this process connects (`ids`) out of the bot's `count`; undefined when not configured: one process,
     * one shard, as discord.js does by default.
     */
    readonly shards: ShardAssignment | undefined;
  };
  readonly comfy: {
    readonly servers: readonly ComfyServerConfig[];
    readonly stallTimeoutMs: number;
    readonly promptsPerServer: number;
    readonly outageTimeoutMs: number;
  };
  readonly storeUrl: string;
  readonly log: { readonly level: string; readonly format: 'json' | 'pretty' };
  readonly workflows: { readonly dir: string; readonly defaultWorkflow: string | undefined };
  readonly limits: {
    readonly jobsPerMember: number;
    readonly queueLength: number;
    readonly promptLength: number;
    readonly attachmentBytes: number;
    /** Width × height above which a member's image is refused before it is decoded. */
    readonly imagePixels: number;
    /** The largest ComfyUI output downloaded. */
    readonly outputBytes: number;
    /** The largest file the processes of a fleet pass between them through Redis (a member's image, a web output). */
    readonly sharedFileBytes: number;
    readonly allowedChannelIds: readonly string[];
    readonly allowedRoleIds: readonly string[];
  };
  /** How long what the bot keeps is kept, and how much of it (disk use stays bounded). */
  readonly retention: {
    readonly jobsMs: number;
    readonly historyMs: number;
    readonly inputsMs: number;
    readonly inputsBytes: number;
  };
  readonly refineIgnorePrefix: string;
  readonly http: { readonly host: string; readonly port: number | undefined };
  readonly web: {
    readonly apiKeys: readonly WebApiKey[];
    readonly webhookSecret: string | undefined;
    /** Hosts (`hooks.example.com`) or URL prefixes (`https://ci.example.org/hooks/`) webhooks may be sent to. */
    readonly webhookAllow: readonly string[];
    /** Private, loopback or link-local networks webhooks may reach all the same (`127.0.0.1`, `10.0.0.0/8`). */
    readonly webhookPrivateNetworks: readonly string[];
    /** Where callers reach the web face (`https://images.example.org`), no trailing slash; absolute URLs then. */
    readonly publicUrl: string | undefined;
  };
  /** The name this process goes by in every log line and on the fleet's roll call (`<host>-<pid>` by default). */
  readonly processName: string;
  /** Testing only: where the process kills itself (src/fault-point.ts); undefined in production. */
  readonly faultPoint: FaultPointName | undefined;
}

/** A configuration a process cannot start with; `message` lists every problem, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    const heading = problems.length === 1 ? 'one problem; fix it' : `${problems.length} problems; fix them`;
    const list = problems.map((problem) => `  - ${problem}`).join('\n');
    super(`The configuration has ${heading} and start again:\n${list}`);
  }
}

export interface LoadConfigOptions {
  /** The bot and deploy-commands need Discord credentials; the emulator, the CLI and the tests do not. */
  readonly requireDiscord?: boolean;
  /** Whether a person watches the output (pretty logs in `auto` mode). Defaults to stdout being a terminal. */
  readonly interactive?: boolean;
}

/** Parses an environment (normally `readEnvironment()`) into a frozen Config, or throws a ConfigError. */
export function loadConfig(env: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  const parsed = environmentSchema.safeParse(env);
  // Missing credentials are checked on the raw environment, so a bad value elsewhere never hides them.
  const problems = options.requireDiscord ? missingDiscordCredentials(env) : [];
  if (!parsed.success) problems.push(...parsed.error.issues.map(describeIssue));
  problems.push(...shardProblems(env));
  if (!parsed.success || problems.length > 0) throw new ConfigError(sortByVariable(problems));
  return deepFreeze(toConfig(parsed.data, options));
}

/** `process.env` over the `.env` file in the working directory, when there is one (the environment wins). */
export function readEnvironment(
  processEnv: Record<string, string | undefined> = process.env,
  dotenvPath = '.env',
): Record<string, string | undefined> {
  if (!existsSync(dotenvPath)) return { ...processEnv };
  return { ...parseEnv(readFileSync(dotenvPath, 'utf8')), ...processEnv };
}

const REQUIRED_FOR_DISCORD: Record<string, string> = {
  DISCORD_TOKEN: 'the bot needs it to connect to Discord',
  DISCORD_APPLICATION_ID: 'the bot needs it to register and answer its commands',
};

function missingDiscordCredentials(env: Record<string, string | undefined>): string[] {
  return Object.entries(REQUIRED_FOR_DISCORD)
    .filter(([variable]) => !env[variable]?.trim())
    .map(([variable, why]) => `${variable} is not set: ${why}. Example: ${EXAMPLES[variable]}`);
}

/**
 * What is wrong between `DISCORD_SHARD_IDS` and `DISCORD_SHARD_COUNT`, read from the raw environment so the problems
 * are listed even when another variable fails. Each entry's own form is the schema's to check.
 */
function shardProblems(env: Record<string, string | undefined>): string[] {
  const idsText = env.DISCORD_SHARD_IDS?.trim() ?? '';
  const countText = env.DISCORD_SHARD_COUNT?.trim() ?? '';
  if (idsText === '') return [];
  if (countText === '') {
    return [
      `DISCORD_SHARD_IDS is set but DISCORD_SHARD_COUNT is not: shard ids mean something only out of the bot's ` +
        `total. Example: ${EXAMPLES.DISCORD_SHARD_COUNT}`,
    ];
  }
  const count = /^\d+$/.test(countText) ? Number(countText) : Number.NaN;
  if (!Number.isInteger(count) || count < 1) return [];
  const outside = [
    ...new Set(
      idsText
        .split(',')
        .map((part) => part.trim())
        .filter((part) => /^\d{1,5}$/.test(part) && Number(part) >= count),
    ),
  ];
  return outside.map(
    (id) =>
      `DISCORD_SHARD_IDS has shard ${id}, but with DISCORD_SHARD_COUNT=${count} the shards are 0 to ${count - 1}. ` +
      `Example: ${EXAMPLES.DISCORD_SHARD_IDS}`,
  );
}

/** One sentence per problem: the variable, what is wrong in plain words, and an example of a right value. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const variable = String(issue.path[0] ?? 'The environment');
  const example = EXAMPLES[variable];
  return `${variable} ${plainReason(issue)}.${example ? ` Example: ${example}` : ''}`;
}

/** zod's own English wording, which must never reach an operator (every check here words its own message). */
const ZOD_WORDING = /^(Invalid|Too (small|big)|Unrecognized)\b/;

function plainReason(issue: z.core.$ZodIssue): string {
  return ZOD_WORDING.test(issue.message) ? 'has a value comfycord cannot read' : issue.message;
}

function sortByVariable(problems: string[]): string[] {
  const order = Object.keys(EXAMPLES);
  const rank = (problem: string) => {
    const index = order.indexOf(problem.split(' ')[0] ?? '');
    return index === -1 ? order.length : index;
  };
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => rank(a.problem) - rank(b.problem) || a.index - b.index)
    .map(({ problem }) => problem);
}

function toConfig(env: Environment, options: LoadConfigOptions): Config {
  const interactive = options.interactive ?? process.stdout.isTTY === true;
  const pretty =
    env.LOG_FORMAT === 'pretty' || (env.LOG_FORMAT === 'auto' && interactive && env.NODE_ENV !== 'production');
  return {
    discord: {
      token: env.DISCORD_TOKEN,
      applicationId: env.DISCORD_APPLICATION_ID,
      guildId: env.DISCORD_GUILD_ID,
      apiUrl: env.DISCORD_API_URL,
      shards: shardAssignment(env.DISCORD_SHARD_COUNT, env.DISCORD_SHARD_IDS),
    },
    comfy: {
      servers: env.COMFY_URLS,
      stallTimeoutMs: env.COMFY_STALL_TIMEOUT_SECONDS * 1000,
      promptsPerServer: env.COMFY_PROMPTS_PER_SERVER,
      outageTimeoutMs: env.COMFY_OUTAGE_TIMEOUT_SECONDS * 1000,
    },
    storeUrl: env.STORE_URL,
    log: { level: env.LOG_LEVEL, format: pretty ? 'pretty' : 'json' },
    workflows: { dir: env.WORKFLOWS_DIR, defaultWorkflow: env.DEFAULT_WORKFLOW },
    limits: {
      jobsPerMember: env.MAX_JOBS_PER_MEMBER,
      queueLength: env.MAX_QUEUE_LENGTH,
      promptLength: env.MAX_PROMPT_LENGTH,
      attachmentBytes: env.MAX_ATTACHMENT_MB * 1024 * 1024,
      imagePixels: env.MAX_IMAGE_MEGAPIXELS * 1_000_000,
      outputBytes: env.MAX_OUTPUT_MB * 1024 * 1024,
      sharedFileBytes: env.MAX_SHARED_FILE_MB * 1024 * 1024,
      allowedChannelIds: env.ALLOWED_CHANNEL_IDS,
      allowedRoleIds: env.ALLOWED_ROLE_IDS,
    },
    retention: {
      jobsMs: env.JOB_RETENTION_DAYS * DAY_MS,
      historyMs: env.HISTORY_RETENTION_DAYS * DAY_MS,
      inputsMs: env.INPUT_RETENTION_HOURS * 60 * 60 * 1000,
      inputsBytes: env.MAX_INPUTS_MB * 1024 * 1024,
    },
    refineIgnorePrefix: env.REFINE_IGNORE_PREFIX,
    http: { host: env.HTTP_HOST, port: env.HTTP_PORT },
    web: {
      apiKeys: env.WEB_API_KEYS,
      webhookSecret: env.WEB_WEBHOOK_SECRET,
      webhookAllow: env.WEB_WEBHOOK_ALLOW,
      webhookPrivateNetworks: env.WEB_WEBHOOK_PRIVATE_NETWORKS,
      publicUrl: env.WEB_PUBLIC_URL,
    },
    processName: env.COMFYCORD_PROCESS_NAME ?? `${hostname()}-${process.pid}`,
    faultPoint: env.COMFYCORD_FAULT_POINT,
  };
}

/** A count alone means every shard in this process; ids without a count never get here (`shardProblems`). */
function shardAssignment(count: number | undefined, ids: readonly number[]): ShardAssignment | undefined {
  if (count === undefined) return undefined;
  return { count, ids: ids.length > 0 ? ids : Array.from({ length: count }, (_, id) => id) };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
