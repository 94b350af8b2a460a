/**
 * taskflow-ts: OpenStack TaskFlow's model of structured, persisted workflow state (tasks,
 * flows, engines, log books, resume) for any JavaScript runtime.
 * @module taskflow-ts
 */
export * from "./errors.js";
export * from "./states.js";
export { Failure, WrappedFailure, registerErrorClass, type FailureData } from "./failure.js";
export type { ErrorClass } from "./error-classes.js";
export { Atom, type AtomOptions, type ProvidesSpec } from "./atoms/atom.js";
export { Task, task, type TaskContext, type RevertContext, type TaskSpec, type TaskOptions } from "./atoms/task.js";
export {
  Retry, History, Times, ForEach, ParameterizedForEach, AlwaysRevert, AlwaysRevertAll,
  type RetryDecision, type RetryOptions, type HistoryEntry,
} from "./atoms/retry.js";
export { remoteTask, type RemoteTaskSpec } from "./atoms/remote-task.js";
export { Executor } from "./engine/actions/delegate.js";
export type { TaskExecutor, TaskRequest, ExecutionContext, ExecutionOutcome } from "./ports/executor.js";
export { type Backoff, backoffDelay } from "./atoms/backoff.js";
export { Sleep, sleep, sleepUntil, type SleepOptions } from "./atoms/sleep.js";
export { parseDuration, InvalidDuration, type Duration, type DurationUnit } from "./duration.js";
export { WaitFor, waitFor, type WaitForOptions, type InputSchema } from "./atoms/wait-for.js";
export type { Waiting } from "./engine/inputs.js";
export { Flow, type FlowItem, type FlowItems, type FlowOptions } from "./patterns/flow.js";
import type { FlowItem } from "./patterns/flow.js";
export { LinearFlow, linearFlow } from "./patterns/linear.js";
export { UnorderedFlow, unorderedFlow } from "./patterns/unordered.js";
export { GraphFlow, graphFlow, type Decider, type DeciderDepth, type LinkOptions, type GraphEdge } from "./patterns/graph.js";
import { compile as compileGraph, type FlowGraph } from "./engine/compiler.js";
export type { FlowGraph, GraphNode } from "./engine/compiler.js";
/**
 * Compiles a flow into its execution graph (what `engine.compile()` returns): checks names and
 * structure, for drawing or testing a definition without running it.
 * @throws Duplicate for two atoms of one name; CompilationFailure for a misplaced retry
 * @example toDot(compile(linearFlow("f", a, b)))
 */
export const compile: (flow: FlowItem) => FlowGraph = compileGraph;
export { toDot, toMermaid } from "./engine/export-graph.js";
export { Engine, type EngineOptions, type EngineStatistics } from "./engine/engine.js";
export { load, run, FlowRegistry, type FlowFactory } from "./engine/helpers.js";
export { provide, revise, waitingFor, type InputOptions } from "./engine/revise.js";
export { runIter } from "./engine/run-iter.js";
export type { FlowStorage, StoredValues } from "./storage/storage.js";
export type { Carried, FetchAll, Merge, Needs, Provided, ProvidedBy, Results, Several } from "./typing.js";
export { checkStorable } from "./storage/storable.js";
export type { Backend, ClaimedFlow, ExpireOptions, ListOptions } from "./ports/backend.js";
export type { Lease, LockOptions, LockService } from "./ports/lock.js";
export { MemoryLockService } from "./locks/memory.js";
export { type Clock, systemClock } from "./ports/clock.js";
export { type IdGenerator, defaultIds } from "./ports/ids.js";
export * from "./persistence/models.js";
export { MemoryBackend, type MemoryDump } from "./persistence/memory.js";
/**
 * One reader of a stored flow: `readSnapshot(backend, flowDetailId)` (or `snapshotOf(flowDetail,
 * atomDetails)`) gives its state, every atom of its definition in order (PENDING where nothing is
 * stored yet) with results, failures and attempts, whether it has ended, when it next wakes up and
 * what it waits for; with the small rules behind them (final states, a retry's provided value,
 * the next wake-up). `examples/read-a-log-book.ts` runs it.
 * @example
 * const snap = await readSnapshot(backend, flowDetailId);
 * for (const atom of snap.atoms) console.log(atom.name, atom.state, atom.result ?? atom.failure?.exceptionStr);
 */
export { snapshotOf, readSnapshot, type FlowSnapshot, type AtomSnapshot, type WaitingInput } from "./snapshot/snapshot.js";
export { isFinalFlowState, nextWakeup } from "./snapshot/rules.js";
export type { FlowEvent, AtomEvent, ProgressEvent, WaitEvent, CommittedEvent, EngineEvents, Listener } from "./notify/notifier.js";
export { captureListener, printingListener, durationListener, formatEvent } from "./notify/listeners.js";
