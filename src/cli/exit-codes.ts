/**
 * The `strata` command's exit codes, from BSD's sysexits.h so that service
 * managers and scripts can tell "fix the config" from "try again later".
 */
export const ExitCode = {
  ok: 0,
  /** Anything unexpected. */
  failure: 1,
  /** EX_UNAVAILABLE: a dependency (database, key-value store, blob store) cannot be reached at start. */
  dependencyUnavailable: 69,
  /** EX_OSERR: the operating system refused the listening socket (port in use, no permission). */
  cannotListen: 71,
  /**
   * EX_TEMPFAIL: the embedded data directory is held by another live Strata
   * process. A temporary condition by nature: the same command succeeds once
   * that process stops, which is what EX_TEMPFAIL tells a supervisor
   * (systemd, a retry loop). EX_CANTCREAT (73) was the other candidate, but it
   * says a file cannot be created, which is neither the cause nor the remedy.
   */
  dataDirLocked: 75,
  /** EX_CONFIG: a configuration value is bad; the variable is named. */
  badConfig: 78,
} as const;
