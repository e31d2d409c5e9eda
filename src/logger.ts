/**
 * The pino logger: JSON for machines, pretty for a person in development, secrets redacted everywhere.
 */
import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths that may carry the bot token or another credential. pino redacts by path, so both the places where we log
 * a token ourselves and the shapes of HTTP requests and errors that carry an `Authorization` header are listed.
 */
const REDACTED_PATHS = [
  'token',
  '*.token',
  'discordToken',
  '*.discordToken',
  'config.discord.token',
  'discord.token',
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  'req.headers.authorization',
  'request.headers.authorization',
  'interactionToken',
  '*.interactionToken',
];

export interface LoggerOptions {
  readonly level: string;
  readonly format: 'json' | 'pretty';
  /** Extra strings to scrub from every line, e.g. the bot token wherever it might appear inside a message. */
  readonly secrets?: readonly string[];
  /** Where to write; defaults to stdout (file descriptor 1). Tests pass a stream to read the lines back. */
  readonly destination?: NodeJS.WritableStream;
  /** The process's name (COMFYCORD_PROCESS_NAME), on every line as `process`: a fleet's logs say who wrote each. */
  readonly processName?: string;
}

/** Creates the root logger; modules take child loggers from it (`logger.child({ module: 'comfy' })`). */
export function createLogger(options: LoggerOptions): Logger {
  const secrets = (options.secrets ?? []).filter((secret) => secret.length >= 8);
  const pinoOptions: pino.LoggerOptions = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError },
    // A token can also hide inside free text (an error message quoting a URL or a header); scrub it there too.
    hooks: { streamWrite: (line) => scrubLine(line, secrets) },
  };
  if (options.processName) pinoOptions.base = { pid: process.pid, hostname: hostname(), process: options.processName };
  if (options.format === 'pretty') {
    const transport = pino.transport({
      target: 'pino-pretty',
      options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' },
    });
    return pino(pinoOptions, transport);
  }
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}

// Interaction and webhook tokens sit in URL paths (`/webhooks/<app id>/<token>/…`); anyone holding one can post as the
// bot for 15 minutes, so they never reach a log line.
const URL_TOKEN = /\b(webhooks|interactions)\/(\d+)\/[A-Za-z0-9_.:-]{20,}/g;

/** Masks every secret and every URL-borne interaction token in a finished log line. */
export function scrubLine(line: string, secrets: readonly string[] = []): string {
  const masked = line.replace(URL_TOKEN, '$1/$2/[redacted]');
  return secrets.reduce((text, secret) => text.split(secret).join('[redacted]'), masked);
}

/**
 * pino's error serializer, minus what must not be logged: discord.js's `DiscordAPIError` carries the request body,
 * files and all (megabytes of image bytes as a JSON array on one line).
 */
function serializeError(error: Error): Record<string, unknown> {
  const serialized: Record<string, unknown> = { ...pino.stdSerializers.err(error) };
  delete serialized.requestBody;
  return serialized;
}

/** A logger that writes nothing, for tests and library use where no logger is given. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
