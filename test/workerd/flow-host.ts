import { DurableObject } from "cloudflare:workers";

export class FlowHost extends DurableObject {}
