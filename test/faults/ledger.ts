/**
 * The fault tests' common account: each test that inflicts a fault records what became of each job it ran — how
 * often its result was posted, and whether the member was told a failure in a sentence — and the run ends with one
 * summary line (see ledger-setup.ts): faults tried, jobs delivered once, jobs that ended with a sentence, jobs lost
 * (the member never learned the outcome) and jobs delivered twice.
 */
import { appendFileSync } from 'node:fs';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The file every test process appends its fault records to (one JSON line each). */
    faultLedger: string;
  }
}

/** What one job of a fault test came to, as the test observed it. */
export interface JobTally {
  /** How many times its result was posted to the member (1 is right; 0 when it failed). */
  readonly deliveries: number;
  /** How many failure sentences the member was shown (for a job with no result). */
  readonly sentences?: number;
}

/** One fault test's record. */
export interface FaultRecord {
  readonly fault: string;
  readonly jobs: readonly JobTally[];
}

/** Records the jobs of a fault test. */
export function recordFault(fault: string, jobs: readonly JobTally[]): void {
  const record: FaultRecord = { fault, jobs };
  appendFileSync(inject('faultLedger'), `${JSON.stringify(record)}\n`);
}

/** The figures of a run: what the closing note quotes. */
export interface FaultSummary {
  readonly faults: number;
  readonly jobs: number;
  readonly deliveredOnce: number;
  readonly endedWithSentence: number;
  readonly lost: number;
  readonly deliveredTwice: number;
}

/** Adds up the records of a run. */
export function summarise(records: readonly FaultRecord[]): FaultSummary {
  const jobs = records.flatMap((record) => record.jobs);
  return {
    faults: new Set(records.map((record) => record.fault)).size,
    jobs: jobs.length,
    deliveredOnce: jobs.filter((job) => job.deliveries === 1).length,
    endedWithSentence: jobs.filter((job) => job.deliveries === 0 && (job.sentences ?? 0) > 0).length,
    lost: jobs.filter((job) => job.deliveries === 0 && (job.sentences ?? 0) === 0).length,
    deliveredTwice: jobs.filter((job) => job.deliveries > 1).length,
  };
}

/** The summary as one line. */
export function describeSummary(summary: FaultSummary): string {
  return (
    `fault tests: ${summary.faults} faults tried, ${summary.jobs} jobs: ${summary.deliveredOnce} delivered once, ` +
    `${summary.endedWithSentence} ended with a sentence to the member, ${summary.lost} lost, ` +
    `${summary.deliveredTwice} delivered twice`
  );
}
