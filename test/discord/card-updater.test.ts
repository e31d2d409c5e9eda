/**
 * The card updater's one ordering rule: a queue position never lands on a card after a later state of it. Two
 * processes of a fleet are two updaters here, each with its own connection to one real redis-server (the fence is
 * there), editing one card through one recording REST: the dispatcher shows positions, the carrier the rest.
 */
import type { REST } from 'discord.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CardUpdater, type CardTarget } from '../../src/discord/card-updater.js';
import type { RenderedCard } from '../../src/discord/cards.js';
import { RedisPositionFence, type PositionFence } from '../../src/jobs/engine/position-fence.js';
import { silentLogger } from '../../src/logger.js';
import { shouldRunRedisTests, startRedisServer, type RedisServer } from '../store/redis-server.js';

const target: CardTarget = {
  applicationId: 'app',
  interactionToken: 'token',
  tokenExpiresAt: Date.now() + 3_600_000,
  channelId: 'channel',
  memberId: 'member',
};

/** A card whose only content is its name, so the edit log reads as the states the member saw, in order. */
const card = (name: string) => (): RenderedCard => ({
  components: [{ type: 10, content: name } as RenderedCard['components'][number]],
  files: [],
});

/** Discord's side of one card: the edits in the order they were answered; an edit can be held in flight. */
class RecordingDiscord {
  readonly edits: string[] = [];
  /** Per held edit: resolves it when sent, and what it waits for before it is answered. */
  readonly #held = new Map<string, { sent: () => void; released: Promise<void> }>();

  /** The edit showing `name` stays in flight until `release()`; `reached` resolves once it was sent. */
  hold(name: string): { release: () => void; reached: Promise<void> } {
    let release!: () => void;
    let sent!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const reached = new Promise<void>((resolve) => (sent = resolve));
    this.#held.set(name, { sent, released });
    return { release, reached };
  }

  readonly rest = {
    patch: async (_route: string, options: { body: { components: Array<{ content: string }> } }) => {
      const name = options.body.components[0]!.content;
      const held = this.#held.get(name);
      held?.sent();
      await held?.released;
      this.edits.push(name);
      return { id: 'message' };
    },
  } as unknown as REST;
}

/** A fence that tells the test each answer it gave. */
function watched(fence: PositionFence): PositionFence & { answers: boolean[] } {
  const watch = {
    answers: [] as boolean[],
    begin: async (jobId: string) => {
      const end = await fence.begin(jobId);
      watch.answers.push(end !== undefined);
      return end;
    },
    close: (jobId: string) => fence.close(jobId),
  };
  return watch;
}

