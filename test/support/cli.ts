/** Runs the built CLI (dist/cli/main.js) as a real child process, the way an admin's shell would. */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../..');
export const CLI_PATH = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface CliRun {
  /** Exit status; null when the process was killed (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in milliseconds. */
  ms: number;
  /** The working directory the process ran in (a fresh, empty temporary directory unless given). */
  cwd: string;
}

export interface RunOptions {
  /** The whole environment of the child besides PATH: nothing else leaks in from the test process. */
  env?: Record<string, string>;
  /** Working directory; by default a fresh empty one, so no `.env` is picked up. */
  cwd?: string;
  /** Kill the child after this long (default 20 s). */
  timeoutMs?: number;
  /** Called with the child once spawned, e.g. to signal it mid-run. */
  onSpawn?: (child: ChildProcess) => void;
  /** The CLI script to run; default this checkout's dist/cli/main.js. */
  script?: string;
}

/** Throws with a clear message when the CLI has not been built. */
export function requireBuiltCli(): void {
  if (!fs.existsSync(CLI_PATH)) {
    throw new Error(
      `${CLI_PATH} is missing: these tests run the built CLI. Run \`npm run build\` first (\`npm test\` does it).`,
    );
  }
}

const tempDirs: string[] = [];

/** A fresh empty directory, removed by `removeTempDirs`. */
export function makeTempDir(prefix = 'atlassian-iam-e2e-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Spawns `node dist/cli/main.js …args` asynchronously (a synchronous spawn would block the event loop, and
 * with it an emulated Atlassian server running in this same process).
 */
export function runCli(args: string[], options: RunOptions = {}): Promise<CliRun> {
  const cwd = options.cwd ?? makeTempDir();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, ...options.env };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.script ?? CLI_PATH, ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    options.onSpawn?.(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - started,
        cwd,
      });
    });
  });
}

/** The whole of stdout parsed as JSON; fails with the output shown when it is not JSON alone. */
export function parseJsonOutput<T = unknown>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch (error) {
    throw new Error(
      `stdout is not a JSON document alone (${(error as Error).message}).\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`,
    );
  }
}

/** For failure messages: everything the process said. */
export function describeRun(run: CliRun): string {
  return `exit ${run.code}${run.signal ? ` (${run.signal})` : ''} in ${Math.round(run.ms)} ms\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
}
