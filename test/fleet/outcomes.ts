/**
 * What became of the fleet's jobs, read from what the stand-ins recorded: the finished cards each interaction got (in
 * the fake Discord's call log), the failure sentences, the prompts each job sent to ComfyUI, and how fairly members
 * took turns in reaching ComfyUI.
 */
import { expect } from 'vitest';
import type { FakeDiscord, InteractionHandle, RecordedCall } from '../fakes/discord/index.js';
import type { Fleet, Submission } from './harness.js';
import { statusOf } from '../e2e/card-reader.js';
import { recordFault } from '../faults/ledger.js';

/** One `/imagine` of a fleet test: who sent it, and the marker its prompt carries. */
export interface SentJob {
  readonly handle: InteractionHandle;
  readonly memberId: string;
  /** Unique text in its prompt, found again in what ComfyUI received. */
  readonly marker: string;
}

/** A finished card accepted by Discord: files, no Cancel button, on the interaction's reply or in its channel. */
function isFinishedCardPost(discord: FakeDiscord, call: RecordedCall, job: SentJob): boolean {
  if (call.status !== 200 || call.files.length === 0) return false;
  const body = JSON.stringify(call.body);
  if (body.includes('"custom_id":"cancel:')) return false;
  const onCard =
    call.method === 'PATCH' && call.path.includes(`/webhooks/${discord.applicationId}/${job.handle.token}/`);
  const inChannel =
    call.method === 'POST' && call.route === '/channels/:channelId/messages' && body.includes(job.marker);
  return onCard || inChannel;
}

/**
 * Whether the finished card was the last thing that landed on the job's card: no edit Discord accepted after it (a
 * late progress or position edit would replace the finished card, its files included).
 */
export function finishedCardStaysLast(discord: FakeDiscord, job: SentJob): boolean {
  const edits = job.handle.calls.filter((call) => call.method === 'PATCH' && call.status === 200);
  const finished = edits.findIndex((call) => isFinishedCardPost(discord, call, job));
  return finished !== -1 && finished === edits.length - 1;
}

/** How many finished cards each job got (exactly once is 1), in the order of `jobs`. */
export function finishedCards(discord: FakeDiscord, jobs: readonly SentJob[]): number[] {
  const posts = discord.calls.filter((call) => call.status === 200 && call.files.length > 0);
  return jobs.map((job) => posts.filter((call) => isFinishedCardPost(discord, call, job)).length);
}

/** Whether the job's card shows an end: done, failed or cancelled. */
export function hasEnded(job: SentJob): boolean {
  const content = statusOf(job.handle.original ?? {});
  return /^(Done\b|❌|Cancelled)/.test(content);
}

/** The failure sentence on the job's card, if it failed. */
export function failureOf(job: SentJob): string | undefined {
  const content = statusOf(job.handle.original ?? {});
  return content.startsWith('❌') ? content : undefined;
}

/** How many prompts each job sent to ComfyUI (once is right, also across a kill), in the order of `jobs`. */
export function promptsSent(submissions: readonly Submission[], jobs: readonly SentJob[]): number[] {
  return jobs.map((job) => submissions.filter((submission) => submission.text.includes(job.marker)).length);
}

/**
 * Fairness as the single-process runner is held to it (members take turns): going through the jobs in the order
 * they reached ComfyUI, the most turns any member got ahead of another member who was waiting at that moment (had a
 * job acknowledged and not yet sent). Round-robin gives 0; first come, first served with one member's six jobs ahead
 * of everyone gives 5.
 */
export function largestLead(submissions: readonly Submission[], jobs: readonly SentJob[]): number {
  const firstSent = new Map<SentJob, number>();
  for (const job of jobs) {
    const first = submissions.find((submission) => submission.text.includes(job.marker));
    if (first) firstSent.set(job, first.at);
  }
  const order = [...firstSent].sort((a, b) => a[1] - b[1]);
  const served = new Map<string, number>();
  let lead = 0;
  for (const [job, at] of order) {
    const waiting = jobs.filter((other) => {
      const acknowledged = other.handle.callback?.at;
      const sent = firstSent.get(other);
      return (
        other.memberId !== job.memberId && acknowledged !== undefined && acknowledged < at && (sent ?? at + 1) > at
      );
    });
    const turns = served.get(job.memberId) ?? 0;
    for (const other of waiting) lead = Math.max(lead, turns - (served.get(other.memberId) ?? 0));
    served.set(job.memberId, turns + 1);
  }
  return lead;
}

/** The jobs that have not ended, with their prompts and every edit of their card: a failure's account. */
export function describeUnended(fleet: Fleet, jobs: readonly SentJob[]): string {
  const open = jobs.filter((job) => !hasEnded(job));
  const lines = open.map((job) => {
    const prompts = fleet.submissions.filter((submission) => submission.text.includes(job.marker));
    const card = job.handle.callback ? JSON.stringify(statusOf(job.handle.original ?? {})) : 'no callback';
    const edits = job.handle.calls
      .filter((call) => call.method === 'PATCH')
      .map((call) => {
        const content = statusOf((call.body ?? {}) as { components?: unknown[] }).slice(0, 24);
        const files = call.files.length > 0 ? ' +files' : '';
        return `${call.receivedAt % 1_000_000} ${call.status} ${JSON.stringify(content)}${files}`;
      });
    const clients = prompts.map((prompt) => prompt.clientId).join(', ');
    return `${job.marker}: card ${card}, prompts sent ${prompts.length} (client ${clients}); edits: ${edits.join(' | ')}`;
  });
  return `${jobs.length - open.length} of ${jobs.length} ended; open:\n${lines.join('\n')}`;
}

/**
 * Waits until every job has ended, adds them to the fault ledger under `fault`, and checks that each got exactly one
 * finished card, no failure sentence, and sent its prompt to ComfyUI once.
 */
export async function expectEachDeliveredOnce(
  fleet: Fleet,
  jobs: readonly SentJob[],
  fault: string,
  timeoutMs = 240_000,
): Promise<void> {
  await fleet.until(
    'every job to end',
    () => jobs.filter(hasEnded).length,
    (ended) => ended === jobs.length,
    timeoutMs,
    () => describeUnended(fleet, jobs),
  );
  const cards = finishedCards(fleet.discord, jobs);
  recordFault(
    fault,
    jobs.map((job, index) => ({ deliveries: cards[index]!, sentences: failureOf(job) ? 1 : 0 })),
  );
  expect(jobs.map(failureOf).filter(Boolean), fleet.output.slice(-20_000)).toEqual([]);
  expect(cards, 'finished cards per job').toEqual(jobs.map(() => 1));
  expect(promptsSent(fleet.submissions, jobs), 'prompts sent to ComfyUI per job').toEqual(jobs.map(() => 1));
}