describe.runIf(shouldRunRedisTests('card updater suite (the fleet’s position fence)'))(
  'queue positions and the later states of a card shown by two processes',
  () => {
    let redis: RedisServer;
    const connections: Redis[] = [];
    const connect = () => {
      const connection = new Redis(redis.url);
      connections.push(connection);
      return connection;
    };

    beforeAll(async () => {
      redis = await startRedisServer();
    });

    afterAll(async () => {
      await Promise.all(connections.map(async (connection) => connection.quit()));
      await redis?.stop();
    });

    it('lets no position of a dispatcher that lost its lease land after the carrier’s finished card', async () => {
      const discord = new RecordingDiscord();
      const oldDispatcherFence = watched(new RedisPositionFence(connect(), 'old-dispatcher'));
      const updater = (fence: PositionFence) =>
        new CardUpdater({ rest: discord.rest, logger: silentLogger(), minIntervalMs: 50, fence });
      const oldDispatcher = updater(oldDispatcherFence);
      const carrier = updater(new RedisPositionFence(connect(), 'carrier'));

      // The old dispatcher (stalled past its lease: nobody told it the job left) has one position in flight and the
      // next one waiting for its turn, while the new dispatcher hands the job to a carrier that finishes it.
      const inFlight = discord.hold('Queued, position 2');
      oldDispatcher.show('job-a', target, card('Queued, position 2'), 'position');
      await inFlight.reached;
      oldDispatcher.show('job-a', target, card('Queued, position 1'), 'position');
      const finished = carrier.settle('job-a').then(() => discord.rest.patch('/final', { body: finishedBody }));
      inFlight.release();
      await finished;
      // The old dispatcher's next position is either refused or sent (after the finished card).
      await until(() => oldDispatcherFence.answers.length === 2 || discord.edits.length > 2);

      expect(discord.edits).toEqual(['Queued, position 2', 'Done']);
      expect(oldDispatcherFence.answers).toEqual([true, false]);
    });

    it('lets no position land after a card a cancel through another process ended', async () => {
      const discord = new RecordingDiscord();
      const dispatcherFence = watched(new RedisPositionFence(connect(), 'dispatcher'));
      const dispatcher = new CardUpdater({
        rest: discord.rest,
        logger: silentLogger(),
        minIntervalMs: 1_000,
        fence: dispatcherFence,
      });
      const receiver = new CardUpdater({
        rest: discord.rest,
        logger: silentLogger(),
        fence: new RedisPositionFence(connect(), 'receiver'),
      });

      dispatcher.show('job-b', target, card('Queued, position 3'), 'position');
      await until(() => discord.edits.length === 1);
      // The position the dispatcher shows next waits for its turn (a second) ...
      dispatcher.show('job-b', target, card('Queued, position 2'), 'position');
      // ... while the member's Cancel, received by another process, ends the waiting job and its card says so.
      await receiver.settle('job-b');
      await discord.rest.patch('/final', { body: { components: [{ content: 'Cancelled' }] } });
      await until(() => dispatcherFence.answers.length === 2 || discord.edits.length > 2);

      // (On a machine too slow to post the cancelled card within that second, the position goes first: also right.)
      expect(discord.edits.at(-1)).toBe('Cancelled');
      expect(discord.edits.filter((edit) => edit === 'Cancelled')).toHaveLength(1);
    });

    it('sends a later state only after a position edit under way in the same process has answered', async () => {
      const discord = new RecordingDiscord();
      const cards = new CardUpdater({ rest: discord.rest, logger: silentLogger(), minIntervalMs: 0 });
      const inFlight = discord.hold('Queued, position 1');
      cards.show('job-c', target, card('Queued, position 1'), 'position');
      await inFlight.reached;
      // The job leaves the queue (its pending position dropped, without waiting) and its carrier, the same process,
      // shows that it starts.
      void cards.settle('job-c');
      cards.show('job-c', target, card('Starting…'), 'state');
      await new Promise((resolve) => setImmediate(resolve));
      expect(discord.edits).toEqual([]);
      inFlight.release();
      await until(() => discord.edits.length === 2);
      expect(discord.edits).toEqual(['Queued, position 1', 'Starting…']);
    });
  },
);

describe.runIf(shouldRunRedisTests('card updater suite (a fence whose Redis stops answering)'))(
  'a card whose fleet fence stops answering',
  () => {
    it('drops the position it cannot begin, and its later state still goes out', async () => {
      const frozen = await startRedisServer();
      const connection = new Redis(frozen.url);
      // The server's own pid, from the server: stopped (SIGSTOP) it keeps its sockets open and answers nothing, as a
      // frozen host or a cut network does.
      const pid = Number(/process_id:(\d+)/.exec(await connection.info('server'))?.[1]);
      const fence = new RedisPositionFence(connection, 'dispatcher');
      let begun = 0;
      const counted: PositionFence = {
        begin: async (jobId) => {
          begun += 1;
          return fence.begin(jobId);
        },
        close: async (jobId) => fence.close(jobId),
      };
      const discord = new RecordingDiscord();
      const cards = new CardUpdater({
        rest: discord.rest,
        logger: silentLogger(),
        minIntervalMs: 0,
        fence: counted,
        fenceWaitMs: { begin: 200, close: 200 },
      });
      process.kill(pid, 'SIGSTOP');
      try {
        cards.show('job-f', target, card('Queued, position 1'), 'position');
        await until(() => begun === 1);
        // The job leaves the queue and its card is settled for its final post: no answer from Redis holds it.
        await cards.settle('job-f');
        cards.show('job-f', target, card('Starting…'), 'state');
        await until(() => discord.edits.length === 1);
        expect(discord.edits).toEqual(['Starting…']);
      } finally {
        process.kill(pid, 'SIGCONT');
        connection.disconnect();
        await frozen.stop();
      }
    });
  },
);

const finishedBody = { components: [{ content: 'Done' }] };

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}
