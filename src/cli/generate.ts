/**
 * `npm run generate -- "a red fox in the snow" --ar 3:2 --seed 42 --out out/`: runs a workflow on a ComfyUI server
 * from the command line, with the same flags members use in Discord; `--check` reports which workflows can run where.
 * Needs no Discord token. Exit codes: 0 done, 1 failed, 2 bad command line, 130 cancelled.
 */
import { ConfigError, loadConfig, readEnvironment, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { GENERATE_USAGE, parseGenerateArgs } from './generate/args.js';
import { EXIT, runGenerate } from './generate/run.js';

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseGenerateArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.message}\n`);
    return EXIT.usage;
  }
  const { args } = parsed;
  if (args.mode === 'help') {
    process.stdout.write(GENERATE_USAGE);
    return EXIT.ok;
  }
  let config: Config;
  try {
    config = loadConfig(readEnvironment(), { interactive: false });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return EXIT.failed;
  }
  const cancel = new AbortController();
  // The first Ctrl+C cancels the job on its server; a second one ends the process at once.
  process.once('SIGINT', () => cancel.abort());
  return runGenerate(args, {
    config,
    logger: cliLogger(config, args.verbose),
    stdout: process.stdout,
    stderr: process.stderr,
    interactive: process.stdout.isTTY === true,
    signal: cancel.signal,
  });
}

/** Silent unless asked: the run prints its own sentences, and JSON log lines go to stderr, away from the output. */
function cliLogger(config: Config, verbose: boolean): Logger {
  const debugging = config.log.level === 'debug' || config.log.level === 'trace';
  const level = debugging ? config.log.level : verbose ? 'debug' : 'silent';
  return createLogger({ level, format: 'json', destination: process.stderr });
}

process.exitCode = await main(process.argv.slice(2));
