import { describe, expect, it } from 'vitest';
import { heapify, heapPop, heapPush, type HeapKey } from '../../../src/emulator/queue/heap.js';

const key = (number: number): HeapKey => ({ number, promptId: `p${number}` });

describe('the prompt heap', () => {
  it('keeps the same array order as Python heapq after pushes, a pop and a heapify', () => {
    const heap: HeapKey[] = [];
    for (const number of [5, 3, 8, 1, 9, 2]) heapPush(heap, key(number));
    expect(heap.map((item) => item.number)).toEqual([1, 3, 2, 5, 9, 8]);
    expect(heapPop(heap)?.number).toBe(1);
    expect(heap.map((item) => item.number)).toEqual([2, 3, 8, 5, 9]);
    heap.splice(1, 1);
    heapify(heap);
    expect(heap.map((item) => item.number)).toEqual([2, 8, 5, 9]);
  });

  it('orders equal numbers by prompt id', () => {
    const heap: HeapKey[] = [];
    heapPush(heap, { number: 1, promptId: 'b' });
    heapPush(heap, { number: 1, promptId: 'a' });
    expect(heapPop(heap)?.promptId).toBe('a');
  });
});
