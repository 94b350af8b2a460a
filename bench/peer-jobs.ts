// TaskFlow's own job board beside ours (issue 13's benchmark): bench/peer/jobboard_redis.py runs
// the same invoice jobs through a RedisJobBoard drained by blocking conductors, on a private
// redis-server. Skipped, with the reason, where Python TaskFlow, redis-server or python3-redis is
// missing.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One case of the peer's job board. */
export interface PeerJobsLine {
  board: "taskflow-redis";
  store: "sqlite" | "memory";
  conductors: number;
  jobs: number;
  ms: number;
  jobs_per_s: number;
  consumed_per_conductor: number[];
}

const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./peer/jobboard_redis.py", import.meta.url));

/** Runs the peer's cases, or says why it cannot. */
export function measurePeerJobs(jobs: number, conductors: number[], sqliteJobs: number): { lines: PeerJobsLine[]; skipped?: string } {
  const missing = !existsSync(PYTHON) ? "no /usr/bin/python3" : !hasModules() ? "Python TaskFlow or python3-redis is not installed (apt-get install -y python3-taskflow python3-redis python3-sqlalchemy-utils)" : !onPath("redis-server") ? "redis-server is not installed (apt-get install -y redis-server)" : undefined;
  if (missing) return { lines: [], skipped: missing };
  const out = execFileSync(PYTHON, [SCRIPT, String(jobs), conductors.join(","), String(sqliteJobs)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 20 * 60 * 1000 });
  const lines = out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as PeerJobsLine & { skipped?: string });
  const skipped = lines.find((l) => l.skipped)?.skipped;
  return skipped ? { lines: [], skipped } : { lines };
}

function hasModules(): boolean {
  try {
    execFileSync(PYTHON, ["-c", "import taskflow, redis, sqlalchemy_utils"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
