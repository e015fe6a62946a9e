import type { DestinationStream } from "pino";

/**
 * Readable log lines for a person at a terminal: pino-pretty as a plain
 * synchronous stream in this thread. Not a pino transport: a transport runs
 * in a worker thread with its own V8 heap (tens of MiB held for the life of
 * the process), and a synchronous write keeps lines in order with the
 * start-up line printed beside them. Loaded only when stdout is a terminal.
 */
export async function terminalDestination(): Promise<DestinationStream> {
  const { default: pretty } = await import("pino-pretty");
  return pretty({
    sync: true,
    colorize: true,
    translateTime: "SYS:HH:MM:ss.l",
    ignore: "pid,hostname,service",
    singleLine: true,
  });
}
