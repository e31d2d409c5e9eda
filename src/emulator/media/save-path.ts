/**
 * ComfyUI's file naming for saved outputs (folder_paths.get_save_image_path) and its annotated input paths
 * (`name.png [input]`), including the refusal to write outside the output folder.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { NodeExecutionError } from '../nodes/types.js';

/** Where the next file for a prefix goes: folder, bare name, first counter and the subfolder reported to clients. */
export interface SavePath {
  readonly folder: string;
  readonly filename: string;
  readonly counter: number;
  readonly subfolder: string;
}

/** Resolves `filename_prefix` (`a/b`, `%width%`...) into the folder and next free counter, as ComfyUI does. */
export function resolveSavePath(prefix: string, outputDir: string, width = 0, height = 0): SavePath {
  const expanded = prefix.includes('%') ? expandVariables(prefix, width, height) : prefix;
  const normalized = path.normalize(expanded);
  const subfolder = pythonDirname(normalized);
  const filename = path.basename(normalized);
  const folder = path.resolve(outputDir, subfolder);
  const common = commonPath(outputDir, folder);
  if (common !== outputDir) {
    throw new NodeExecutionError(
      '**** ERROR: Saving image outside the output folder is not allowed.' +
        `\n full_output_folder: ${folder}\n         output_dir: ${outputDir}\n         commonpath: ${common}`,
    );
  }
  mkdirSync(folder, { recursive: true });
  return { folder, filename, counter: nextCounter(folder, filename), subfolder };
}

function nextCounter(folder: string, filename: string): number {
  let highest = 0;
  for (const entry of readdirSync(folder)) {
    const prefix = entry.slice(0, filename.length + 1);
    if (prefix.slice(0, -1) !== filename || !prefix.endsWith('_')) continue;
    const digits = Number.parseInt(entry.slice(filename.length + 1).split('_')[0] ?? '', 10);
    highest = Math.max(highest, Number.isNaN(digits) ? 0 : digits);
  }
  return highest + 1;
}

/** `name_00001_.png`: ComfyUI's five-digit counter with a trailing underscore. */
export function numberedName(filename: string, counter: number, extension: string, batchNumber = 0): string {
  return `${filename.replaceAll('%batch_num%', String(batchNumber))}_${String(counter).padStart(5, '0')}_.${extension}`;
}

function expandVariables(prefix: string, width: number, height: number): string {
  const now = new Date();
  const two = (value: number): string => String(value).padStart(2, '0');
  return prefix
    .replaceAll('%width%', String(width))
    .replaceAll('%height%', String(height))
    .replaceAll('%year%', String(now.getFullYear()))
    .replaceAll('%month%', two(now.getMonth() + 1))
    .replaceAll('%day%', two(now.getDate()))
    .replaceAll('%hour%', two(now.getHours()))
    .replaceAll('%minute%', two(now.getMinutes()))
    .replaceAll('%second%', two(now.getSeconds()));
}

function pythonDirname(normalized: string): string {
  const dirname = path.dirname(normalized);
  return dirname === '.' ? '' : dirname;
}

/** Python's os.path.commonpath for two absolute paths. */
export function commonPath(a: string, b: string): string {
  const left = path.resolve(a).split(path.sep);
  const right = path.resolve(b).split(path.sep);
  const shared: string[] = [];
  for (let index = 0; index < Math.min(left.length, right.length); index += 1) {
    if (left[index] !== right[index]) break;
    shared.push(left[index] ?? '');
  }
  return shared.join(path.sep) || path.sep;
}

/** Splits `name.png [output]` into the bare name and the folder type it names (if any). */
export function splitAnnotation(name: string): { name: string; type: 'input' | 'output' | 'temp' | undefined } {
  for (const type of ['output', 'input', 'temp'] as const) {
    if (name.endsWith(` [${type}]`)) return { name: name.slice(0, -(type.length + 3)), type };
  }
  return { name, type: undefined };
}

/** Resolves an annotated file name against the input folder by default; true when the file exists. */
export function annotatedFileExists(name: string, folders: { input: string; output: string; temp: string }): boolean {
  const file = resolveAnnotated(name, folders);
  return existsSync(file) && statSync(file).isFile();
}

/** The absolute path of an annotated name (`sub/x.png`, `x.png [output]`). */
export function resolveAnnotated(name: string, folders: { input: string; output: string; temp: string }): string {
  const split = splitAnnotation(name);
  return path.join(folders[split.type ?? 'input'], split.name);
}
