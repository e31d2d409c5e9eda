/**
 * A testing aid: the process kills itself (SIGKILL, no clean-up at all) when it reaches the named point, so tests can
 * crash a real bot at the exact moment that matters and check what the next start does. Set with
 * `COMFYCORD_FAULT_POINT` (read in config.ts only); unset in production, where every point is a no-op.
 *
 * The points, in the order a delivery reaches them: `delivery:before-post`, `delivery:during-upload`,
 * `delivery:after-post`, `delivery:after-session`, `delivery:after-generation`, `delivery:after-post-recorded`,
 * `delivery:before-delivered`; and in the web face's creation of a generation and its end:
 * `web:after-idempotency-key`, `web:after-record`, `web:after-enqueue`, `web:after-outcome`, `web:before-webhook`;
 * and in the queue's intake of a job: `intake:after-record` (the job written, not yet counted nor queued); and in
 * the Discord face's receipt of a request (request-journal.ts): `command:journaled` (the request written down, the
 * interaction not yet acknowledged), `command:acknowledged` (deferred, no job written yet), `refine:journaled` (a reply
 * that refines written down, no status card yet), `refine:card-posted` (its status card posted, its id not yet noted)
 * and `refine:card-noted` (the card's id noted in the entry, no job yet).
 */

/** Reaching a named point: kills the process when it is the configured one. */
export type FaultPoint = (name: FaultPointName) => void;

/** The steps of delivering a result to Discord. */
export const DELIVERY_FAULT_POINTS = [
  'delivery:before-post',
  'delivery:during-upload',
  'delivery:after-post',
  'delivery:after-session',
  'delivery:after-generation',
  'delivery:after-post-recorded',
  'delivery:before-delivered',
] as const;

/** The web face's steps: creating a generation (key, record, job), and after its end (outcome, webhook). */
export const WEB_FAULT_POINTS = [
  'web:after-idempotency-key',
  'web:after-record',
  'web:after-enqueue',
  'web:after-outcome',
  'web:before-webhook',
] as const;

/** The queue's intake of a job: written to the store, not yet counted against its member nor queued. */
export const INTAKE_FAULT_POINTS = ['intake:after-record'] as const;

/** The Discord face's receipt of a request, between writing it down and its job. */
export const RECEIPT_FAULT_POINTS = [
  'command:journaled',
  'command:acknowledged',
  'refine:journaled',
  'refine:card-posted',
  'refine:card-noted',
] as const;

/** Every point at which a process can be told to die. */
export const FAULT_POINTS = [
  ...DELIVERY_FAULT_POINTS,
  ...WEB_FAULT_POINTS,
  ...INTAKE_FAULT_POINTS,
  ...RECEIPT_FAULT_POINTS,
] as const;
export type FaultPointName = (typeof FAULT_POINTS)[number];

/** No fault anywhere. */
export const noFault: FaultPoint = () => undefined;

/** The fault switch for the configured point (or none). */
export function faultPointFor(configured: FaultPointName | undefined): FaultPoint {
  if (configured === undefined) return noFault;
  return (name) => {
    if (name === configured) process.kill(process.pid, 'SIGKILL');
  };
}
