/**
 * The files a finished job delivers: those written by the workflow's output nodes (not the previews other nodes
 * leave in `temp`), downloaded from the server that ran the job. Texts come with the outputs and need no download.
 */
import { TEXT_OUTPUT_TYPE, type ComfyServer, type OutputFile } from '../comfy/index.js';
import type { JobFile } from './events.js';
import type { OutputRef } from './model.js';

/**
 * Picks what to post: the named output nodes' files and texts, else every saved (`output`) file with every text,
 * else all.
 */
export function selectOutputs(files: readonly OutputFile[], outputNodes: readonly string[]): OutputRef[] {
  const fromNodes = files.filter((file) => outputNodes.includes(file.node));
  const saved = files.filter((file) => file.type === 'output' || file.type === TEXT_OUTPUT_TYPE);
  const chosen = fromNodes.length > 0 ? fromNodes : saved.length > 0 ? saved : files;
  return chosen.map(({ node, filename, subfolder, type, mimeType, text }) => ({
    node,
    filename,
    subfolder,
    type,
    // An unknown type is left to the server, whose `/view` may know better.
    ...(mimeType === 'application/octet-stream' ? {} : { mimeType }),
    ...(text === undefined ? {} : { text }),
  }));
}

/** Downloads every file, in order; texts are taken as they are. */
export async function downloadOutputs(server: ComfyServer, refs: readonly OutputRef[]): Promise<JobFile[]> {
  const files: JobFile[] = [];
  for (const ref of refs) {
    if (ref.text !== undefined) {
      const bytes = Buffer.from(ref.text, 'utf8');
      files.push({ bytes, filename: ref.filename, mimeType: 'text/plain', node: ref.node, text: ref.text });
      continue;
    }
    const { bytes, mimeType } = await server.download({
      filename: ref.filename,
      subfolder: ref.subfolder,
      type: ref.type,
    });
    files.push({ bytes, filename: ref.filename, mimeType: ref.mimeType ?? mimeType, node: ref.node });
  }
  return files;
}
