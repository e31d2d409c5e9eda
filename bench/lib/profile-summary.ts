/**
 * Reads a `.cpuprofile` and says where the time went: each sample is charged to the innermost frame of our own code
 * (`src/…`) on its stack — so time in a library called by our code counts against the caller that asked for it —
 * or, with none of ours on the stack, to the innermost library (a promise continuation inside discord.js, say).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';

const profileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number(),
      callFrame: z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number() }),
      children: z.array(z.number()).optional(),
    }),
  ),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});

type ProfileNode = z.infer<typeof profileSchema>['nodes'][number];

/** One line of the summary. */
export interface ProfileShare {
  readonly where: string;
  readonly ms: number;
  readonly share: number;
}

/** Where the time of a profile went, by our source file (or library) and by our function. */
export interface ProfileSummary {
  readonly totalMs: number;
  readonly byFile: ProfileShare[];
  readonly byFunction: ProfileShare[];
}

/** Summarizes the profile in `file`, keeping the `top` largest entries of each list. */
export async function summarizeProfile(file: string, top = 15): Promise<ProfileSummary> {
  const profile = profileSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const byFile = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, index) => {
    const us = profile.timeDeltas[index] ?? 0;
    totalUs += us;
    const [file, fn] = charge(id, nodes, parents);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  });
  const rank = (totals: Map<string, number>) =>
    [...totals]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([where, us]) => ({ where, ms: us / 1000, share: us / totalUs }));
  return { totalMs: totalUs / 1000, byFile: rank(byFile), byFunction: rank(byFunction) };
}

/** The file and the function a sample is charged to. */
function charge(id: number, nodes: Map<number, ProfileNode>, parents: Map<number, number>): [string, string] {
  let library: ProfileNode | undefined;
  for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) {
    const node = nodes.get(current);
    if (!node) break;
    const place = sourceOf(node.callFrame.url);
    if (place.startsWith('src/')) return [place, `${node.callFrame.functionName || '(anonymous)'} ${place}`];
    if (!library && node.callFrame.url) library = node;
  }
  const leaf = nodes.get(id)?.callFrame.functionName ?? '?';
  if (!library) return [`(${leaf.replace(/[()]/g, '')})`, `(${leaf.replace(/[()]/g, '')})`];
  const name = libraryOf(library.callFrame.url);
  return [name, `${library.callFrame.functionName || '(anonymous)'} ${name}`];
}

/** `src/jobs/runner.ts` for our files, the URL otherwise. */
function sourceOf(url: string): string {
  const match = /\/(src\/[^?]+)$/.exec(url);
  return match && !url.includes('/node_modules/') ? match[1]! : url;
}

/** `lib discord.js`, `lib @discordjs/rest`, `node:net`. */
function libraryOf(url: string): string {
  const inModules = url.split('node_modules/').pop() ?? url;
  if (inModules === url) return url.startsWith('node:') ? url : `lib ${url.split('/').pop() ?? url}`;
  const parts = inModules.split('/');
  return `lib ${parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
}

/** The summary as lines for the console. */
export function formatProfileSummary(summary: ProfileSummary): string {
  const line = (entry: ProfileShare) =>
    `  ${entry.ms.toFixed(0).padStart(7)} ms ${(entry.share * 100).toFixed(1).padStart(5)}%  ${entry.where}`;
  return [
    `CPU profile: ${summary.totalMs.toFixed(0)} ms sampled`,
    ' by file (our innermost frame, else the library):',
    ...summary.byFile.map(line),
    ' by function:',
    ...summary.byFunction.map(line),
  ].join('\n');
}
