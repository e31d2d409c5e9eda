/**
 * The node types the emulator lists in `/object_info`, and the info it serves for each: the entry a real ComfyUI
 * 0.3.64 served (`../recorded/object_info_0.3.64.json`, the server's whole `/object_info` body, unmodified), or, for
 * a custom node that server did not have, the JSON file its implementation names. Only the combos where a server lists
 * its own files are the emulator's own (see server-files.ts).
 *
 * Two catalogues: `implemented` (the default) lists the node types the emulator can run; `full` lists the recorded
 * server's whole catalogue (478 types) plus the emulator's custom nodes, and a node type it cannot run fails when it
 * executes, as a real node that raises does (see node-runner.ts).
 */
import { readFileSync } from 'node:fs';
import {
  emptyImage,
  imageBatchNode,
  imageInvert,
  imageScale,
  imageScaleBy,
  imageUpscaleWithModel,
  loadImage,
} from './image-ops.js';
import { checkpointLoaderSimple, loraLoader, loraLoaderModelOnly, upscaleModelLoader } from './loaders.js';
import { previewAny, saveAnimatedPng, saveAnimatedWebp, saveImageWebsocket } from './outputs.js';
import { previewImage, saveImage } from './save-images.js';
import { kSampler } from './ksampler.js';
import { clipTextEncode, emptyLatentImage, vaeDecode, vaeEncode } from './latent-nodes.js';
import { readNodeInfo, type NodeInfo } from './node-info.js';
import { dumpPyJson, parseJsonTree, treeValue, type JsonTree } from './py-json-tree.js';
import { listsServerFiles, withServerFiles, type ServerFiles } from './server-files.js';
import type { NodeImplementation } from './types.js';
import { primitiveInt, primitiveString, testSleep } from './utility.js';
import { videoCombine } from './video-helper-suite.js';

/** Which node types `/object_info` lists. */
export type CatalogueMode = 'implemented' | 'full';

/** The ComfyUI version whose `/object_info` the emulator serves. */
export const RECORDED_VERSION = '0.3.64';

/** Where the recorded body lives in the project. */
export const RECORDED_OBJECT_INFO = new URL(`../recorded/object_info_${RECORDED_VERSION}.json`, import.meta.url);

/** The node types the emulator can run. */
export const IMPLEMENTATIONS: readonly NodeImplementation[] = [
  checkpointLoaderSimple,
  clipTextEncode,
  emptyLatentImage,
  kSampler,
  vaeDecode,
  vaeEncode,
  saveImage,
  previewImage,
  loadImage,
  imageScale,
  imageScaleBy,
  imageInvert,
  imageBatchNode,
  emptyImage,
  loraLoader,
  loraLoaderModelOnly,
  upscaleModelLoader,
  imageUpscaleWithModel,
  saveAnimatedWebp,
  saveAnimatedPng,
  saveImageWebsocket,
  previewAny,
  primitiveString,
  primitiveInt,
  testSleep,
  videoCombine,
];

/** The node types one emulator serves, with their info as served. */
export class NodeCatalogue {
  private readonly entries = new Map<string, JsonTree>();
  private readonly implementations = new Map<string, NodeImplementation>();

  constructor(
    readonly mode: CatalogueMode,
    private readonly files: ServerFiles,
    implementations: readonly NodeImplementation[] = IMPLEMENTATIONS,
  ) {
    const recorded = recordedEntries();
    for (const implementation of implementations) this.implementations.set(implementation.name, implementation);
    // Like a real server: built-in nodes in the recorded order, then custom node packs.
    for (const [name, tree] of recorded) {
      if (mode === 'full' || this.implementations.has(name)) this.entries.set(name, tree);
    }
    for (const implementation of implementations) {
      if (this.entries.has(implementation.name)) continue;
      if (!implementation.info) {
        throw new Error(`${implementation.name} is not in the ${RECORDED_VERSION} recording and names no node info`);
      }
      this.entries.set(implementation.name, customNodeInfo(implementation.info));
    }
  }

  /** The listed node types, in `/object_info` order. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** How to run a listed node type; undefined when it is listed (full catalogue) but cannot be emulated. */
  implementation(name: string): NodeImplementation | undefined {
    return this.entries.has(name) ? this.implementations.get(name) : undefined;
  }

  /** What validation and execution read from a node type's served info. */
  info(name: string): NodeInfo | undefined {
    const tree = this.served(name);
    if (!tree) return undefined;
    let info = infoCache.get(tree);
    if (!info) infoCache.set(tree, (info = readNodeInfo(name, treeValue(tree))));
    return info;
  }

  /** A node type's `/object_info` entry as JSON text, written as ComfyUI writes it. */
  infoText(name: string): string | undefined {
    const tree = this.served(name);
    if (!tree) return undefined;
    let text = textCache.get(tree);
    if (text === undefined) textCache.set(tree, (text = dumpPyJson(tree)));
    return text;
  }

  /** The whole `/object_info` body as JSON text. */
  bodyText(): string {
    return `{${this.names()
      .map((name) => `${dumpPyJson({ kind: 'string', value: name })}: ${this.infoText(name) ?? 'null'}`)
      .join(', ')}}`;
  }

  private served(name: string): JsonTree | undefined {
    const tree = this.entries.get(name);
    return tree && listsServerFiles(name) ? withServerFiles(name, tree, this.files) : tree;
  }
}

/** Text and info per entry tree: a tree that lists no server files is the same object for every emulator. */
const textCache = new WeakMap<JsonTree, string>();
const infoCache = new WeakMap<JsonTree, NodeInfo>();
let recordedCache: ReadonlyArray<readonly [string, JsonTree]> | undefined;

/** The recorded body's entries, parsed once per process. */
function recordedEntries(): ReadonlyArray<readonly [string, JsonTree]> {
  if (!recordedCache) {
    const tree = parseJsonTree(readFileSync(RECORDED_OBJECT_INFO, 'utf8'));
    if (tree.kind !== 'object') throw new Error(`${RECORDED_OBJECT_INFO.pathname} is not a JSON object`);
    recordedCache = tree.entries;
  }
  return recordedCache;
}

function customNodeInfo(file: URL): JsonTree {
  const tree = parseJsonTree(readFileSync(file, 'utf8'));
  if (tree.kind !== 'object') throw new Error(`${file.pathname} is not a JSON object`);
  return tree;
}
