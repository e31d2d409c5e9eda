import { describe, expect, it } from 'vitest';
import { ExecutionList } from '../../../src/emulator/exec/execution-list.js';

type Graph = Record<string, { links: Array<[string, number]>; output?: boolean }>;

function order(graph: Graph, outputs: string[], cached: string[] = []): string[] {
  const list = new ExecutionList({
    links: (id) => graph[id]?.links ?? [],
    isOutput: (id) => graph[id]?.output === true,
    isCached: (id) => cached.includes(id),
  });
  for (const output of outputs) list.addNode(output);
  const seen: string[] = [];
  while (!list.isEmpty()) {
    const next = list.stage();
    if (next === undefined) throw new Error('cycle');
    seen.push(next);
    list.complete(next);
  }
  return seen;
}

describe('the execution order', () => {
  it('runs the recorded text-to-image graph in ComfyUI order (4, 5, 7, 6, 3, 8, 9)', () => {
    const graph: Graph = {
      '3': {
        links: [
          ['4', 0],
          ['6', 0],
          ['7', 0],
          ['5', 0],
        ],
      },
      '4': { links: [] },
      '5': { links: [] },
      '6': { links: [['4', 1]] },
      '7': { links: [['4', 1]] },
      '8': {
        links: [
          ['3', 0],
          ['4', 2],
        ],
      },
      '9': { links: [['8', 0]], output: true },
    };
    expect(order(graph, ['9'])).toEqual(['4', '5', '7', '6', '3', '8', '9']);
  });

  it('shows a preview as soon as its input is ready and skips cached ancestors', () => {
    const graph: Graph = {
      '1': { links: [] },
      '2': { links: [['1', 0]] },
      '3': { links: [['2', 0]], output: true },
      '4': { links: [['1', 0]], output: true },
    };
    expect(order(graph, ['3', '4'])).toEqual(['1', '4', '2', '3']);
    expect(order(graph, ['3', '4'], ['1', '2', '4'])).toEqual(['3', '4']);
  });
});
