/** The server could not bind its address; names it and the reason (EADDRINUSE, EACCES). */
export class ListenError extends Error {
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    const reason =
      code === "EADDRINUSE"
        ? "the port is in use by another process (choose another with PORT, or 0 for any free one)"
        : ((cause as Error)?.message ?? String(cause));
    super(`cannot listen on ${address}: ${reason}`, { cause });
    this.name = "ListenError";
  }
}
