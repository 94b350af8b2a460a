// resumeOrStart (issue 15, item 2) beyond the backend contract: the choices on a finished or a
// missing flow, a changed definition, a backend without keys, and keys through a memory dump.
import { describe, expect, it } from "vitest";
import { IncompatibleVersion, InvalidFormat, linearFlow, MemoryBackend, NotFound, StorageFailure, task, type Backend, type MemoryDump } from "../../src/index.js";
import { memoryBackendFromDump } from "../../src/backend.js";
import { BackendWrapper } from "../../src/backend.js";
import { resumeOrStart } from "../../src/resume.js";

const step = (name: string, seen: string[]) => task({ name, provides: name, execute: () => (seen.push(name), name.length) });

describe("resumeOrStart", () => {
  it("resumes an unfinished flow where it stopped, through a JSON dump of the backend, and finds the same flow by its key", async () => {
    const seen: string[] = [];
    const wizard = () => linearFlow("wizard", step("one", seen), step("two", seen));
    const backend = new MemoryBackend();
    const first = await resumeOrStart("wizard:ada", wizard, { backend, store: { user: "ada" } });
    expect(first.outcome).toBe("started");
    first.engine.on("atom", (e) => {
      if (e.name === "one" && e.state === "SUCCESS") first.engine.suspend();
    });
    await first.engine.run();
    expect(first.engine.state).toBe("SUSPENDED");

    // A page reload: only what was stored comes back, keys included.
    const reloaded = memoryBackendFromDump(JSON.parse(JSON.stringify(backend.dump())) as MemoryDump);
    const again = await resumeOrStart("wizard:ada", wizard, { backend: reloaded });
    expect(again.outcome).toBe("resumed");
    expect(again.engine.flowDetailId).toBe(first.engine.flowDetailId);
    await again.engine.run();
    expect(seen).toEqual(["one", "two"]);
    expect(again.engine.storage.fetch("user")).toBe("ada");
    // Another key is another flow.
    expect((await resumeOrStart("wizard:bob", wizard, { backend: reloaded })).outcome).toBe("started");
    expect(await reloaded.getKeyedFlow("wizard:bob")).not.toBe(first.engine.flowDetailId);
  });

  it("returns a finished flow as it ended by default, and starts anew under the key if asked", async () => {
    const seen: string[] = [];
    const backend = new MemoryBackend();
    const make = () => linearFlow("f", step("a", seen));
    const { engine } = await resumeOrStart("k", make, { backend });
    await engine.run();
    const finished = await resumeOrStart("k", make, { backend });
    expect(finished.outcome).toBe("finished");
    expect(finished.engine.storage.fetch("a")).toBe(1);
    const restarted = await resumeOrStart("k", make, { backend, ifFinished: "start" });
    expect(restarted.replaced).toEqual({ flowDetailId: engine.flowDetailId, reason: "finished" });
    expect(restarted.engine.state).toBe("PENDING");
    expect(seen).toEqual(["a"]);
    // The finished flow is kept, only the key moved.
    expect((await backend.getFlowDetail(engine.flowDetailId)).state).toBe("SUCCESS");
  });

  it("says what to do when the key's log book is gone and asked to throw; starts anew by default", async () => {
    const backend = new MemoryBackend();
    const make = () => linearFlow("f", step("a", []));
    const { engine } = await resumeOrStart("k", make, { backend });
    await backend.destroyLogBook((await backend.getFlowDetail(engine.flowDetailId)).bookUuid);
    const error = await resumeOrStart("k", make, { backend, ifMissing: "throw" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFound);
    expect((error as Error).message).toMatch(/"k" points at flow detail .* no longer stored .*ifMissing: "start".*deleteKey/);
    const fresh = await resumeOrStart("k", make, { backend });
    expect(fresh.replaced).toEqual({ flowDetailId: engine.flowDetailId, reason: "missing" });
    expect(await backend.getKeyedFlow("k")).toBe(fresh.engine.flowDetailId);
  });

  it("refuses to resume with an incompatible definition, and changes nothing", async () => {
    const backend = new MemoryBackend();
    const { engine } = await resumeOrStart("k", () => linearFlow("f", step("a", [])), { backend });
    const before = JSON.stringify(backend.dump());
    await expect(resumeOrStart("k", () => linearFlow("f", task({ name: "a", requires: ["x"], execute: () => 1 })), { backend })).rejects.toBeInstanceOf(IncompatibleVersion);
    expect(JSON.stringify(backend.dump())).toBe(before);
    expect(await backend.getKeyedFlow("k")).toBe(engine.flowDetailId);
  });

  it("refuses a backend without keys and an empty key, saying why", async () => {
    class NoKeys extends BackendWrapper {
      override readonly getKeyedFlow = undefined;
    }
    const make = () => linearFlow("f", step("a", []));
    await expect(resumeOrStart("k", make, { backend: new NoKeys(new MemoryBackend()) as Backend })).rejects.toThrow(StorageFailure);
    await expect(resumeOrStart("", make, { backend: new MemoryBackend() })).rejects.toBeInstanceOf(InvalidFormat);
  });

  it("keeps the engine on the caller's backend: every later write of a started flow reaches it", async () => {
    const backend = new MemoryBackend();
    const { engine } = await resumeOrStart("k", () => linearFlow("f", step("a", [])), { backend });
    await engine.run();
    expect((await backend.getFlowDetail(engine.flowDetailId)).state).toBe("SUCCESS");
  });

  it("refuses a memory dump whose keys are not [key, flowUuid] pairs", () => {
    expect(() => memoryBackendFromDump({ logBooks: [], flows: [], atoms: [], keys: [["k", 1]] as never })).toThrow(InvalidFormat);
  });
});
