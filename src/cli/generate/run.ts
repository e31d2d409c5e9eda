/**
 * A run of `npm run generate` after its arguments are parsed: `--check` or one generation. Every failure ends here as
 * one sentence on stderr and exit code 1; the detail goes to the logger.
 */
import type { CheckArgs, GenerationArgs } from './args.js';
import { runCheck } from './check.js';
import { EXIT, type GenerateContext } from './context.js';
import { describeFailure } from './failure.js';
import { runGeneration } from './generation.js';

export { EXIT, type GenerateContext } from './context.js';

/** Runs `--check` or a generation; resolves with the process's exit code, never rejects. */
export async function runGenerate(args: CheckArgs | GenerationArgs, context: GenerateContext): Promise<number> {
  try {
    return args.mode === 'check' ? await runCheck(args, context) : await runGeneration(args, context);
  } catch (error) {
    context.logger.error({ err: error }, 'npm run generate failed');
    context.stderr.write(`${describeFailure(error)}\n`);
    return EXIT.failed;
  }
}
