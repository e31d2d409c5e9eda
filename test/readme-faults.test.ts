import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The README's fault table and the tests listed below it, one entry per row. */
function faultSection(): { rows: string[]; tests: Map<number, string> } {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('## Faults it survives');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const rows = section.split('\n').filter((line) => /^\| \d+ /.test(line));
  const listing = section.slice(section.indexOf('Tests, by row:'));
  const tests = new Map<number, string>();
  for (const entry of listing.split(/\n(?=\d+\. )/).slice(1)) {
    const number = Number(/^(\d+)\. /.exec(entry)?.[1]);
    tests.set(number, entry.replace(/\s*\n\s*/g, ' ').trim());
  }
  return { rows, tests };
}

describe("the README's fault table", () => {
  const { rows, tests } = faultSection();

  it('lists a test, or says plainly that there is none, for every row', () => {
    expect(rows.length).toBeGreaterThanOrEqual(16);
    for (const row of rows) {
      const number = Number(/^\| (\d+) /.exec(row)?.[1]);
      const entry = tests.get(number);
      expect(entry, `row ${number}`).toBeDefined();
      const untested = /not yet tested/.test(row);
      expect(entry!.includes('not yet tested'), `row ${number}: the table and the list agree`).toBe(untested);
    }
  });

  it('names only tests that exist, by file and by name', () => {
    let named = 0;
    for (const entry of tests.values()) {
      // A name may be followed by a note in brackets (the cases of a parametrised test).
      for (const [, file, names] of entry.matchAll(
        /`(test\/[^`]+)`(?: \([^)]*\))?((?: › "[^"]+"(?: \([^)]*\))?;?)+)/g,
      )) {
        expect(existsSync(file!), file).toBe(true);
        const source = readFileSync(file!, 'utf8').replace(/\s*\n\s*/g, ' ');
        for (const [, name] of names!.matchAll(/› "([^"]+)"/g)) {
          named += 1;
          expect(
            [`'${name}'`, `"${name}"`].some((title) => source.includes(title)),
            `${file} › ${name}`,
          ).toBe(true);
        }
      }
    }
    expect(named).toBe([...tests.values()].join(' ').split(' › ').length - 1);
  });
});
