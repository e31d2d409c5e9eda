/**
 * One generation from the command line: plan it as the bot would, choose a server, upload the input image, bind,
 * apply the `--set` overrides, submit, follow, download and write the files.
 */
import type { ComfyJob, JobOutcome } from '../../comfy/index.js';
import { UserFacingError } from '../../errors.js';
import { fileSpellingsOf, respellFiles } from '../../workflows/file-spellings.js';
import { bindForServer } from '../../jobs/job-binding.js';
import { settingRanges } from '../../workflows/server-ranges.js';
import { downloadOutputs, selectOutputs } from '../../jobs/job-files.js';
import { describeNode, type ApiGraph } from '../../workflows/graph.js';
import type { AppliedSettings, ObjectInfo, Workflow } from '../../workflows/index.js';
import type { GenerationArgs } from './args.js';
import { chooseServerFor, openClient, selectServers, type ServerChoice } from './choose-server.js';
import { EXIT, type GenerateContext } from './context.js';
import { summariseNodeErrors } from './failure.js';
import { readInputImage, uploadInputImage, type LocalImage } from './input-image.js';
import { writeOutputFiles } from './output-files.js';
import { applyOverrides, overrideWorkflow } from './overrides.js';
import { loadWorkflowFile, loadWorkflowsDir, planCliGeneration, type CliPlan } from './plan.js';
import { ProgressPrinter } from './progress.js';

/** Runs one generation; resolves with the exit code, throws what should be reported as a failure. */
export async function runGeneration(args: GenerationArgs, context: GenerateContext): Promise<number> {
  const { config, logger } = context;
  const workflows =
    args.workflowFile === undefined
      ? await loadWorkflowsDir(config, logger)
      : await loadWorkflowFile(args.workflowFile);
  const fromFile = workflows.list()[0];
  const planned =
    args.workflowFile === undefined || !fromFile
      ? args
      : { ...args, settings: { ...args.settings, workflow: fromFile.name } };
  const plan = planCliGeneration(planned, workflows, config);
  const image = args.image === undefined ? undefined : await readInputImage(args.image);
  const servers = selectServers(config, args.server);
  // `--set` is written in before the workflow is checked on a server, so it can rescue a graph (a checkpoint the
  // file names but the server lacks); a `--set` that fits the requested workflow nowhere is an error at once.
  const prepare = (workflow: Workflow, objectInfo: ObjectInfo): Workflow | undefined => {
    const overridden = overrideWorkflow(workflow, args.overrides, objectInfo);
    if (overridden.ok) return overridden.workflow;
    if (workflow.name === plan.workflow.name) throw new UserFacingError('cli-bad-set', overridden.message);
    return undefined;
  };
  const choice = await chooseServerFor(
    workflows,
    plan.workflow,
    servers,
    (server) => openClient(config, server, logger),
    prepare,
  );
  try {
    const prepared = await prepareGraph(args, plan, choice, image, workflows);
    if (context.signal?.aborted) {
      context.stderr.write('Cancelled before the job was submitted.\n');
      return EXIT.cancelled;
    }
    return await submitAndSave(args, context, choice, prepared, describeStart(plan, choice, prepared.applied));
  } finally {
    await choice.client.close();
  }
}

/** Submits the graph, follows it to its end and writes its files. */
async function submitAndSave(
  args: GenerationArgs,
  context: GenerateContext,
  choice: ServerChoice,
  prepared: { graph: ApiGraph; applied: AppliedSettings },
  startLine: string,
): Promise<number> {
  const printer = new ProgressPrinter(context.stdout, context.interactive === true, (id) =>
    describeNode(prepared.graph, id),
  );
  printer.line(startLine);
  const startedAt = Date.now();
  const outputNodes = choice.workflow.outputs.map((output) => output.nodeId);
  const job = await choice.client.submit(prepared.graph, { outputs: outputNodes });
  printer.line(`Submitted to ${choice.config.name} as prompt ${job.promptId}.`);
  const dropped = summariseNodeErrors(job.warnings);
  if (dropped !== undefined) printer.line(`Warning: the server dropped some outputs at validation: ${dropped}.`);
  const outcome = await follow(job, printer, context.signal);
  if (outcome.status === 'interrupted' && context.signal?.aborted) {
    context.stderr.write('Cancelled; the job was removed from the server.\n');
    return EXIT.cancelled;
  }
  if (outcome.status !== 'succeeded') throw outcome.error;
  const files = await downloadOutputs(choice.client, selectOutputs(outcome.outputs, outputNodes));
  if (files.length === 0) throw new UserFacingError('cli-no-files', `${choice.workflow.name} produced no files.`);
  // Texts (a caption, an answer) are printed; files are written.
  for (const file of files) {
    if (file.text !== undefined) printer.line(describeText(describeNode(prepared.graph, file.node), file.text));
  }
  const saved = files.filter((file) => file.text === undefined);
  for (const file of await writeFiles(args.out, saved)) printer.line(`Wrote ${file}`);
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  printer.line(`Done in ${seconds} s on ${choice.config.name}${seedNote(prepared.applied)}.`);
  return EXIT.ok;
}

