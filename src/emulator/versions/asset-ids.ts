/**
 * Current ComfyUI with its asset system on registers every file an output node reports and adds the asset's `id`
 * (and a `preview_id`, its own id for images) to the output item (PROTOCOL-current.md §3, asset_enrichment.py). A
 * cached replay registers the same file again, which finds the same asset: ids are stable per file.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { NodeEnvironment } from '../nodes/types.js';

const OWN_PREVIEW_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.bmp', '.avif']);

/** The emulator's asset database: one id per file. */
export class AssetRegistry {
  private readonly ids = new Map<string, string>();

  constructor(private readonly environment: NodeEnvironment) {}

  /** A copy of a node's UI output whose file entries carry `id` and, for images, `preview_id`. */
  enrich(output: Readonly<Record<string, readonly unknown[]>>): Record<string, unknown[]> {
    const enriched: Record<string, unknown[]> = {};
    for (const [key, entries] of Object.entries(output)) {
      enriched[key] = entries.map((entry) => this.enrichEntry(entry));
    }
    return enriched;
  }

  private enrichEntry(entry: unknown): unknown {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return entry;
    const item = { ...(entry as Record<string, unknown>) };
    const file = this.resolve(item);
    if (file === undefined) return item;
    let id = this.ids.get(file);
    if (id === undefined) {
      id = randomUUID();
      this.ids.set(file, id);
    }
    item['id'] = id;
    if (OWN_PREVIEW_EXTENSIONS.has(path.extname(file).toLowerCase())) item['preview_id'] = id;
    return item;
  }

  /** The file an entry names, inside its base folder and on disk; undefined skips it, as ComfyUI does. */
  private resolve(item: Record<string, unknown>): string | undefined {
    const { filename, subfolder, type } = item;
    if (typeof filename !== 'string' || typeof type !== 'string') return undefined;
    const bases: Record<string, string> = {
      output: this.environment.outputDir,
      temp: this.environment.tempDir,
      input: this.environment.inputDir,
    };
    const base = bases[type];
    if (base === undefined) return undefined;
    const file = path.resolve(base, typeof subfolder === 'string' ? subfolder : '', filename);
    if (path.relative(base, file).startsWith('..') || !existsSync(file)) return undefined;
    return file;
  }
}
