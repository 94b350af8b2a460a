// flows.ts: what one queued submission does: sign it (a SHA-256 of its text), then send it to
// the server. Each task reports progress; `executed` hears every execution (the page counts them).
import { FlowRegistry, linearFlow, task } from "taskflow-ts";

/** One form submission, as it waits in the queue (plain data: it is the job's store). */
export interface Submission {
  name: string;
  message: string;
}

/** Where an upload goes: the page's own server (examples/offline/serve.ts). */
export const UPLOADS_PATH = "/uploads";

/** The flows a tab's conductor runs; `executed(task, key)` is told of each execution. */
export function offlineFlows(executed: (task: string, idempotencyKey: string) => void): FlowRegistry {
  return new FlowRegistry().register("submit", () =>
    linearFlow("submit",
      task({
        name: "sign", requires: ["submission"], provides: "digest",
        execute: async ({ submission }: { submission: Submission }, ctx) => {
          executed("sign", ctx.idempotencyKey);
          const bytes = new TextEncoder().encode(`${submission.name}\n${submission.message}`);
          ctx.updateProgress(0.5);
          const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
          return [...hash].map((b) => b.toString(16).padStart(2, "0")).join("");
        },
      }),
      task({
        name: "send", requires: ["submission", "digest"], provides: "receipt",
        execute: async ({ submission, digest }: { submission: Submission; digest: string }, ctx) => {
          executed("send", ctx.idempotencyKey);
          // The same key if this runs again after a crash: the server can drop the second copy.
          const response = await whenOnline(ctx.signal, () => fetch(UPLOADS_PATH, {
            method: "POST", signal: ctx.signal,
            headers: { "content-type": "application/json", "idempotency-key": ctx.idempotencyKey },
            body: JSON.stringify({ ...submission, digest }),
          }));
          if (!response.ok) throw new Error(`the server answered ${response.status} to the upload of "${submission.name}"`);
          return (await response.json()) as { receipt: number };
        },
      }),
    ));
}

/**
 * Calls `send`; if it fails because the network went (the browser says it is offline), waits for
 * the network and calls it again, rather than failing the flow: the submission is still queued.
 */
async function whenOnline<T>(signal: AbortSignal, send: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await send();
    } catch (error) {
      if (navigator.onLine || signal.aborted) throw error;
      await new Promise<void>((resolve) => {
        const done = () => (removeEventListener("online", done), signal.removeEventListener("abort", done), resolve());
        addEventListener("online", done);
        signal.addEventListener("abort", done);
      });
    }
  }
}
