import { type Logger, pino } from "pino";

export type { Logger };

/**
 * Structured JSON logs on stdout, one object a line, ready for any collector.
 * Secrets that may pass through request logs are redacted at the source.
 */
export function createLogger(level: string): Logger {
  return pino({
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
  });
}
