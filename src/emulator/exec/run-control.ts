/**
 * How a running prompt is stopped: ComfyUI's global interrupt flag (checked at node starts and sampler steps) and
 * the emulator's own "abandon" used by restart(), which makes a run vanish without a trace.
 */

/** ComfyUI's InterruptProcessingException. */
export class InterruptProcessing extends Error {
  override readonly name = 'InterruptProcessing';
}

/** Thrown inside an abandoned run so it unwinds without sending anything. */
export class RunAbandoned extends Error {
  override readonly name = 'RunAbandoned';
}

/** One prompt's execution, as seen by the code that may need to stop it. */
export class RunControl {
  abandoned = false;

  constructor(
    readonly promptId: string,
    readonly clientId: string | null,
    private readonly interruptPending: () => boolean,
  ) {}

  /** Throws if the run was abandoned. */
  checkAbandoned(): void {
    if (this.abandoned) throw new RunAbandoned('run abandoned');
  }

  /** Throws if abandoned or interrupted (ComfyUI's throw_exception_if_processing_interrupted). */
  checkInterrupt(): void {
    this.checkAbandoned();
    if (this.interruptPending()) throw new InterruptProcessing('Processing interrupted');
  }
}