async function prepareGraph(
  args: GenerationArgs,
  plan: CliPlan,
  choice: ServerChoice,
  image: LocalImage | undefined,
  workflows: Parameters<typeof bindForServer>[0],
): Promise<{ graph: ApiGraph; applied: AppliedSettings }> {
  const imageName = image === undefined ? undefined : await uploadInputImage(choice.client, image);
  const ranges = settingRanges(choice.workflow, choice.objectInfo);
  const spellings = fileSpellingsOf(choice.objectInfo);
  const job = { settings: plan.settings, applied: {} };
  const bound = bindForServer(workflows, choice.workflow, job, imageName, ranges, spellings);
  const overridden = applyOverrides(bound.graph, args.overrides, choice.objectInfo);
  if (!overridden.ok) throw new UserFacingError('cli-bad-set', overridden.message);
  // A --set value is written as typed; the server is sent its own spelling of a file, as the bound settings are.
  return { graph: respellFiles(overridden.graph, spellings), applied: bound.applied };
}

async function follow(job: ComfyJob, printer: ProgressPrinter, signal: AbortSignal | undefined): Promise<JobOutcome> {
  printer.follow(job);
  const cancel = () => void job.cancel().catch(() => undefined);
  signal?.addEventListener('abort', cancel, { once: true });
  // Ctrl+C while the prompt was being submitted: it is queued now, so cancel it there.
  if (signal?.aborted) cancel();
  try {
    return await job.done;
  } finally {
    signal?.removeEventListener('abort', cancel);
    printer.close();
  }
}

async function writeFiles(dir: string, files: Parameters<typeof writeOutputFiles>[1]): Promise<string[]> {
  try {
    return await writeOutputFiles(dir, files);
  } catch (error) {
    throw new UserFacingError('cli-cannot-write', `Cannot write the files to ${dir}: ${String(error)}.`, {
      cause: error,
    });
  }
}

/** `txt2img on comfy1: 768×512, seed 42, 25 steps, cfg 7` (and the fallback, when one is used). */
function describeStart(plan: CliPlan, choice: ServerChoice, applied: AppliedSettings): string {
  const parts: string[] = [];
  if (applied.width !== undefined && applied.height !== undefined) parts.push(`${applied.width}×${applied.height}`);
  if (applied.count !== undefined && applied.count > 1) parts.push(`${applied.count} images`);
  if (applied.seed !== undefined) parts.push(`seed ${applied.seed}`);
  if (applied.steps !== undefined) parts.push(`${applied.steps} steps`);
  if (applied.cfg !== undefined) parts.push(`cfg ${applied.cfg}`);
  if (applied.denoise !== undefined) parts.push(`denoise ${applied.denoise}`);
  if (applied.image !== undefined) parts.push(`image ${applied.image}`);
  const fallback =
    choice.workflow.name === plan.workflow.name ? '' : ` (instead of ${plan.workflow.name}, which no server can run)`;
  const details = parts.length > 0 ? `: ${parts.join(', ')}` : '';
  return `${choice.workflow.name}${fallback} on ${choice.config.name}${details}.`;
}

/** `Text from node 8 (PreviewAny): a red fox`; the lines of a longer text follow, indented. */
function describeText(node: string, text: string): string {
  const [first = '', ...rest] = text.split(/\r?\n/);
  return [`Text from ${node}: ${first}`, ...rest.map((line) => `  ${line}`)].join('\n');
}

function seedNote(applied: AppliedSettings): string {
  return applied.seed === undefined ? '' : ` (seed ${applied.seed})`;
}
