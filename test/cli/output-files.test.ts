import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeOutputFiles } from '../../src/cli/generate/output-files.js';
import { filesIn, TempDirs } from './helpers.js';

const temp = new TempDirs();

afterAll(async () => {
  await temp.removeAll();
});

function jobFile(filename: string, text: string) {
  return { bytes: Buffer.from(text), filename, mimeType: 'image/png', node: '9' };
}

describe('writeOutputFiles', () => {
  it('creates the folder and writes each file under the name the server gave it', async () => {
    const dir = path.join(await temp.make(), 'nested', 'out');
    const written = await writeOutputFiles(dir, [jobFile('a_00001_.png', 'one'), jobFile('a_00002_.png', 'two')]);
    expect(written).toEqual([path.join(dir, 'a_00001_.png'), path.join(dir, 'a_00002_.png')]);
    expect(await readFile(written[1]!, 'utf8')).toBe('two');
  });

  it('never overwrites a file already there: the new one gets a numbered name', async () => {
    const dir = await temp.make();
    await writeFile(path.join(dir, 'txt2img_00001_.png'), 'yesterday');
    await writeFile(path.join(dir, 'txt2img_00001_-1.png'), 'this morning');
    const written = await writeOutputFiles(dir, [jobFile('txt2img_00001_.png', 'now')]);
    expect(written).toEqual([path.join(dir, 'txt2img_00001_-2.png')]);
    expect(await readFile(path.join(dir, 'txt2img_00001_.png'), 'utf8')).toBe('yesterday');
    expect(await filesIn(dir)).toHaveLength(3);
  });

  it('keeps only the base name of a file in a server subfolder', async () => {
    const dir = await temp.make();
    expect(await writeOutputFiles(dir, [jobFile('../escape.png', 'x')])).toEqual([path.join(dir, 'escape.png')]);
  });
});
