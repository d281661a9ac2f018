/**
 * Issue 10, finding 8: exports piped to another program were cut short (the CLI called process.exit
 * before a pipe had taken what was written; `audit --json | jq` got 65,536 of 2,760,147 bytes). Each
 * command here runs through a shell, once into a slow reader (a child process that pauses after every
 * chunk) and once redirected to a file: both must receive the same bytes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openStore } from '../../src/store';
import { CLI_PATH, makeTempDir, removeTempDirs, REPO_ROOT, requireBuiltCli } from '../support/cli';

const SLOW_READER = path.join(REPO_ROOT, 'test', 'support', 'slow-reader.cjs');
const AUDIT_ROWS = 3000;

let dir: string;
let env: Record<string, string>;

/** Runs `sh -c script` in `dir`; resolves with its exit status. */
function shell(script: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { cwd: dir, env, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

const cli = (args: string): string => `"${process.execPath}" "${CLI_PATH}" ${args}`;
const slowReader = (file: string): string => `"${process.execPath}" "${SLOW_READER}" ${file}`;

/** The same command into a file and through a slow pipe; returns both outputs. */
async function fileAndPipe(args: string, stream: 1 | 2 = 1): Promise<{ file: Buffer; piped: Buffer }> {
  const other = stream === 1 ? '2>/dev/null' : '>/dev/null';
  await shell(`${cli(args)} ${stream}>direct.out ${other}`);
  // Into the pipe: stdout, or stderr (`2>&1` first, pointing at the pipe, then stdout away).
  const intoPipe = stream === 1 ? '2>/dev/null' : '2>&1 >/dev/null';
  await shell(`${cli(args)} ${intoPipe} | ${slowReader('piped.out')}`);
  return {
    file: fs.readFileSync(path.join(dir, 'direct.out')),
    piped: fs.readFileSync(path.join(dir, 'piped.out')),
  };
}

beforeAll(async () => {
  requireBuiltCli();
  dir = makeTempDir('atlassian-iam-pipe-');
  const database = path.join(dir, 'audit.db');
  env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, DATABASE_URL: `sqlite:${database}` };
  const store = await openStore({ kind: 'sqlite', path: database });
  const detail = { note: 'x'.repeat(600), more: 'ünïcødé ‮ text' };
  for (let i = 0; i < AUDIT_ROWS; i++) {
    await store.appendAudit({
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
      actor: 'cli:admin',
      source: 'cli',
      kind: 'result',
      command: 'iam-get-user',
      target: `user${i}@example.com`,
      outcome: 'success',
      requestId: null,
      detail,
    });
  }
  await store.close();
});

afterAll(() => removeTempDirs());

it('finding 8: audit --json piped to a slow reader arrives whole (the same bytes as into a file)', async () => {
  const { file, piped } = await fileAndPipe('audit --json --limit 10000');
  expect(file.length).toBeGreaterThan(2_000_000);
  expect(piped.length).toBe(file.length);
  expect(piped.equals(file)).toBe(true);
  expect(JSON.parse(piped.toString('utf8'))).toHaveLength(AUDIT_ROWS);
});

it('finding 8: audit --csv piped to a slow reader arrives whole', async () => {
  const { file, piped } = await fileAndPipe('audit --csv --limit 10000');
  expect(file.length).toBeGreaterThan(1_000_000);
  expect(piped.length).toBe(file.length);
  expect(piped.equals(file)).toBe(true);
});

it('finding 8: the audit table piped to a slow reader arrives whole', async () => {
  const { file, piped } = await fileAndPipe('audit --limit 10000');
  expect(file.length).toBeGreaterThan(200_000);
  expect(piped.length).toBe(file.length);
  expect(piped.equals(file)).toBe(true);
});

it('finding 8: bulk piped to a slow reader loses none of its per-row lines or its summary', async () => {
  // Rows with no identifier are malformed: each one is a line on stderr, and none is sent anywhere.
  const rows = 5_000;
  fs.writeFileSync(path.join(dir, 'users.csv'), 'title,department\n' + 'Engineer,Platform\n'.repeat(rows));
  const rowLines = (output: Buffer): number =>
    output
      .toString('utf8')
      .split('\n')
      .filter((line) => /^row \d+: malformed: /.test(line)).length;
  // A fresh report each time, so that every run has every row to do.
  const errors = await fileAndPipe('bulk create users.csv --report "$(mktemp -p .)"', 2);
  expect(errors.file.length).toBeGreaterThan(400_000);
  expect(rowLines(errors.file)).toBe(rows);
  expect(rowLines(errors.piped)).toBe(rows);

  const summary = await fileAndPipe('bulk create users.csv --json --report "$(mktemp -p .)"');
  for (const output of [summary.file, summary.piped]) {
    expect(JSON.parse(output.toString('utf8'))).toMatchObject({ rows: { total: rows, malformed: rows } });
  }
}, 90_000);
