/**
 * A dependency could not be reached at start-up; names it and where it was
 * looked for. In a file of its own so the CLI can recognise it without
 * loading the platform.
 */
export class DependencyStartError extends Error {
  constructor(
    readonly dependency: "database" | "kv" | "blobs",
    readonly target: string,
    cause: unknown,
  ) {
    super(`${dependency} (${target}) is not reachable: ${describeCause(cause)}`, { cause });
    this.name = "DependencyStartError";
  }
}

function describeCause(cause: unknown): string {
  let current = cause as { message?: string; code?: string; cause?: unknown; errors?: unknown[] } | undefined;
  // Unwrap to the innermost error, which names the real reason (ECONNREFUSED...).
  while (current?.cause || current?.errors?.length) {
    current = (current.errors?.[0] ?? current.cause) as typeof current;
  }
  if (!current) return String(cause);
  return [current.code, current.message].filter(Boolean).join(" ") || String(cause);
}
