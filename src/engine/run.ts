import type { RunnerState } from "../states.js";
import { type Loaded, Runner, type RunOptions } from "./runner.js";

/** What was asked of a run before its runner existed. */
export interface RunRequests {
  suspend: boolean;
  cancel: { reason: string; at: number } | undefined;
}

/**
 * One run of an engine, from the moment `run()` is called: it owns suspend and cancel from then
 * on. While the flow detail loads, what is asked is kept and applied by the runner before it
 * schedules anything; afterwards it goes to the runner at once.
 */
export class Run {
  readonly #asked: RunRequests = { suspend: false, cancel: undefined };
  #runner: Runner | undefined;
  #ended = false;

  readonly #options: RunOptions;

  constructor(options: RunOptions) {
    this.#options = options;
  }

  /** Builds the runner and runs. */
  async start(loaded: Loaded, hook: ((state: RunnerState) => Promise<void>) | undefined): Promise<void> {
    if (this.#ended) return;
    this.#runner = new Runner(this.#options, loaded);
    await this.#runner.run(this.#asked, hook);
  }

  /** Whether the runner is not built yet: what is asked now is applied before its first step. */
  get starting(): boolean {
    return !this.#runner && !this.#ended;
  }

  suspend(): void {
    if (this.#runner) this.#runner.suspend();
    else this.#asked.suspend = true;
  }

  cancel(cancelled: { reason: string; at: number }): void {
    if (this.#runner) this.#runner.cancel(cancelled);
    else this.#asked.cancel = cancelled;
  }

  /** Something outside changed (back online): look again. */
  poke(): void {
    this.#runner?.poke();
  }

  /** Intentions or inputs changed from outside (a provide, a revision): look again. */
  refresh(): void {
    this.#runner?.refresh();
  }

  /** The run is over (it failed): whatever still runs is told through its signal. */
  end(reason: unknown): void {
    this.#ended = true;
    this.#runner?.abortActions(reason);
  }
}
