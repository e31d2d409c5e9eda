/**
 * One piece of state every stage of the job layer reads and changes atomically: in this process's memory for the
 * embedded engine, in Redis for the fleet (see redis-cell.ts). The stages are written against this interface only, so
 * the embedded bot and the fleet run the same scheduling code.
 */
import type { StateHints } from './queue-state.js';

/** A value changed atomically, across every process that shares it. */
export interface SharedCell<State> {
  /**
   * Runs `change` on the current state and keeps what it leaves; resolves with what `change` returned. In the fleet
   * a change that raced another process's is run again on the newer state, and so is one that asked for a part of the
   * state not loaded yet (`hints` name what it will touch, to load it at once), so `change` must only touch the state.
   * `now` is the cell's clock (epoch ms), read with the state: in a fleet Redis's own, the one clock every process
   * shares, so a deadline in the state means the same on every host whatever its clock says.
   */
  change<Result>(change: (state: State, now: number) => Result, hints?: StateHints): Promise<Result>;
  /** Runs `look` on the current state without changing it (only the parts `hints` name need be read). */
  look<Result>(look: (state: State) => Result, hints?: StateHints): Promise<Result>;
  /** Reads the whole current state (and remembers it as `last`). */
  read(): Promise<State>;
  /** The state as this process last read or wrote it: what a synchronous snapshot shows. */
  readonly last: State;
}

/** A cell in this process's memory: the embedded engine's. */
export class MemoryCell<State> implements SharedCell<State> {
  constructor(private state: State) {}

  get last(): State {
    return this.state;
  }

  async change<Result>(change: (state: State, now: number) => Result): Promise<Result> {
    return change(this.state, Date.now());
  }

  async look<Result>(look: (state: State) => Result): Promise<Result> {
    return look(this.state);
  }

  async read(): Promise<State> {
    return this.state;
  }
}
