// The worker of the Web Worker benchmark: a runner on the IndexedDB database named by the worker's name.
import { IndexedDbBackend } from "taskflow-ts/idb";
import { exposeRunner } from "taskflow-ts/worker";
import { benchFlows } from "./worker-flows.js";

exposeRunner({ flows: benchFlows, backend: IndexedDbBackend.open(self.name) });
