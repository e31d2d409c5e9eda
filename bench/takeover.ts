/**
 * How soon a fleet finishes an `/imagine` whose process was killed between acknowledging it and queueing its job: two
 * real comfycord processes on one real redis-server (`test/fleet/harness.ts`); the one that receives the command
 * SIGKILLs itself right after deferring it (`COMFYCORD_FAULT_POINT=command:acknowledged`), and the time from its death
 * to the first edit of the member's card (necessarily by the other process) is taken. The request names its writer's
 * life; the dispatcher looks every second for requests whose writer's life is over (src/store/process-lives.ts):
 *
 * - on one machine, the killed process's pid is seen gone at once;
 * - on one machine, the killed process being the fleet's dispatcher: the other must first take the dispatcher's
 *   lease, which lapses 10 s after its last renewal;
 * - as on another host (the receiver in a pid namespace of its own, so its pid cannot be asked), its process lease
 *   must lapse first: 30 s after its last renewal, which came at most 10 s before the kill.
 *
 * Each request must be taken over because its writer died (the survivor's log says so), and delivered exactly once;
 * anything else is a failure.
 */
import { Fleet, type FleetProcess } from '../test/fleet/harness.js';
import { finishedCards, hasEnded, promptsSent } from '../test/fleet/outcomes.js';
import type { BenchResult, Figure } from './lib/report.js';
import { summarize } from './lib/stats.js';

export interface TakeoverBenchOptions {
  /** Kills measured on each kind of host. */
  readonly runs: number;
  /** How long one request may take from the kill to its finished card. */
  readonly jobTimeoutMs: number;
}

export const TAKEOVER_DEFAULTS: TakeoverBenchOptions = { runs: 3, jobTimeoutMs: 150_000 };

const PLACES = {
  sameHost: 'one machine',
  deadDispatcher: 'one machine, the dispatcher killed',
  otherHost: 'as on another host',
} as const;
type Place = keyof typeof PLACES;

/** One kill's outcome. */
interface TakeoverSample {
  readonly place: Place;
  readonly run: number;
  /** The receiver's death to the card's first edit; undefined when none came. */
  readonly ms: number | undefined;
  /** Why the survivor took the request over (`writer-gone`, or `grace` for the time-based fallback). */
  readonly takenOver: string | undefined;
  readonly finishedCards: number;
  readonly prompts: number;
  readonly problem?: string;
}

export async function runTakeoverBench(options: TakeoverBenchOptions = TAKEOVER_DEFAULTS): Promise<BenchResult> {
  const fleet = await Fleet.start({ processes: 2, guilds: 2, membersPerGuild: 1, stepMs: 5 });
  const samples: TakeoverSample[] = [];
  try {
    for (const place of Object.keys(PLACES) as Place[]) {
      for (let run = 1; run <= options.runs; run += 1) samples.push(await measureOnce(fleet, place, run, options));
    }
  } finally {
    await fleet.close();
  }
  const failures = samples.flatMap((sample) =>
    sample.problem ? [`${PLACES[sample.place]}, kill ${sample.run}: ${sample.problem}`] : [],
  );
  const figures: Figure[] = (Object.keys(PLACES) as Place[]).flatMap((place) => {
    const seconds = summarize(
      samples.flatMap((sample) => (sample.place === place && sample.ms !== undefined ? [sample.ms / 1000] : [])),
    );
    return [
      {
        label: `SIGKILL after acknowledging → the card's first edit, ${PLACES[place]}, median`,
        value: seconds.median,
        unit: 's',
      },
      { label: `the same, ${PLACES[place]}, worst`, value: seconds.max, unit: 's' },
    ];
  });
  figures.push({
    label: `requests taken over because their writer died, delivered once (of ${samples.length})`,
    value: samples.filter((sample) => sample.problem === undefined).length,
    unit: '',
    target: { op: '>=', value: samples.length },
  });
  return {
    name: 'takeover',
    title: 'A fleet process killed after acknowledging an /imagine: how soon another finishes it',
    figures,
    details: { options, samples },
    failures,
  };
}

async function measureOnce(
  fleet: Fleet,
  place: Place,
  run: number,
  options: TakeoverBenchOptions,
): Promise<TakeoverSample> {
  const [receiver, survivor] = fleet.processes as [FleetProcess, FleetProcess];
  await fleet.stop(receiver);
  // Its own name each time: a name started again in another pid space would wait for its predecessor's lease.
  const name = `receiver-${place}-${run}`;
  await fleet.restart(
    receiver,
    { COMFYCORD_FAULT_POINT: 'command:acknowledged', COMFYCORD_PROCESS_NAME: name },
    { ownPidSpace: place === 'otherHost' },
  );
  if (place === 'deadDispatcher') {
    // The survivor stops (giving the dispatcher's lease up) and starts again: the receiver dispatches now.
    await fleet.stop(survivor);
    await fleet.until(
      'the receiver to dispatch',
      () => receiver.bot.output.join(''),
      (log) => log.includes('this process dispatches for the fleet now'),
      60_000,
    );
    await fleet.restart(survivor);
  }
  const user = fleet.guilds[0]!.members[0]!;
  const marker = `takeover-${place}-${run}-`;
  const handle = await fleet.discord.sendSlashCommand({
    user,
    channel: fleet.guilds[0]!.channel,
    name: 'imagine',
    options: { prompt: `a harbour ${marker} --steps 2` },
  });
  const job = { handle, memberId: user.id, marker };
  await receiver.bot.exited;
  const goneAt = Date.now();
  const edit = await fleet
    .until(
      'the card to be edited by the survivor',
      () => handle.edits.find((call) => call.receivedAt > goneAt && call.status < 300),
      (found) => found !== undefined,
      options.jobTimeoutMs,
    )
    .catch(() => undefined);
  const ended = await fleet
    .until('the card to end', () => hasEnded(job), Boolean, options.jobTimeoutMs)
    .then(
      () => true,
      () => false,
    );
  const cards = finishedCards(fleet.discord, [job])[0]!;
  const prompts = promptsSent(fleet.submissions, [job])[0]!;
  const takenOver = takeoverReason(survivor, name);
  // Back to a plain process for the next kill.
  await fleet.restart(receiver);
  const problem = !edit
    ? `no card edit within ${options.jobTimeoutMs / 1000} s of the kill`
    : !ended
      ? 'the card never ended'
      : cards !== 1 || prompts !== 1
        ? `${cards} finished cards, ${prompts} prompts`
        : takenOver !== 'writer-gone'
          ? `taken over for another reason (${String(takenOver)})`
          : undefined;
  return {
    place,
    run,
    ms: edit ? edit.receivedAt - goneAt : undefined,
    takenOver,
    finishedCards: cards,
    prompts,
    ...(problem ? { problem } : {}),
  };
}

/** Why the survivor said it finished the request `writer` had left. */
function takeoverReason(survivor: FleetProcess, writer: string): string | undefined {
  for (const line of survivor.bot.output.join('').split('\n')) {
    if (!line.includes('finished a request a stopped process had received')) continue;
    const entry = JSON.parse(line) as { takenOver?: string; writer?: string };
    if (entry.writer === writer) return entry.takenOver;
  }
  return undefined;
}
