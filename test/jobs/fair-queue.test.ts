import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../src/jobs/fair-queue.js';

interface Item {
  readonly id: string;
  readonly memberId: string;
}

/** `job('a', 3)` is member a's third job, `a3`. */
function job(memberId: string, number: number): Item {
  return { id: `${memberId}${number}`, memberId };
}

function queueOf(...items: Item[]): FairQueue<Item> {
  const queue = new FairQueue<Item>();
  for (const item of items) queue.push(item);
  return queue;
}

function drain(queue: FairQueue<Item>): string[] {
  const served: string[] = [];
  for (let item = queue.takeFirst(); item !== undefined; item = queue.takeFirst()) served.push(item.id);
  return served;
}

const ids = (items: readonly Item[]) => items.map((item) => item.id);

describe('FairQueue', () => {
  it('serves one member in arrival order', () => {
    expect(drain(queueOf(job('a', 1), job('a', 2), job('a', 3)))).toEqual(['a1', 'a2', 'a3']);
  });

  it('lets a member with one job go second, not behind ten jobs of another member', () => {
    const queue = new FairQueue<Item>();
    for (let number = 1; number <= 10; number++) queue.push(job('a', number));
    queue.push(job('b', 1));
    expect(queue.positions().get('b1')).toBe(2);
    expect(drain(queue).slice(0, 3)).toEqual(['a1', 'b1', 'a2']);
  });

  it('alternates between members who queued many jobs each', () => {
    const queue = queueOf(job('a', 1), job('a', 2), job('a', 3), job('b', 1), job('b', 2), job('c', 1));
    expect(drain(queue)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  it('takes at most one job per member in a round, even after the member was just served', () => {
    const queue = queueOf(job('a', 1), job('a', 2), job('b', 1));
    expect(queue.takeFirst()?.id).toBe('a1');
    queue.push(job('a', 3));
    expect(ids(queue.ordered())).toEqual(['b1', 'a2', 'a3']);
  });

  it('serves a newcomer before members who already had their turn in this round', () => {
    const queue = queueOf(job('a', 1), job('a', 2), job('b', 1), job('b', 2));
    expect(queue.takeFirst()?.id).toBe('a1');
    expect(queue.takeFirst()?.id).toBe('b1');
    queue.push(job('c', 1));
    expect(ids(queue.ordered())).toEqual(['c1', 'a2', 'b2']);
  });

  it('puts a newcomer behind those still waiting for their turn in this round', () => {
    const queue = queueOf(job('a', 1), job('a', 2), job('b', 1), job('c', 1));
    expect(queue.takeFirst()?.id).toBe('a1');
    queue.push(job('d', 1));
    expect(ids(queue.ordered())).toEqual(['b1', 'c1', 'd1', 'a2']);
  });

  it('numbers every waiting job from 1', () => {
    const queue = queueOf(job('a', 1), job('a', 2), job('b', 1));
    expect([...queue.positions()]).toEqual([
      ['a1', 1],
      ['b1', 2],
      ['a2', 3],
    ]);
  });

  it('moves a member’s later jobs up a round when one is removed', () => {
    const queue = queueOf(job('a', 1), job('a', 2), job('a', 3), job('b', 1), job('b', 2), job('b', 3));
    expect(queue.remove('a1')?.id).toBe('a1');
    expect(ids(queue.ordered())).toEqual(['a2', 'b1', 'a3', 'b2', 'b3']);
    expect(queue.has('a1')).toBe(false);
    expect(queue.size).toBe(5);
  });

  it('returns undefined when removing something that does not wait', () => {
    expect(queueOf(job('a', 1)).remove('zz')).toBeUndefined();
  });

  it('serves jobs pushed to the front before every round, in the order given', () => {
    const queue = queueOf(job('a', 1), job('b', 1));
    queue.pushFront(job('c', 1), job('c', 2));
    queue.pushFront(job('d', 1));
    expect(drain(queue)).toEqual(['d1', 'c1', 'c2', 'a1', 'b1']);
  });

  it('does not count a job handed back to the front as the member’s new turn', () => {
    const queue = queueOf(job('a', 2), job('b', 1));
    queue.pushFront(job('a', 1));
    expect(drain(queue)).toEqual(['a1', 'a2', 'b1']);
  });

  it('skips jobs that cannot be served now without losing their place', () => {
    const queue = queueOf(job('a', 1), job('b', 1), job('c', 1));
    expect(queue.takeFirst((item) => item.memberId !== 'a')?.id).toBe('b1');
    expect(ids(queue.ordered())).toEqual(['a1', 'c1']);
  });

  it('counts each member’s waiting jobs, front lane included', () => {
    const queue = queueOf(job('a', 1), job('a', 2), job('b', 1));
    queue.pushFront(job('a', 0));
    expect(queue.countFor('a')).toBe(3);
    expect(queue.countFor('b')).toBe(1);
    expect(queue.countFor('nobody')).toBe(0);
  });

  it('forgets nothing it still needs after many rounds', () => {
    const queue = new FairQueue<Item>();
    const served: string[] = [];
    for (let round = 1; round <= 5; round++) {
      queue.push(job('a', round));
      queue.push(job('b', round));
      served.push(queue.takeFirst()?.id ?? 'none');
    }
    served.push(...drain(queue));
    expect(served).toHaveLength(10);
    expect(new Set(served).size).toBe(10);
    expect(served.slice(0, 2)).toEqual(['a1', 'b1']);
  });
});
