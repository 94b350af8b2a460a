import { StorageFailure, TaskFlowError } from "taskflow-ts";

/**
 * The browser's IndexedDB errors, told in the log book's terms: what happened, that nothing of the
 * failed transaction was written (IndexedDB rolls a failed transaction back whole), what to do.
 * Errors of the core (NotFound, InvalidFormat, StorageFailure) pass through unchanged.
 */
export function storageError(e: unknown, doing: "commit" | "read" | "delete"): Error {
  if (e instanceof TaskFlowError) return e;
  const { name, message } = (e ?? {}) as { name?: string; message?: string };
  const undone = doing === "read" ? "" : "; nothing of it was written, the log book is as its last commit left it";
  switch (name) {
    case "QuotaExceededError":
      return new StorageFailure(
        `IndexedDB ${doing} refused: the browser's storage quota for this site is full${undone}. ` +
          "Free space (delete finished log books with expire() or listFinished()) and resume the flow",
        { cause: e },
      );
    case "DataCloneError":
      return new StorageFailure(`IndexedDB ${doing} refused: a record cannot be stored (${message}); results and inputs must be structured-cloneable${undone}`, { cause: e });
    case "AbortError":
      return new StorageFailure(`IndexedDB ${doing} aborted before it completed${undone}; it can be retried`, { cause: e });
    case "InvalidStateError":
      // The connection closed under the call (another tab's upgrade, site data cleared).
      return new StorageFailure(`IndexedDB ${doing} failed: the connection was closed (${message})${undone}; retry, it reopens`, { cause: e });
    default:
      return new StorageFailure(`IndexedDB ${doing} failed: ${name ?? "Error"}: ${message ?? String(e)}${undone}`, { cause: e });
  }
}
