import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger };

/**
 * Structured JSON logs on stdout, one object a line, ready for any collector
 * (or, given `destination`, wherever that stream writes: on a terminal the
 * readable one from terminal-destination.ts). Secrets that may pass through
 * request logs are redacted at the source.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: "strata" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers.cookie",
        'res.headers["set-cookie"]',
        "*.password",
        "*.refreshToken",
      ],
      censor: "[redacted]",
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
