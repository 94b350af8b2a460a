import { JobBoardObject } from "../../adapters/durable-object/index.js";

const NOW = "test:now";

/** The JobBoardObject under test, with a clock the test sets (`setNow`), so a lease runs out without waiting for it. */
export class TestJobBoard extends JobBoardObject<Cloudflare.Env> {
  protected override now(): number {
    return this.ctx.storage.kv.get<number>(NOW) ?? super.now();
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
