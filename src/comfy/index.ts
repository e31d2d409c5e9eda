/**
 * The ComfyUI client: one `ComfyClient` per server behind the `ComfyServer` seam, job handles, typed errors and the
 * protocol's schemas.
 */
export { ComfyClient, type ComfyClientOptions } from './client.js';
export type { ComfyServer, Download, SubmitOptions } from './server.js';
export { ComfyJob, type ComfyJobEvents, type JobOutcome, type JobSnapshot } from './job.js';
export type { JobEvent, JobPhase } from './job-state.js';
export type { DownloadStream, UploadOptions } from './http.js';
export {
  contentTypeOf,
  mimeTypeOf,
  filesOfNodeOutput,
  TEXT_OUTPUT_TYPE,
  type OutputFile,
  type OutputKind,
} from './outputs.js';
export * from './errors.js';
export { isPostablePromptId, newPromptId } from './prompt-id.js';
export type {
  ComfyGraph,
  ComfyNode,
  Features,
  FileRef,
  HistoryEntry,
  NodeErrors,
  NodeOutput,
  ObjectInfo,
  QueueSnapshot,
  SystemStats,
  UploadedFile,
} from './schemas.js';
