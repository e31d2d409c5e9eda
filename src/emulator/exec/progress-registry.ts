/**
 * ComfyUI's per-prompt progress registry (comfy_execution/progress.py): node states in first-touched order, and a
 * `progress_state` message listing every non-pending node on each start / update / finish.
 */

type NodeState = 'pending' | 'running' | 'finished' | 'error';

interface NodeProgress {
  state: NodeState;
  value: number;
  max: number;
}

/** Sends one progress_state snapshot. */
export type ProgressStateSink = (data: { prompt_id: string; nodes: Record<string, unknown> }) => void;

/** Node progress for one prompt. */
export class ProgressRegistry {
  private readonly nodes = new Map<string, NodeProgress>();

  constructor(
    private readonly promptId: string,
    private readonly sink: ProgressStateSink,
  ) {}

  /** A node started executing. */
  start(nodeId: string): void {
    Object.assign(this.entry(nodeId), { state: 'running', value: 0, max: 1 });
    this.publish();
  }

  /** A node reported progress. */
  update(nodeId: string, value: number, max: number): void {
    Object.assign(this.entry(nodeId), { state: 'running', value, max });
    this.publish();
  }

  /** A node finished (or was served from cache). */
  finish(nodeId: string): void {
    const entry = this.entry(nodeId);
    entry.state = 'finished';
    entry.value = entry.max;
    this.publish();
  }

  private entry(nodeId: string): NodeProgress {
    let entry = this.nodes.get(nodeId);
    if (!entry) {
      entry = { state: 'pending', value: 0, max: 1 };
      this.nodes.set(nodeId, entry);
    }
    return entry;
  }

  private publish(): void {
    const nodes: Record<string, unknown> = {};
    for (const [nodeId, entry] of this.nodes) {
      if (entry.state === 'pending') continue;
      nodes[nodeId] = {
        value: entry.value,
        max: entry.max,
        state: entry.state,
        node_id: nodeId,
        prompt_id: this.promptId,
        display_node_id: nodeId,
        parent_node_id: null,
        real_node_id: nodeId,
      };
    }
    this.sink({ prompt_id: this.promptId, nodes });
  }
}
