// Entry of the versions benchmark's client thread: a worker thread does not
// get the bench's `--import tsx` loader, so it registers tsx itself and then
// imports the TypeScript client.
import { register } from "tsx/esm/api";

register();
await import("./versions-client.ts");
