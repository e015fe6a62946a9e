import type { Logger } from "../platform/logging/logger.ts";

/**
 * On SIGINT, SIGTERM or SIGHUP (the terminal it runs in was closed): stop
 * taking work, let what is in flight finish, close connections, exit 0. If that takes longer than the grace period, exit 1.
 * A second signal exits at once.
 */
export function onShutdown(logger: Logger, graceMs: number, shutdown: () => Promise<void>) {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      logger.error({ graceMs }, "shutdown took too long; exiting");
      process.exit(1);
    }, graceMs);
    timer.unref();
    shutdown().then(
      () => {
        clearTimeout(timer);
        process.exit(0);
      },
      (error) => {
        logger.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  process.on("SIGHUP", handler);
}
