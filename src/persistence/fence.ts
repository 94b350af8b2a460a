import { LockLost } from "../errors.js";
import type { FlowDetail, WriteBatch } from "./models.js";

/**
 * The fencing rule, applied by every backend inside the transaction of a commit: the flow
 * details to store for `batch`, each with the newest token seen for it (a batch's fence raises
 * it, nothing lowers it, not even a record written without a fence from a stale copy); the
 * stored flow detail is added when only its token changes.
 * `stored(uuid)`: the flow detail as stored now, read in the same transaction.
 * @throws LockLost when the batch's token is older than the flow's: nothing may be written
 * @example const flows = fencedFlows(batch, (uuid) => storedFlows.get(uuid)); // then put them with the rest of the batch
 */
export function fencedFlows(batch: WriteBatch, stored: (uuid: string) => FlowDetail | undefined): readonly FlowDetail[] {
  const { fence } = batch;
  let claimed: FlowDetail | undefined;
  if (fence) {
    const current = stored(fence.flowUuid);
    const epoch = current?.epoch ?? 0;
    if (fence.epoch < epoch) {
      throw new LockLost(
        `flow detail "${fence.flowUuid}" was taken over by a newer runner (token ${epoch}); this runner's write (token ${fence.epoch}) was refused and nothing of it was stored: load the flow again to see where it is`,
      );
    }
    if (current && fence.epoch > epoch && !batch.flows.some((f) => f.uuid === fence.flowUuid)) claimed = { ...current, epoch: fence.epoch };
  }
  // No list of its own for a batch without flow details (most: an atom's transition).
  const flows = batch.flows.length === 0 ? batch.flows : batch.flows.map((f) => {
    const epoch = Math.max(f.epoch ?? 0, stored(f.uuid)?.epoch ?? 0, f.uuid === fence?.flowUuid ? fence.epoch : 0);
    return epoch === (f.epoch ?? 0) ? f : { ...f, epoch };
  });
  return claimed ? [...flows, claimed] : flows;
}

/**
 * The next fencing token of a flow, from its stored detail (`Backend.claim`, in one transaction):
 * the detail to store (undefined when the flow is not stored yet) and the token.
 * @example const { flow, epoch } = nextEpoch(stored); if (flow) put(flow); return epoch;
 */
export function nextEpoch(stored: FlowDetail | undefined): { flow: FlowDetail | undefined; epoch: number } {
  const epoch = (stored?.epoch ?? 0) + 1;
  return { flow: stored && { ...stored, epoch }, epoch };
}
