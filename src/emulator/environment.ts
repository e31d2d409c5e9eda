/**
 * The emulator's folders (input/, output/, temp/), model lists and node catalogue, as its nodes see them.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { NodeCatalogue, type CatalogueMode } from './nodes/catalogue.js';
import type { NodeEnvironment } from './nodes/types.js';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp', '.tif', '.tiff', '.avif']);

/** Model lists offered in combos. */
export interface ModelLists {
  readonly checkpoints: readonly string[];
  readonly loras: readonly string[];
  readonly upscaleModels: readonly string[];
}

/** Creates the folders under `dataDir` (output/ may live elsewhere) and returns the environment. */
export function createEnvironment(
  dataDir: string,
  outputDir: string | undefined,
  models: ModelLists,
  catalogueMode: CatalogueMode = 'implemented',
): NodeEnvironment {
  const folders = {
    inputDir: path.resolve(dataDir, 'input'),
    outputDir: path.resolve(outputDir ?? path.join(dataDir, 'output')),
    tempDir: path.resolve(dataDir, 'temp'),
  };
  for (const folder of Object.values(folders)) mkdirSync(folder, { recursive: true });
  const files = {
    ...models,
    listInputImages: () =>
      readdirSync(folders.inputDir)
        .filter((name) => IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase()))
        .filter((name) => statSync(path.join(folders.inputDir, name)).isFile())
        .sort(),
  };
  return { ...folders, ...files, catalogue: new NodeCatalogue(catalogueMode, files) };
}

/** Empties temp/, as ComfyUI does when it starts. */
export function cleanTemp(environment: NodeEnvironment): void {
  rmSync(environment.tempDir, { recursive: true, force: true });
  mkdirSync(environment.tempDir, { recursive: true });
}
