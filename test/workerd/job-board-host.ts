import { JobBoardObject } from "../../adapters/durable-object/index.js";
import { systemClock } from "../../src/index.js";

const NOW = "test:now";

/** The JobBoardObject under test, with a clock the test sets (`setNow`), so a lease runs out without waiting for it. */
export class TestJobBoard extends JobBoardObject<Cloudflare.Env> {
  protected override now(): number {
    return this.ctx.storage.kv.get<number>(NOW) ?? super.now();
  }

  /** A lease on the moved clock rings that far from the system clock's now; on the system clock, at its time. */
  protected override alarmAt(expiry: number): number {
    const now = this.ctx.storage.kv.get<number>(NOW);
    return now === undefined ? expiry : systemClock.now() + Math.max(0, expiry - now);
  }

  protected override secret(): string | undefined {
    return this.ctx.storage.kv.get<boolean>("test:no-secret") ? undefined : super.secret();
  }

  /** Makes this object one deployed without its secret binding. */
  dropSecret(): void {
    this.ctx.storage.kv.put("test:no-secret", true);
  }

  /** Sets this object's time (ms since the epoch). */
  setNow(ms: number): void {
    this.ctx.storage.kv.put(NOW, ms);
  }
}
