/**
 * `npm run generate -- --check`: every workflow (ready or disabled, with the reasons), what comfycord read in it (where
 * each setting goes, ranges, outputs), checked against every configured server, so an operator sees what is wrong
 * before any member's job does. Fails when a workflow cannot run anywhere,
 * not even through its fallback chain.
 */
import { chooseWorkflow, validateWorkflow, type LoadedWorkflows, type ObjectInfo } from '../../workflows/index.js';
import type { CheckArgs } from './args.js';
import { describeServerOutputs, describeWorkflowDetails } from './check-details.js';
import { openClient, reachServer, selectServers } from './choose-server.js';
import { EXIT, type GenerateContext } from './context.js';
import { loadWorkflowsDir } from './plan.js';

/** One configured server as the check saw it: its object_info, or why there is none. */
export interface CheckedServer {
  readonly name: string;
  readonly url: string;
  readonly objectInfo?: ObjectInfo;
  readonly problem?: string;
  /** True when the server answered, even if its answer could not be used. */
  readonly answered?: boolean;
}

/** The report's lines, and the workflows that can run nowhere. */
export interface CheckReport {
  readonly lines: readonly string[];
  readonly unusable: readonly string[];
  /** True when there is at least one workflow and every one can run somewhere. */
  readonly ok: boolean;
}

/** Runs the check and prints the report; 0 when every workflow can run somewhere, 1 otherwise. */
export async function runCheck(args: CheckArgs, context: GenerateContext): Promise<number> {
  const { config, logger } = context;
  const workflows = await loadWorkflowsDir(config, logger);
  const servers: CheckedServer[] = [];
  for (const server of selectServers(config, args.server)) {
    const result = await reachServer(openClient(config, server, logger), server);
    if ('problem' in result) {
      servers.push({ ...server, problem: result.problem, answered: result.answered });
      continue;
    }
    await result.reached.client.close();
    servers.push({ ...server, objectInfo: result.reached.objectInfo });
  }
  const report = buildCheckReport(config.workflows.dir, workflows, servers);
  context.stdout.write(`${report.lines.join('\n')}\n`);
  return report.ok ? EXIT.ok : EXIT.failed;
}

/** Builds the report from what was loaded and what each server said. Pure. */
export function buildCheckReport(
  dir: string,
  workflows: LoadedWorkflows,
  servers: readonly CheckedServer[],
): CheckReport {
  const lines = [`Workflows in ${dir}:`];
  for (const entry of workflows.report) {
    const status = entry.status === 'ready' ? 'ready' : `disabled: ${entry.reasons.join(' ')}`;
    lines.push(`  ${entry.name} (${entry.file}): ${status}`);
    for (const note of entry.notes) lines.push(`    note: ${note}`);
  }
  lines.push('Servers:');
  for (const server of servers) {
    const status = server.objectInfo
      ? `answered, ${server.objectInfo.nodes.size} node types`
      : (server.problem ?? 'did not answer');
    lines.push(`  ${server.name} (${server.url}): ${status}`);
  }
  const unusable = workflows.report.filter((entry) => entry.status === 'disabled').map((entry) => entry.name);
  for (const workflow of workflows.list()) {
    lines.push(`${workflow.name}:`, ...describeWorkflowDetails(workflow));
    const usable = checkOneWorkflow(workflows, workflow.name, servers, lines);
    if (!usable) unusable.push(workflow.name);
  }
  lines.push(summarise(dir, workflows.report.length, unusable));
  return { lines, unusable, ok: workflows.report.length > 0 && unusable.length === 0 };
}

/** Adds one workflow's lines; true when it can run somewhere (itself or a fallback). */
function checkOneWorkflow(
  workflows: LoadedWorkflows,
  name: string,
  servers: readonly CheckedServer[],
  lines: string[],
): boolean {
  const workflow = workflows.get(name)!;
  let usable = false;
  for (const server of servers) {
    const { objectInfo } = server;
    if (!objectInfo) {
      const why = server.answered ? 'its node list could not be used' : 'the server did not answer';
      lines.push(`  ${server.name}: not checked (${why})`);
      continue;
    }
    const validation = validateWorkflow(workflow, objectInfo, server.name);
    lines.push(`  ${server.name}: ${validation.ok ? 'ok' : validation.problems.join(' ')}`);
    lines.push(...describeServerOutputs(workflow, objectInfo));
    for (const warning of validation.warnings) lines.push(`    warning: ${warning}`);
    if (validation.ok) {
      usable = true;
      continue;
    }
    const fallback = chooseWorkflow(
      workflows,
      name,
      (candidate) => validateWorkflow(candidate, objectInfo, server.name).ok,
    );
    if (fallback) {
      usable = true;
      lines.push(`    runs as its fallback ${fallback.name} there`);
    }
  }
  return usable;
}

function summarise(dir: string, total: number, unusable: readonly string[]): string {
  if (total === 0) return `There is no workflow in ${dir}; put ComfyUI API-format exports there.`;
  if (unusable.length === 0) return `All ${total} workflows can run on at least one server.`;
  if (unusable.length === total) return `None of the ${total} workflows can run on any server.`;
  return `${unusable.length} of ${total} workflows cannot run on any server: ${unusable.join(', ')}.`;
}
