/**
 * ComfyUI's output cache: node outputs (and their UI data) keyed by an input signature that covers the node's
 * class, widget values, IS_CHANGED result and, recursively, its ancestors. The classic cache (0.3.64) keeps only keys
 * of the current prompt, so X, X is cached while X, Y, X runs X again. The RAM-pressure cache (current ComfyUI's
 * default) keeps earlier prompts' results until memory runs short, so X, Y, X re-uses X; the emulator never runs
 * short of memory and bounds it by a number of entries instead.
 */
import { createHash } from 'node:crypto';
import type { NodeEnvironment } from '../nodes/types.js';

/** UI data of an output node as kept for `executed` on cached runs and for history. */
export interface CachedUi {
  readonly output: Readonly<Record<string, readonly unknown[]>>;
  readonly meta: Readonly<Record<string, unknown>>;
}

/** What the cache holds per signature. */
export interface CacheEntry {
  readonly outputs: readonly unknown[];
  readonly ui: CachedUi | undefined;
}

type Graph = Readonly<Record<string, { class_type: string; inputs: Record<string, unknown> }>>;

/** `classic` drops what the new prompt does not use; `ram-pressure` keeps earlier prompts' results. */
export type CachePolicy = 'classic' | 'ram-pressure';

/** How many results the RAM-pressure cache keeps (least recently used go first). */
const RAM_PRESSURE_ENTRIES = 4096;

/** The outputs cache plus ComfyUI's per-node object cache (keyed by node id and class). */
export class ClassicCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly keys = new Map<string, string>();
  private readonly objects = new Map<string, Map<string, unknown>>();

  constructor(private readonly policy: CachePolicy = 'classic') {}

  /** Computes the signatures of a new prompt and drops everything it does not use. */
  async setPrompt(graph: Graph, environment: NodeEnvironment): Promise<void> {
    this.keys.clear();
    const memo = new Map<string, string>();
    for (const nodeId of Object.keys(graph)) {
      this.keys.set(nodeId, await signature(graph, nodeId, environment, memo, new Set()));
    }
    if (this.policy === 'ram-pressure') return this.keepRecent();
    const live = new Set(this.keys.values());
    for (const key of this.entries.keys()) if (!live.has(key)) this.entries.delete(key);
    const liveObjects = new Set(Object.entries(graph).map(([id, node]) => objectKey(id, node.class_type)));
    for (const key of this.objects.keys()) if (!liveObjects.has(key)) this.objects.delete(key);
  }

  /** The cached entry of a node of the current prompt. */
  get(nodeId: string): CacheEntry | undefined {
    const key = this.keys.get(nodeId);
    return key === undefined ? undefined : this.entries.get(key);
  }

  /** Stores a node's result. */
  set(nodeId: string, entry: CacheEntry): void {
    const key = this.keys.get(nodeId);
    if (key === undefined) return;
    // Re-inserting moves the key to the end: Map order is then least recently stored first.
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  /** The long-lived state of a node object (PreviewImage's prefix). */
  objectState(nodeId: string, classType: string): Map<string, unknown> {
    const key = objectKey(nodeId, classType);
    let state = this.objects.get(key);
    if (!state) {
      state = new Map();
      this.objects.set(key, state);
    }
    return state;
  }

  /** RAM-pressure: keeps what the current prompt uses, and the most recently stored other results up to the bound. */
  private keepRecent(): void {
    const live = new Set(this.keys.values());
    let excess = this.entries.size - RAM_PRESSURE_ENTRIES;
    for (const key of this.entries.keys()) {
      if (excess <= 0) break;
      if (live.has(key)) continue;
      this.entries.delete(key);
      excess -= 1;
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
    this.keys.clear();
    this.objects.clear();
  }
}

function objectKey(nodeId: string, classType: string): string {
  return `${nodeId}\u0000${classType}`;
}

async function signature(
  graph: Graph,
  nodeId: string,
  environment: NodeEnvironment,
  memo: Map<string, string>,
  visiting: Set<string>,
): Promise<string> {
  const known = memo.get(nodeId);
  if (known !== undefined) return known;
  const node = graph[nodeId];
  // A link to a missing node (or a cycle) can never be cached: ComfyUI signs it with NaN.
  if (!node || visiting.has(nodeId)) return `nan:${Math.random()}`;
  visiting.add(nodeId);
  const info = environment.catalogue.info(node.class_type);
  const parts: unknown[] = [node.class_type, await isChanged(node, environment)];
  if (info?.hidden['unique_id'] === 'UNIQUE_ID') parts.push(nodeId);
  for (const name of Object.keys(node.inputs).sort()) {
    const value = node.inputs[name];
    if (Array.isArray(value) && value.length === 2) {
      parts.push([name, 'ANCESTOR', await signature(graph, String(value[0]), environment, memo, visiting), value[1]]);
    } else parts.push([name, value]);
  }
  visiting.delete(nodeId);
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  memo.set(nodeId, digest);
  return digest;
}

async function isChanged(
  node: { class_type: string; inputs: Record<string, unknown> },
  environment: NodeEnvironment,
): Promise<unknown> {
  const hook = environment.catalogue.implementation(node.class_type)?.isChanged;
  if (!hook) return false;
  try {
    return await hook(node.inputs, environment);
  } catch {
    return `nan:${Math.random()}`;
  }
}
