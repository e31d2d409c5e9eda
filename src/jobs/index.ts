/**
 * The job layer: the job model, the fair queue, the pool of ComfyUI servers and the runner that moves jobs from a
 * member's request to a delivered result, surviving restarts.
 */
export { JobRunner, type JobRunnerOptions } from './runner.js';
export { isTerminalEvent, type JobEvent, type JobFile, type JobListener, type TerminalJobEvent } from './events.js';
export {
  deliveryInfoSchema,
  inputImageSchema,
  isTerminal,
  jobRecordSchema,
  jobStateSchema,
  type DeliveryInfo,
  type InputImage,
  type JobRecord,
  type JobRequest,
  type JobState,
  type OutputRef,
} from './model.js';
export { DEFAULT_LIMITS, type JobLimits } from './limits.js';
export { DEFAULT_RETRY_LIMITS, type RetryLimits } from './failure-policy.js';
export { FairQueue, type Queueable } from './fair-queue.js';
export type { ConnectServer, ServerHealth, ServerStatus } from './server-pool.js';
export type { WorkflowSource } from './server-capabilities.js';
export {
  jobsByServer,
  jobsOfMember,
  type ActiveJobView,
  type MemberJobsView,
  type RunnerSnapshot,
  type WaitingJobView,
} from './snapshot.js';
