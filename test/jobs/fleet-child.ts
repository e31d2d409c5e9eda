/**
 * One process of a fleet, for the fleet tests: a JobRunner on the fleet engine over a real Redis, the shipped
 * workflows and the given ComfyUI servers, as `npm start` builds it (without Discord). It prints one JSON line per job
 * event (`{"process","jobId","type",…}`), takes `enqueue <member> <steps>` lines on stdin (answering
 * `{"enqueued": id}` or `{"refused": identifier}`) and `cancel <member> <job id>` (`{"cancelRequested": id}`), and on SIGTERM stops (drains) and exits; SIGUSR2 only drains it
 * (`{"drained": true}`), holding it in the window where a stopping bot's gateway still brings commands. Its environment may set
 * `COMFYCORD_FAULT_POINT` (it kills itself there) and `FLEET_CHILD_JOBS_PER_MEMBER` (default 20).
 * Usage: tsx test/jobs/fleet-child.ts <name> <redis url> <server url>...
 */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { isUserFacing } from '../../src/errors.js';
import { FAULT_POINTS, faultPointFor } from '../../src/fault-point.js';
import { FleetEngine } from '../../src/jobs/engine/fleet.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { createLogger, silentLogger } from '../../src/logger.js';
import { openStore } from '../../src/store/open-store.js';
import { holdRunnerLease, processLease } from '../../src/store/runner-lease.js';
import { loadWorkflows } from '../../src/workflows/index.js';

const [name, url, ...serverUrls] = process.argv.slice(2);
const faultPoint = FAULT_POINTS.find((point) => point === process.env['COMFYCORD_FAULT_POINT']);
const logger = process.env['FLEET_CHILD_DEBUG']
  ? createLogger({ level: 'debug', format: 'json', destination: process.stderr })
  : silentLogger();
const store = await openStore(url!, logger);
const lease = await holdRunnerLease(store, logger, { name: processLease(name!), ttlMs: 3_000 });
const engine = new FleetEngine({
  url: url!,
  store,
  processName: name!,
  logger,
  lockDurationMs: 3_000,
  stalledIntervalMs: 1_000,
  dispatcherLeaseMs: 2_000,
  intakeGraceMs: 3_000,
  strayCheckMs: 500,
});
const runner = new JobRunner({
  store,
  servers: serverUrls.map((serverUrl, index) => ({ name: `gpu${index + 1}`, url: serverUrl })),
  workflows: await loadWorkflows(join(import.meta.dirname, '../../workflows'), logger),
  defaultWorkflow: 'txt2img',
  promptsPerServer: 1,
  limits: { jobsPerMember: Number(process.env['FLEET_CHILD_JOBS_PER_MEMBER'] ?? 20), queueLength: 200 },
  health: { healthIntervalMs: 200, downBackoff: { minMs: 100, maxMs: 400 }, failuresBeforeDown: 2 },
  engine,
  fault: faultPointFor(faultPoint),
  logger,
});
const print = (line: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ process: name, ...line })}\n`);
runner.onEvent((job, event) => {
  const { type } = event;
  print({
    jobId: job.id,
    memberId: job.memberId,
    type,
    ...(event.type === 'queued' ? { position: event.position } : {}),
    ...(event.type === 'submitted' ? { server: event.server } : {}),
    ...(event.type === 'progress' ? { value: event.value } : {}),
    ...(event.type === 'succeeded' ? { bytes: event.files[0]?.bytes.length } : {}),
  });
});
await runner.resume();
print({ ready: true, leading: engine.leading });

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, memberId, argument] = line.trim().split(/\s+/);
  if (memberId === undefined) return;
  const refused = (error: unknown) =>
    print({ refused: isUserFacing(error) ? error.identifier : String(error), memberId });
  if (command === 'cancel' && argument !== undefined) {
    runner.cancel(argument, memberId).then(() => print({ cancelRequested: argument, memberId }), refused);
    return;
  }
  if (command !== 'enqueue') return;
  const steps = argument;
  const settings = { prompt: `a fox for ${memberId}`, steps: Number(steps ?? 3), width: 256, height: 256 };
  runner
    .enqueue({ memberId, channelId: 'channel-1', guildId: 'guild-1', settings })
    .then((job) => print({ enqueued: job.id, memberId }), refused);
});

process.once('SIGUSR2', () => void runner.drain().then(() => print({ drained: true })));

process.once('SIGTERM', () => {
  void (async () => {
    await runner.stop();
    await lease.release();
    await store.close();
    print({ stopped: true });
    process.exit(0);
  })();
});
