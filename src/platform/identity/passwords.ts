import { hash, verify } from "@node-rs/argon2";
import type { FieldProblem } from "../errors/app-error.ts";

/**
 * Password hashing with argon2id at OWASP's recommended cost (19 MiB, 2
 * passes), and the policy a new password must meet. The hash string carries
 * its own parameters, so raising the cost later keeps old hashes verifiable.
 */
// algorithm 2 is Argon2id (the package exports it as a const enum, which isolated modules cannot read).
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** A fixed hash to verify against when the email is unknown, so both paths take the same time. */
let decoy: Promise<string> | null = null;
export async function verifyAgainstDecoy(password: string): Promise<void> {
  decoy ??= hashPassword("strata-decoy-password-never-matches");
  await verifyPassword(await decoy, password);
}

const COMMON = new Set([
  "password",
  "password1",
  "password123",
  "1234567890",
  "qwertyuiop",
  "letmein123",
  "iloveyou12",
]);

/** Problems with a new password, as field problems for `body.password`; empty when it is acceptable. */
export function passwordProblems(password: string, email?: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const field = "body.password";
  if (password.length < MIN_PASSWORD_LENGTH) {
    problems.push({ field, code: "too_short", message: `must be at least ${MIN_PASSWORD_LENGTH} characters` });
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    problems.push({ field, code: "too_long", message: `must be at most ${MAX_PASSWORD_LENGTH} characters` });
  }
  const lower = password.toLowerCase();
  if (COMMON.has(lower) || new Set(password).size < 4) {
    problems.push({ field, code: "too_weak", message: "is too easy to guess" });
  }
  if (email && lower.includes(email.toLowerCase().split("@")[0] ?? "\u0000") && email.split("@")[0]!.length >= 4) {
    problems.push({ field, code: "too_weak", message: "must not contain the email address" });
  }
  return problems;
}
