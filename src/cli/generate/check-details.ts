/**
 * What `--check` says comfycord read in a workflow, so an operator sees it without running a job: where each setting
 * goes (which node input), its default and range, and which nodes are posted and what they produce.
 */
import { describeNode, formatTarget } from '../../workflows/graph.js';
import {
  acceptedSettings,
  describeSetting,
  findOutputNodes,
  type ObjectInfo,
  type SettingSpec,
  type Workflow,
} from '../../workflows/index.js';

/** The lines under a workflow's heading, before the servers' verdicts. */
export function describeWorkflowDetails(workflow: Workflow): string[] {
  const source =
    workflow.source === 'manifest'
      ? 'settings from its manifest, the rest inferred'
      : 'everything inferred from the graph';
  const lines = [`  ${workflow.kind}, ${source}:`];
  for (const spec of acceptedSettings(workflow)) lines.push(`    ${describeTargets(workflow, spec)}`);
  if (workflow.outputs.length === 0) {
    lines.push("  outputs: none known by class; each server's output nodes decide");
  }
  for (const output of workflow.outputs) {
    lines.push(`  output: ${describeNode(workflow.graph, output.nodeId)}: ${output.produces}`);
  }
  return lines;
}

/** For a workflow whose outputs no class told: the output nodes one server reports, as it will run them. */
export function describeServerOutputs(workflow: Workflow, objectInfo: ObjectInfo): string[] {
  if (workflow.outputs.length > 0) return [];
  return findOutputNodes(workflow.graph, objectInfo).map(
    (output) => `    output there: ${describeNode(workflow.graph, output.nodeId)}: ${output.produces}`,
  );
}

// `steps → 3.steps (KSampler): default 25, 1–60`; aspect writes the size inputs, which have their own lines.
function describeTargets(workflow: Workflow, spec: SettingSpec): string {
  const [name, ...rest] = describeSetting(spec).split(': ');
  const detail = rest.join(': ');
  if (spec.targets.length === 0) return `${name} → width and height: ${detail}`;
  const targets = spec.targets.map(
    (target) => `${formatTarget(target)} (${workflow.graph[target.nodeId]?.class_type ?? '?'})`,
  );
  return `${name} → ${targets.join(', ')}: ${detail}`;
}
