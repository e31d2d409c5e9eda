/**
 * Workflows: loading ComfyUI API-format graphs and their manifests, checking them against servers, and binding a
 * member's settings into the graph to submit. Everything here but `loadWorkflows` is pure.
 */
export { loadWorkflows, collectWorkflows, type LoadedWorkflows, type WorkflowLoadReport } from './load.js';
export { buildWorkflow, type BuildResult, type WorkflowSource } from './build-workflow.js';
export { validateWorkflow, type WorkflowValidation } from './validate.js';
export { validateWorkflows, usableServers, chooseWorkflow, type ServerObjectInfo } from './usable.js';
export { bindWorkflow, type AppliedSettings, type BindError, type BindOptions, type BindResult } from './bind.js';
export { listModels, comboOptions, parseObjectInfo, type ModelLists, type ObjectInfo } from './object-info.js';
export { sizeForAspect, aspectOf, type Resolution, type Size } from './aspect.js';
export {
  acceptedSettings,
  describeOutputs,
  describeSetting,
  WORKFLOW_SETTING_ORDER,
  type OutputNode,
  type SettingSpec,
  type Workflow,
  type WorkflowKind,
  type WorkflowSettingName,
} from './workflow.js';
export { manifestSchema, type Manifest } from './manifest.js';
export { defaultOutputs, findOutputNodes, producesOf, type FoundOutput, type OutputRole } from './output-nodes.js';
export { isUiExport, API_EXPORT_HINT, type ApiGraph, type InputTarget } from './graph.js';
