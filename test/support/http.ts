import type { App } from "../../src/http/app.ts";

/** A small client over app.inject for route tests: JSON in, status and JSON out. */
export function client(app: App) {
  return async function call(
    method: "GET" | "POST" | "PATCH" | "DELETE",
    url: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string>; ip?: string } = {},
  ) {
    const res = await app.inject({
      method,
      url,
      // A fresh loopback address per call unless the test names one, so the
      // per-IP limits on auth routes only meet tests that are about them.
      remoteAddress: options.ip ?? randomLoopback(),
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { payload: options.body as object } : {}),
    });
    const body = res.body ? safeJson(res.body) : null;
    return { status: res.statusCode, headers: res.headers, body: body as any };
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function randomLoopback(): string {
  const octet = () => Math.floor(Math.random() * 254) + 1;
  return `127.${octet()}.${octet()}.${octet()}`;
}

/**
 * The same over a real socket, for a server listening at `base` (a spawned
 * `strata serve`, or a benchmark's): JSON in, status and JSON out, as the
 * caller identified by `token`.
 */
export function httpClient(base: string, options: { token?: string; timeoutMs?: number } = {}) {
  return async function call(method: string, url: string, body?: unknown) {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? safeJson(text) : null) as any };
  };
}
