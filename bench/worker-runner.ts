// The worker of the Web Worker benchmark: a runner on the IndexedDB database named by the
// worker's name, or on a MemoryBackend for the worker named "memory".
import { MemoryBackend } from "taskflow-ts";
import { IndexedDbBackend } from "taskflow-ts/idb";
import { exposeRunner } from "taskflow-ts/worker";
import { benchFlows } from "./worker-flows.js";

exposeRunner({ flows: benchFlows, backend: self.name === "memory" ? new MemoryBackend() : IndexedDbBackend.open(self.name) });
