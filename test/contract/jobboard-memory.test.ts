import { MemoryJobBoard } from "../../src/jobs/index.js";
import { describeJobBoardContract } from "./jobboard-contract.js";

describeJobBoardContract("memory", { make: ({ clock, leaseMs }) => new MemoryJobBoard({ clock, leaseMs }) });
