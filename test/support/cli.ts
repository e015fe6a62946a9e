import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

/**
 * The `strata` command as it ships: bin/strata.mjs runs the compiled build in
 * dist/ (rebuilt first if a source is newer), so these tests exercise the
 * built output, not the TypeScript sources.
 */
const BIN = path.resolve(import.meta.dirname, "../../bin/strata.mjs");
export const ROOT = path.resolve(import.meta.dirname, "../..");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `strata ...args` to completion with only the given environment (plus PATH). */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`strata ${args.join(" ")} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts `strata ...args` and resolves once its output matches `ready`. */
export function startCommand(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> {
  return startProcess(
    process.execPath,
    [BIN, ...args],
    { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...env },
    ready,
  );
}

/** `npm start` in the repository, as a user runs it; resolves once the server says where it listens. */
export async function startNpmStart(env: Record<string, string>) {
  const started = await startProcess(
    "npm",
    ["start"],
    { ...process.env, LOG_LEVEL: "warn", ...env } as Record<string, string>,
    /listening on (http:\/\/\S+:\d+)/,
    ROOT,
  );
  return { child: started.child, url: started.match[1] as string, output: started.output };
}

/**
 * `strata ...args` on a pseudo-terminal (util-linux `script`), so the
 * process sees a TTY on stdout as it does when a person runs it.
 */
export function startOnTerminal(args: string[], env: Record<string, string>, ready: RegExp) {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  return startProcess(
    "script",
    ["-qfec", command, "/dev/null"],
    { PATH: process.env.PATH ?? "", TERM: "xterm", LOG_LEVEL: "info", ...env },
    ready,
  );
}

function startProcess(
  file: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  cwd?: string,
): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, ...(cwd ? { cwd } : {}) });
    let output = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${file} ${args.join(" ")} did not start:\n${output}`));
    }, 120_000);
    const onData = (d: Buffer) => {
      output += d;
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, output: () => output });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} ${args.join(" ")} exited with ${code}:\n${output}`));
    });
  });
}

/** Starts `strata serve` and resolves once it prints where it listens. */
/** `strata serve` on a free port of the loopback interface (unless `env` says otherwise), once it listens. */
export async function startServe(env: Record<string, string>) {
  const started = await startCommand(
    ["serve"],
    { PORT: "0", HOST: "127.0.0.1", ...env },
    /listening on (http:\/\/\S+:\d+)/,
  );
  return { child: started.child, url: started.match[1] as string, output: started.output };
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}
