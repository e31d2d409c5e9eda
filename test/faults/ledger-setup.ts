/**
 * vitest's global setup for the fault ledger: a fresh ledger file for the run, handed to every test process, and at
 * the end one line adding up what the fault tests recorded. A job lost or delivered twice fails the run here too, so
 * the figures the README quotes can only be 0.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { describeSummary, summarise, type FaultRecord } from './ledger.js';

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'comfycord-faults-'));
  const file = join(dir, 'ledger.jsonl');
  project.provide('faultLedger', file);
  return () => {
    const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    rmSync(dir, { recursive: true, force: true });
    if (lines.length === 0) return;
    const summary = summarise(lines.map((line) => JSON.parse(line) as FaultRecord));
    process.stdout.write(`\n${describeSummary(summary)}\n`);
    if (summary.lost > 0 || summary.deliveredTwice > 0) {
      throw new Error(`fault tests lost ${summary.lost} jobs and delivered ${summary.deliveredTwice} twice`);
    }
  };
}
