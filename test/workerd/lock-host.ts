import { LockObject } from "../../adapters/durable-object/index.js";

const OFFSET = "test:clock-offset-ms";

/** The LockObject under test, with a clock the test moves (`advanceClock`), so a lease runs out without waiting for it. */
export class TestLocks extends LockObject {
  protected override now(): number {
    return super.now() + (this.ctx.storage.kv.get<number>(OFFSET) ?? 0);
  }

  /** Moves this object's clock `ms` ahead. */
  advanceClock(ms: number): void {
    this.ctx.storage.kv.put(OFFSET, (this.ctx.storage.kv.get<number>(OFFSET) ?? 0) + ms);
  }
}
