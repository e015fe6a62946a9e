import { AppError } from "../errors/app-error.ts";
import { errors } from "../errors/catalog.ts";

const MAX_KEY_BYTES = 1024;
/** Letters, digits and a few punctuation marks safe in paths, URLs and S3 keys alike. */
const SEGMENT = /^[A-Za-z0-9_\-.=+@~()!,]+$/;

/**
 * Checks a blob key and returns it unchanged, or throws a 400
 * `invalid_blob_key`. The rules keep a key meaning the same thing on the
 * filesystem and on S3, and keep it from ever leaving the store's root:
 * no empty, `.` or `..` segments, no leading or doubled slashes, no
 * backslashes or control characters.
 */
export function validateBlobKey(key: string): string {
  const reason = problemWith(key);
  if (reason) throw errors.invalidBlobKey(key, reason);
  return key;
}

/** Prefixes follow the same rules, but may be empty or end with a slash. */
export function validateBlobPrefix(prefix: string): string {
  if (prefix === "") return prefix;
  const reason = problemWith(prefix.endsWith("/") ? prefix.slice(0, -1) : prefix);
  if (reason) throw errors.invalidBlobKey(prefix, reason);
  return prefix;
}

export function isInvalidBlobKey(error: unknown): boolean {
  return error instanceof AppError && error.code === "invalid_blob_key";
}

function problemWith(key: string): string | null {
  if (typeof key !== "string" || key.length === 0) return "is empty";
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `is longer than ${MAX_KEY_BYTES} bytes`;
  if (key.startsWith("/")) return "starts with a slash";
  for (const segment of key.split("/")) {
    if (segment === "") return "has an empty segment";
    if (segment === "." || segment === "..") return "has a . or .. segment";
    if (!SEGMENT.test(segment)) return "has a character outside A-Z a-z 0-9 _ - . = + @ ~ ( ) ! ,";
  }
  return null;
}
