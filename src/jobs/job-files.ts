/**
 * The files a finished job delivers: those written by the workflow's output nodes (not the previews other nodes
 * leave in `temp`), downloaded from the server that ran the job.
 */
import type { ComfyServer, OutputFile } from '../comfy/index.js';
import type { JobFile } from './events.js';
import type { OutputRef } from './model.js';

/** Picks the files to post: the named output nodes' files, else every saved (`output`) file, else all. */
export function selectOutputs(files: readonly OutputFile[], outputNodes: readonly string[]): OutputRef[] {
  const fromNodes = files.filter((file) => outputNodes.includes(file.node));
  const saved = files.filter((file) => file.type === 'output');
  const chosen = fromNodes.length > 0 ? fromNodes : saved.length > 0 ? saved : files;
  return chosen.map(({ node, filename, subfolder, type, mimeType }) => ({ node, filename, subfolder, type, mimeType }));
}

/** Downloads every file, in order. */
export async function downloadOutputs(server: ComfyServer, refs: readonly OutputRef[]): Promise<JobFile[]> {
  const files: JobFile[] = [];
  for (const ref of refs) {
    const { bytes, mimeType } = await server.download({
      filename: ref.filename,
      subfolder: ref.subfolder,
      type: ref.type,
    });
    files.push({ bytes, filename: ref.filename, mimeType: ref.mimeType ?? mimeType, node: ref.node });
  }
  return files;
}
