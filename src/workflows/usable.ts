/**
 * Which workflow runs where: every workflow checked on every server, and the manifest's `fallback` chain followed
 * when a workflow cannot run somewhere (the shipped `upscale` falls back to `upscale-basic` on a server with no
 * upscale model).
 */
import type { ObjectInfo } from './object-info.js';
import { validateWorkflow, type WorkflowValidation } from './validate.js';
import type { Workflow } from './workflow.js';

/** One server's name and its object_info. */
export interface ServerObjectInfo {
  readonly name: string;
  readonly objectInfo: ObjectInfo;
}

/** Validates every workflow against every server (workflow-major order). */
export function validateWorkflows(
  workflows: readonly Workflow[],
  servers: readonly ServerObjectInfo[],
): WorkflowValidation[] {
  return workflows.flatMap((workflow) =>
    servers.map((server) => validateWorkflow(workflow, server.objectInfo, server.name)),
  );
}

/** The servers on which a workflow validated. */
export function usableServers(validations: readonly WorkflowValidation[], workflowName: string): string[] {
  return validations.filter((entry) => entry.workflow === workflowName && entry.ok).map((entry) => entry.server);
}

/**
 * The workflow to run for `name`: itself when `isUsable` accepts it, else its fallback, and so on. Undefined when
 * nothing in the chain is usable or the name is unknown.
 */
export function chooseWorkflow(
  workflows: { get(name: string): Workflow | undefined },
  name: string,
  isUsable: (workflow: Workflow) => boolean,
): Workflow | undefined {
  const seen = new Set<string>();
  let current = workflows.get(name);
  while (current && !seen.has(current.name)) {
    if (isUsable(current)) return current;
    seen.add(current.name);
    current = current.fallback === undefined ? undefined : workflows.get(current.fallback);
  }
  return undefined;
}
