/**
 * Python's heapq on `(number, prompt_id)` tuples, step for step, so `queue_pending` lists items in the same (heap,
 * not sorted) order as ComfyUI's.
 */

/** What the heap orders by. */
export interface HeapKey {
  readonly number: number;
  readonly promptId: string;
}

function less(a: HeapKey, b: HeapKey): boolean {
  if (a.number !== b.number) return a.number < b.number;
  return a.promptId < b.promptId;
}

/** heapq.heappush. */
export function heapPush<T extends HeapKey>(heap: T[], item: T): void {
  heap.push(item);
  siftDown(heap, 0, heap.length - 1);
}

/** heapq.heappop. */
export function heapPop<T extends HeapKey>(heap: T[]): T | undefined {
  const last = heap.pop();
  if (last === undefined || heap.length === 0) return last;
  const top = heap[0];
  heap[0] = last;
  siftUp(heap, 0);
  return top;
}

/** heapq.heapify. */
export function heapify<T extends HeapKey>(heap: T[]): void {
  for (let index = Math.floor(heap.length / 2) - 1; index >= 0; index -= 1) siftUp(heap, index);
}

function siftDown<T extends HeapKey>(heap: T[], start: number, position: number): void {
  const item = heap[position] as T;
  let pos = position;
  while (pos > start) {
    const parentPos = (pos - 1) >> 1;
    const parent = heap[parentPos] as T;
    if (!less(item, parent)) break;
    heap[pos] = parent;
    pos = parentPos;
  }
  heap[pos] = item;
}

function siftUp<T extends HeapKey>(heap: T[], position: number): void {
  const end = heap.length;
  const item = heap[position] as T;
  let pos = position;
  let child = 2 * pos + 1;
  while (child < end) {
    const right = child + 1;
    if (right < end && !less(heap[child] as T, heap[right] as T)) child = right;
    heap[pos] = heap[child] as T;
    pos = child;
    child = 2 * pos + 1;
  }
  heap[pos] = item;
  siftDown(heap, position, pos);
}
