// The baseline of a remote task's overhead: a bare Comlink round trip to a no-op in a Worker.
import * as Comlink from "comlink";

Comlink.expose({ noop: () => undefined });
