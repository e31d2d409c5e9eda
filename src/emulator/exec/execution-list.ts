/**
 * ComfyUI's ExecutionList (comfy_execution/graph.py): a topological sort seeded from the output nodes, skipping
 * cached ancestors, that picks the next ready node with the same "show results early" heuristic, so nodes run in the
 * same order as on a real server.
 */

/** What the list needs to know about the graph. */
export interface GraphView {
  /** `[sourceId, slot]` links of a node, by input name, in input order. */
  links(nodeId: string): Array<readonly [string, number]>;
  isOutput(nodeId: string): boolean;
  isCached(nodeId: string): boolean;
}

/** Pending nodes and who blocks whom. */
export class ExecutionList {
  private readonly pending = new Map<string, true>();
  private readonly blockCount = new Map<string, number>();
  private readonly blocking = new Map<string, Map<string, Set<number>>>();

  constructor(private readonly graph: GraphView) {}

  /** Adds a node and (unless cached) its ancestors. */
  addNode(nodeId: string): void {
    const stack = [nodeId];
    const links: Array<[string, number, string]> = [];
    while (stack.length > 0) {
      const id = stack.pop() as string;
      if (this.pending.has(id)) continue;
      this.pending.set(id, true);
      this.blockCount.set(id, 0);
      this.blocking.set(id, new Map());
      for (const [source, slot] of this.graph.links(id)) {
        if (!this.graph.isCached(source)) stack.push(source);
        links.push([source, slot, id]);
      }
    }
    for (const [source, slot, target] of links) this.addStrongLink(source, slot, target);
  }

  private addStrongLink(source: string, slot: number, target: string): void {
    if (this.graph.isCached(source)) return;
    this.addNode(source);
    const blocked = this.blocking.get(source) as Map<string, Set<number>>;
    if (!blocked.has(target)) {
      blocked.set(target, new Set());
      this.blockCount.set(target, (this.blockCount.get(target) ?? 0) + 1);
    }
    blocked.get(target)?.add(slot);
  }

  /** True when nothing is left. */
  isEmpty(): boolean {
    return this.pending.size === 0;
  }

  /** The next node to run, or undefined on a dependency cycle. */
  stage(): string | undefined {
    const ready = [...this.pending.keys()].filter((id) => this.blockCount.get(id) === 0);
    return ready.length === 0 ? undefined : this.pick(ready);
  }

  /** Marks a staged node done and unblocks its dependents. */
  complete(nodeId: string): void {
    this.pending.delete(nodeId);
    for (const target of this.blocking.get(nodeId)?.keys() ?? []) {
      this.blockCount.set(target, (this.blockCount.get(target) ?? 1) - 1);
    }
    this.blocking.delete(nodeId);
  }

  /** Output nodes first, then nodes feeding an output directly, then at two removes, else the first ready. */
  private pick(ready: readonly string[]): string {
    const isOutput = (id: string): boolean => this.graph.isOutput(id);
    const blockedBy = (id: string): string[] => [...(this.blocking.get(id)?.keys() ?? [])];
    return (
      ready.find((id) => isOutput(id)) ??
      ready.find((id) => blockedBy(id).some(isOutput)) ??
      ready.find((id) => blockedBy(id).some((next) => blockedBy(next).some(isOutput))) ??
      (ready[0] as string)
    );
  }
}
