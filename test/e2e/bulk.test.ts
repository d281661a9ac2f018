/**
 * Whole-process tests of `atlassian-iam bulk` (the built dist/cli/main.js) against the emulated Atlassian on
 * 127.0.0.1: a file with malformed rows, bad usage, resuming after failed rows, after SIGKILL and after
 * Ctrl-C, 429 bursts, progress on a pipe, the sandbox, and (issue 11) a rate limit pausing the run, DNS
 * and TLS failures stopping it, a 5xx storm opening the circuit breaker.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RecordedRequest } from '../../src/sandbox';
import {
  type CliRun,
  describeRun,
  makeTempDir,
  removeTempDirs,
  requireBuiltCli,
  runCli,
} from '../support/cli';
import { openApiProblems } from '../support/openapi';
import { type EmulatedAtlassian, startEmulatedAtlassian } from '../support/scim-server';
import type { BulkSummary } from '../../src/bulk/summary';
import { call, newUser, patchBody } from '../sandbox/fixtures';

const TOKEN = 'tok-bulk-SECRET-7';
const DIRECTORY_ID = 'dir-bulk';

interface ReportLine {
  row: number;
  outcome: string;
  identifier: string | null;
  result?: { IAM: { Vendor: Record<string, unknown> } };
  error?: string;
  operation: string;
  key: string;
  note?: string;
}

let atlassian: EmulatedAtlassian;
/** Per test: answers to send instead of the directory's (see `intercept` below). */
let scripted:
  | ((
      request: RecordedRequest,
    ) => { status: number; body?: unknown; headers?: Record<string, string> } | undefined)
  | null = null;
/** Per test: told of every request as it arrives. */
let arrivals: ((request: RecordedRequest) => void) | null = null;

beforeAll(async () => {
  requireBuiltCli();
  atlassian = await startEmulatedAtlassian({
    directoryId: DIRECTORY_ID,
    token: TOKEN,
    onRequest: (request) => arrivals?.(request),
    intercept: (request) => scripted?.(request),
  });
});

afterEach(() => {
  scripted = null;
  arrivals = null;
});

afterAll(async () => {
  await atlassian.close();
  removeTempDirs();
});

function env(cwd: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...atlassian.env,
    ATLASSIAN_TIMEOUT: '5s',
    DATABASE_URL: `sqlite:${path.join(cwd, 'audit.db')}`,
    ...extra,
  };
}

/** Seeds users straight into the directory; returns their SCIM ids by email. */
function seed(emails: string[], active = true): Map<string, string> {
  const ids = new Map<string, string>();
  for (const email of emails) {
    const created = call(atlassian.directory, 'POST', '/Users', { body: newUser(email) });
    const id = (created.body as { id: string }).id;
    if (!active) {
      call(atlassian.directory, 'PATCH', `/Users/${id}`, {
        body: patchBody({ op: 'replace', value: { active: false } }),
      });
    }
    ids.set(email, id);
  }
  return ids;
}

function activeOf(email: string): boolean | undefined {
  const listed = call(atlassian.directory, 'GET', '/Users', { query: { filter: `userName eq "${email}"` } });
  return (listed.body as { Resources?: { active?: boolean }[] }).Resources?.[0]?.active;
}

const emailsFor = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(3, '0')}@example.com`);

function writeCsv(cwd: string, text: string, name = 'users.csv'): string {
  fs.writeFileSync(path.join(cwd, name), text);
  return name;
}

/** Every line of a report: the rows' outcomes and the "sent" lines written before their first write. */
function reportLines(file: string): ReportLine[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ReportLine);
}

/** The rows' outcomes in a report. */
const readReport = (file: string): ReportLine[] =>
  reportLines(file).filter((line) => line.outcome !== 'sent');

function expectExit(run: CliRun, code: number): void {
  if (run.code !== code) throw new Error(`expected exit ${code}, got ${describeRun(run)}`);
  expect(run.stdout).not.toContain(TOKEN);
  expect(run.stderr).not.toContain(TOKEN);
}

function summaryOf(run: CliRun): BulkSummary {
  try {
    return JSON.parse(run.stdout) as BulkSummary;
  } catch {
    throw new Error(`stdout is not the JSON summary:\n${describeRun(run)}`);
  }
}

const progressLines = (run: CliRun, label: string) =>
  run.stderr.split('\n').filter((line) => line.startsWith(`${label}: `));

const userIdOf = (request: RecordedRequest) => decodeURIComponent(request.path.split('/Users/')[1] ?? '');

it('runs the good rows of a mixed file, reports and skips the malformed ones, and exits 1', async () => {
  const cwd = makeTempDir('atlassian-iam-bulk-');
  seed(['mixed-existing@example.com']);
  const csv = writeCsv(
    cwd,
    [
      'Email,Title,active',
      'mixed-existing@example.com,Lead,',
      'mixed-new@example.com,Engineer,',
      'mixed-bad@example.com,Eng,maybe',
      'mixed-short@example.com',
      ',Nobody,',
    ].join('\n') + '\n',
  );
  const before = atlassian.server.requests.length;
  const run = await runCli(['bulk', 'update', csv, '--json'], { env: env(cwd), cwd });
  expectExit(run, 1);
  const requests = atlassian.server.requests.slice(before);

  const summary = summaryOf(run);
  expect(summary.rows).toEqual({
    total: 5,
    success: 2,
    skipped: 0,
    failed: 0,
    malformed: 3,
    alreadyDone: 0,
    notRun: 0,
  });
  expect(run.stderr).toContain(
    'row 4 (mixed-bad@example.com): malformed: active must be true or false, got "maybe"',
  );
  expect(run.stderr).toContain(
    'row 5 (mixed-short@example.com): malformed: has 1 cell but the header row has 3 columns',
  );
  expect(run.stderr).toContain(
    'row 6: malformed: the row names no user: give an email, username, employeeid or id',
  );

  // Nothing was sent for the malformed rows; what was sent is valid and minimal (update 2, create 2).
  expect(requests.map((r) => `${r.method} ${r.query}`).join('\n')).not.toMatch(/mixed-bad|mixed-short/);
  expect(requests).toHaveLength(4);
  expect(openApiProblems(requests)).toEqual([]);

  const report = readReport(path.join(cwd, 'users.csv.report.jsonl'));
  expect(report.map((l) => [l.row, l.outcome, l.identifier]).sort()).toEqual([
    [2, 'success', 'mixed-existing@example.com'],
    [3, 'success', 'mixed-new@example.com'],
    [4, 'malformed', 'mixed-bad@example.com'],
    [5, 'malformed', 'mixed-short@example.com'],
    [6, 'malformed', null],
  ]);
  const updated = report.find((l) => l.row === 2);
  expect(updated?.result?.IAM.Vendor).toMatchObject({
    action: 'update',
    success: true,
    brand: 'Atlassian IAM',
  });
  expect(report.find((l) => l.row === 3)?.result?.IAM.Vendor).toMatchObject({
    action: 'create',
    success: true,
  });
  expect(report.find((l) => l.row === 4)?.error).toBe('active must be true or false, got "maybe"');

  // Plain progress lines on a pipe: one at the start, one at the end.
  const lines = progressLines(run, 'bulk update');
  expect(lines[0]).toMatch(/^bulk update: 0\/5 rows \(0%\)/);
  expect(lines.at(-1)).toMatch(/^bulk update: 5\/5 rows \(100%\), .*done, 0 failed, 3 malformed/);
  expect(run.stderr).not.toContain('\r');

  // Audited, row by row, as bulk-update.
  const db = new Database(path.join(cwd, 'audit.db'), { readonly: true });
  try {
    const rows = db
      .prepare("SELECT kind, command, target, outcome FROM audit_log WHERE kind = 'result' ORDER BY target")
      .all();
    expect(rows).toEqual([
      { kind: 'result', command: 'bulk-update', target: 'mixed-existing@example.com', outcome: 'success' },
      { kind: 'result', command: 'bulk-update', target: 'mixed-new@example.com', outcome: 'success' },
    ]);
    // Every malformed row alike, the one naming no user too: no "received" without its outcome.
    expect(db.prepare("SELECT count(*) AS n FROM audit_log WHERE kind = 'command'").get()).toEqual({ n: 2 });
  } finally {
    db.close();
  }
});

describe('bad usage or a bad file: exit 2, a clear message, nothing sent or written', () => {
  it.each([
    [['bulk'], /which operation\? give one of create, update, disable, enable/],
    [
      ['bulk', 'remove', 'users.csv'],
      /unknown operation "remove": give one of create, update, disable, enable/,
    ],
    [['bulk', 'disable'], /bulk disable needs the CSV file to read/],
    [['bulk', 'disable', 'missing.csv'], /missing\.csv: no such file/],
    [['bulk', 'disable', 'empty.csv'], /empty\.csv: the file is empty/],
    [['bulk', 'disable', 'noheader.csv'], /noheader\.csv: line 1 must be the header row .*add a header row/],
    [['bulk', 'disable', 'headeronly.csv'], /headeronly\.csv has a header row but no rows of users/],
    [
      ['bulk', 'disable', 'users.csv', '--concurrency', '0'],
      /--concurrency must be a whole number from 1 to 32/,
    ],
    [
      ['bulk', 'disable', 'users.csv', '--concurrency', '33'],
      /--concurrency must be a whole number from 1 to 32/,
    ],
    [
      ['bulk', 'disable', 'users.csv', '--allow-enable', 'true'],
      /--allow-enable applies to bulk create and bulk update only/,
    ],
    [['bulk', 'create', 'users.csv', '--allow-enable', 'maybe'], /allow-enable must be true or false/],
    [['bulk', 'disable', 'users.csv', '--report', 'users.csv'], /--report names the CSV file itself/],
    [['bulk', 'disable', 'users.csv', '--report', 'other.txt'], /other\.txt exists but is not a bulk report/],
    [['bulk', 'disable', 'users.csv', '--bogus'], /unknown option --bogus; run atlassian-iam bulk --help/],
  ])('%j', async (args, message) => {
    const cwd = makeTempDir('atlassian-iam-bulk-bad-');
    writeCsv(cwd, 'email\nx@example.com\n');
    writeCsv(cwd, '', 'empty.csv');
    writeCsv(cwd, 'jane@example.com,Engineer\n', 'noheader.csv');
    writeCsv(cwd, 'email,title\n', 'headeronly.csv');
    writeCsv(cwd, 'some notes\n', 'other.txt');
    const before = atlassian.server.requests.length;
    const run = await runCli(args, { env: env(cwd), cwd });
    expectExit(run, 2);
    expect(run.stderr).toMatch(/^atlassian-iam bulk: /);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    expect(atlassian.server.requests.length).toBe(before);
    expect(fs.existsSync(path.join(cwd, 'audit.db'))).toBe(false);
    expect(fs.existsSync(path.join(cwd, 'users.csv.report.jsonl'))).toBe(false);
  });

  it('prints its help', async () => {
    const run = await runCli(['bulk', '--help']);
    expectExit(run, 0);
    expect(run.stdout).toMatch(/^Usage: atlassian-iam bulk <create\|update\|disable\|enable> FILE\.csv/);
    const main = await runCli(['--help']);
    expect(main.stdout).toContain('bulk <operation> FILE.csv');
  });
});

it('resumes: a rerun redoes only the rows that failed (HTTP 500), not those done', async () => {
  const cwd = makeTempDir('atlassian-iam-bulk-resume-');
  const emails = emailsFor('resume', 12);
  const ids = seed(emails);
  const failing = new Set([emails[2], emails[5], emails[9]].map((e) => ids.get(e)));
  let failPatches = true;
  scripted = (request) =>
    failPatches && request.method === 'PATCH' && failing.has(userIdOf(request))
      ? {
          status: 500,
          body: {
            schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
            detail: 'Atlassian had a hiccup.',
            status: '500',
          },
        }
      : undefined;
  const csv = writeCsv(cwd, `email\n${emails.join('\n')}\n`);

  const first = await runCli(['bulk', 'disable', csv, '--json'], { env: env(cwd), cwd, timeoutMs: 60_000 });
  expectExit(first, 1);
  expect(summaryOf(first).rows).toMatchObject({ success: 9, failed: 3, alreadyDone: 0 });
  expect(first.stderr).toMatch(/row 4 \(resume-003@example\.com\): failed: Atlassian had a hiccup\./);
  const firstReport = readReport(path.join(cwd, 'users.csv.report.jsonl'));
  expect(firstReport).toHaveLength(12);
  expect(
    firstReport
      .filter((l) => l.outcome === 'failed')
      .map((l) => l.identifier)
      .sort(),
  ).toEqual([emails[2], emails[5], emails[9]]);

  failPatches = false;
  const before = atlassian.server.requests.length;
  const second = await runCli(['bulk', 'disable', csv, '--json'], { env: env(cwd), cwd });
  expectExit(second, 0);
  expect(second.stderr).toContain(
    'bulk disable: 9 of 12 rows are already done according to users.csv.report.jsonl',
  );
  expect(summaryOf(second).rows).toMatchObject({ success: 3, failed: 0, alreadyDone: 9, total: 12 });
  // Only the three failed rows were redone: a lookup and a PATCH each.
  const redone = atlassian.server.requests.slice(before);
  expect(redone.map((r) => r.method).sort()).toEqual(['GET', 'GET', 'GET', 'PATCH', 'PATCH', 'PATCH']);
  expect(new Set(redone.filter((r) => r.method === 'PATCH').map(userIdOf))).toEqual(failing);
  expect(emails.map(activeOf)).toEqual(emails.map(() => false));
  // The report keeps the history: the failed lines, then the successful retries.
  expect(readReport(path.join(cwd, 'users.csv.report.jsonl'))).toHaveLength(15);
});

it('after SIGKILL mid-run, a rerun finishes the file and no user is changed twice', async () => {
  const cwd = makeTempDir('atlassian-iam-bulk-kill-');
  const emails = emailsFor('kill', 150);
  const ids = seed(emails);
  const patches = new Map<string, number>();
  let kill: (() => void) | null = null;
  arrivals = (request) => {
    if (request.method !== 'PATCH') return;
    const id = userIdOf(request);
    patches.set(id, (patches.get(id) ?? 0) + 1);
    if ([...patches.values()].reduce((a, b) => a + b, 0) === 40) kill?.();
  };
  const csv = writeCsv(cwd, `email\n${emails.join('\n')}\n`);
  const report = path.join(cwd, 'leavers.jsonl');

  const first = await runCli(['bulk', 'disable', csv, '--report', report, '--concurrency', '4', '--json'], {
    env: env(cwd),
    cwd,
    onSpawn: (child) => {
      kill = () => child.kill('SIGKILL');
    },
  });
  expect(first.signal).toBe('SIGKILL');
  const firstLines = reportLines(report);
  const done = readReport(report);
  const finished = new Set(done.map((line) => line.row));
  // Each row that sent its PATCH has its "sent" line first; those in flight at the kill have only that.
  const inFlight = firstLines.filter((line) => line.outcome === 'sent' && !finished.has(line.row));
  expect(inFlight.length).toBeGreaterThanOrEqual(1);
  expect(done.length).toBeGreaterThanOrEqual(30);
  expect(done.length).toBeLessThan(150);

  const second = await runCli(['bulk', 'disable', csv, '--report', report, '--concurrency', '4', '--json'], {
    env: env(cwd),
    cwd,
  });
  expectExit(second, 0);
  const summary = summaryOf(second);
  expect(summary.rows.alreadyDone).toBe(done.length);
  expect(summary.rows.alreadyDone + summary.rows.success + summary.rows.skipped).toBe(150);
  // Rows in flight at the kill whose PATCH had landed are found already disabled: not redone, and reported
  // as done by the interrupted run (success with its note), not as "skipped: already disabled" (finding 7).
  expect(summary.rows.skipped).toBe(0);
  const byFirstRun = readReport(report).filter((line) => line.note !== undefined);
  expect(byFirstRun.length).toBeGreaterThanOrEqual(1);
  expect(byFirstRun.every((line) => line.outcome === 'success')).toBe(true);
  expect(byFirstRun.every((line) => inFlight.some((sent) => sent.row === line.row))).toBe(true);
  const db = new Database(path.join(cwd, 'audit.db'), { readonly: true });
  try {
    const noted = db
      .prepare(
        "SELECT count(*) AS n FROM audit_log WHERE kind = 'result' AND outcome = 'success' AND detail LIKE '%interrupted with its request in flight%'",
      )
      .get();
    expect(noted).toEqual({ n: byFirstRun.length });
  } finally {
    db.close();
  }
  expect(emails.map(activeOf)).toEqual(emails.map(() => false));
  expect([...ids.values()].map((id) => patches.get(id))).toEqual(emails.map(() => 1));
});

it('Ctrl-C finishes the rows in flight, prints the summary, exits 130; a rerun goes on', async () => {
  const cwd = makeTempDir('atlassian-iam-bulk-int-');
  const emails = emailsFor('int', 200);
  seed(emails);
  let patches = 0;
  let interrupt: (() => void) | null = null;
  arrivals = (request) => {
    if (request.method === 'PATCH' && ++patches === 20) interrupt?.();
  };
  const csv = writeCsv(cwd, `email\n${emails.join('\n')}\n`);
  const first = await runCli(['bulk', 'disable', csv, '--concurrency', '2', '--json'], {
    env: env(cwd),
    cwd,
    onSpawn: (child) => {
      interrupt = () => child.kill('SIGINT');
    },
  });
  expectExit(first, 130);
  expect(first.stderr).toContain('Ctrl-C: starting no more rows; finishing those in flight');
  const summary = summaryOf(first);
  expect(summary.interrupted).toBe(true);
  expect(summary.rows.notRun).toBeGreaterThan(100);
  const report = readReport(path.join(cwd, 'users.csv.report.jsonl'));
  // Every row that ran (those in flight included) is in the report, and only those.
  expect(report).toHaveLength(summary.rows.success);
  expect(report.length).toBe(patches);

  const second = await runCli(['bulk', 'disable', csv, '--json'], { env: env(cwd), cwd });
  expectExit(second, 0);
  expect(summaryOf(second).rows).toMatchObject({ alreadyDone: report.length, success: 200 - report.length });
  expect(emails.map(activeOf)).toEqual(emails.map(() => false));
});

it('429 bursts: every row succeeds, and the rows in flight at the server drop after a 429', async () => {
  const cwd = makeTempDir('atlassian-iam-bulk-429-');
  const emails = emailsFor('burst', 100);
  seed(emails);
  const started = performance.now();
  let inFlight = 0;
  const seen: { at: number; inFlight: number }[] = [];
  const throttledAt: number[] = [];
  let answered = 0;
  arrivals = () => {
    inFlight++;
    seen.push({ at: performance.now() - started, inFlight });
  };
  // Called after the latency, right before each answer: the request leaves the server.
  scripted = () => {
    inFlight--;
    answered++;
    if ((answered > 40 && answered <= 44) || (answered > 120 && answered <= 124)) {
      throttledAt.push(performance.now() - started);
      return {
        status: 429,
        headers: { 'Retry-After': '1' },
        body: {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status: '429',
          detail: 'Too many requests.',
        },
      };
    }
    return undefined;
  };
  const slow = await startEmulatedAtlassian({
    directoryId: DIRECTORY_ID,
    token: TOKEN,
    directory: atlassian.directory,
    latencyMs: 30,
    onRequest: (request) => arrivals?.(request),
    intercept: (request) => scripted?.(request),
  });
  let run: CliRun;
  try {
    const csv = writeCsv(cwd, `email\n${emails.join('\n')}\n`);
    run = await runCli(['bulk', 'disable', csv, '--json'], {
      env: env(cwd, { ATLASSIAN_URL: slow.server.url }),
      cwd,
      timeoutMs: 60_000,
    });
  } finally {
    await slow.server.close();
  }
  expectExit(run, 0);
  const summary = summaryOf(run);
  expect(summary.rows).toMatchObject({ success: 100, failed: 0 });
  expect(summary.throttled).toBe(8);
  expect(summary.concurrency).toMatchObject({ initial: 8, maxInFlight: 8 });
  expect(summary.concurrency.lowest).toBeLessThanOrEqual(4);
  expect(emails.map(activeOf)).toEqual(emails.map(() => false));

  const firstThrottle = throttledAt[0];
  const maxIn = (from: number, to: number) =>
    Math.max(0, ...seen.filter((s) => s.at > from && s.at < to).map((s) => s.inFlight));
  expect(maxIn(0, firstThrottle)).toBe(8);
  // Once the requests that were on their way are answered, and until the throttled rows are back
  // (Retry-After: 1) and have shown the new limit works, at most 4 requests are in flight.
  expect(maxIn(firstThrottle + 150, firstThrottle + 1100)).toBeLessThanOrEqual(4);

  // On a pipe: plain lines about once a second, saying how many 429s were met.
  const lines = progressLines(run, 'bulk disable');
  expect(lines.length).toBeGreaterThanOrEqual(3);
  expect(lines.some((l) => /\d+× 429/.test(l))).toBe(true);
  // The client's retries of 429s are counted, not printed as warnings one by one.
  expect(run.stderr).not.toContain('"status":429');
});

it('works on the sandbox with no credentials, and says SANDBOX', async () => {
  const cwd = makeTempDir('atlassian-iam-bulk-sandbox-');
  const csv = writeCsv(cwd, 'email,givenname,surname\nsam@example.com,Sam,Box\nsue@example.com,Sue,Box\n');
  const sandboxEnv = { DATABASE_URL: `sqlite:${path.join(cwd, 'sandbox.db')}` };
  const before = atlassian.server.requests.length;
  const run = await runCli(['bulk', 'create', csv], { env: sandboxEnv, cwd });
  expectExit(run, 0);
  expect(run.stderr).toMatch(/^SANDBOX: no Atlassian credentials are set/);
  expect(run.stderr).toContain('bulk create (SANDBOX): 2/2 rows (100%)');
  expect(run.stdout).toMatch(/^Bulk create results \(Atlassian IAM\) \(SANDBOX\)\noutcome +rows\n/);
  expect(run.stdout).toMatch(/^success +2$/m);
  expect(run.stdout).toMatch(/^total +2$/m);
  expect(atlassian.server.requests.length).toBe(before);
  const report = readReport(path.join(cwd, 'users.csv.report.jsonl'));
  expect(report.map((l) => l.result?.IAM.Vendor.instanceName)).toEqual([
    'Atlassian IAM_instance_1 (SANDBOX)',
    'Atlassian IAM_instance_1 (SANDBOX)',
  ]);

  const again = await runCli(['bulk', 'create', csv], { env: sandboxEnv, cwd });
  expectExit(again, 0);
  expect(again.stderr).toContain('2 of 2 rows are already done');
  expect(again.stdout).toMatch(/^already done \(earlier run\) +2$/m);
});

describe('waiting instead of failing (issue 11 finding 4)', () => {
  const problem = (status: number, detail: string) => ({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
    status: String(status),
    detail,
  });

  /** Answers `answer` to every request for `ms` from the first one, then lets them through. */
  function stormFor(
    ms: number,
    answer: { status: number; body?: unknown; headers?: Record<string, string> },
  ) {
    let startedAt: number | null = null;
    const during: number[] = [];
    scripted = () => {
      const now = performance.now();
      startedAt ??= now;
      if (now - startedAt >= ms) return undefined;
      during.push(now - startedAt);
      return answer;
    };
    return during;
  }

  // The whole-process form of test/bulk/runner.test.ts "429 with Retry-After 120 for 20 s: no row fails"
  // (which runs that very case on a virtual clock): here Retry-After is 2 s so the test takes seconds,
  // and the 429s last 9 s, past the client's 5 attempts, so that the client gives up as it did with 120 s.
  it('429 with Retry-After 120 for 20 s: no row fails (scaled: Retry-After 2 for 9 s)', async () => {
    const cwd = makeTempDir('atlassian-iam-bulk-429-storm-');
    const emails = emailsFor('limited', 40);
    seed(emails);
    stormFor(9000, {
      status: 429,
      headers: { 'Retry-After': '2' },
      body: problem(429, 'Too many requests.'),
    });
    const csv = writeCsv(cwd, `email\n${emails.join('\n')}\n`);
    const run = await runCli(['bulk', 'disable', csv, '--json'], { env: env(cwd), cwd, timeoutMs: 30_000 });
    expectExit(run, 0);
    const summary = summaryOf(run);
    expect(summary.rows).toMatchObject({ success: 40, failed: 0, notRun: 0 });
    expect(summary.rateLimitPauses).toBeGreaterThanOrEqual(1);
    expect(run.stderr).toContain(
      'bulk disable: rate limited by Atlassian: waiting 2 s, then sending the rows again',
    );
    expect(run.stderr).not.toContain('try again later');
    // The once-a-second progress line says so while the run waits.
    expect(
      progressLines(run, 'bulk disable').some((l) =>
        /rows \(\d+%\), rate limited by Atlassian: waiting [12] s, /.test(l),
      ),
    ).toBe(true);
    expect(emails.map(activeOf)).toEqual(emails.map(() => false));
  }, 40_000);

  it('DNS failure stops the run early: rows not started are not run, the summary says why, exit 1', async () => {
    const cwd = makeTempDir('atlassian-iam-bulk-dns-');
    const emails = emailsFor('dns', 100);
    const csv = writeCsv(cwd, `email\n${emails.join('\n')}\n`);
    const run = await runCli(['bulk', 'disable', csv], {
      env: env(cwd, { ATLASSIAN_URL: 'https://scim.atlassian-iam-test.invalid' }),
      cwd,
      timeoutMs: 30_000,
    });
    expectExit(run, 1);
    expect(run.stdout).toMatch(
      /^stopped early: cannot reach scim\.atlassian-iam-test\.invalid: (ENOTFOUND|EAI_AGAIN): no row can reach Atlassian until this is fixed$/m,
    );
    const notRun = /^not run +(\d+)$/m.exec(run.stdout);
    expect(Number(notRun?.[1])).toBeGreaterThanOrEqual(92);
    // Only the rows that were in flight are in the report (as failed): a rerun does all the others.
    const report = readReport(path.join(cwd, 'users.csv.report.jsonl'));
    expect(report.length).toBeLessThanOrEqual(8);
    expect(report.every((l) => l.outcome === 'failed')).toBe(true);

    // Resume: with DNS fixed, the same command does every row (the failed ones and those not run).
    seed(emails);
    const rerun = await runCli(['bulk', 'disable', csv, '--json'], { env: env(cwd), cwd });
    expectExit(rerun, 0);
    expect(summaryOf(rerun).rows).toMatchObject({ success: 100, alreadyDone: 0, failed: 0, notRun: 0 });
    expect(emails.map(activeOf)).toEqual(emails.map(() => false));
  }, 40_000);

  it('a TLS failure (https to a plain-HTTP port) stops the run early too', async () => {
    const cwd = makeTempDir('atlassian-iam-bulk-tls-');
    const emails = emailsFor('tls', 60);
    const csv = writeCsv(cwd, `email\n${emails.join('\n')}\n`);
    const url = atlassian.server.url.replace(/^http:/, 'https:');
    const run = await runCli(['bulk', 'disable', csv, '--json'], {
      env: env(cwd, { ATLASSIAN_URL: url }),
      cwd,
    });
    expectExit(run, 1);
    const summary = summaryOf(run);
    expect(summary.stoppedBy).toMatch(
      /^cannot reach 127\.0\.0\.1:\d+: EPROTO: no row can reach Atlassian until this is fixed$/,
    );
    expect(summary.rows.notRun).toBeGreaterThanOrEqual(52);
    expect(summary.rows.failed + summary.rows.notRun).toBe(60);
  });

  it('5xx storm opens the breaker: fewer than K requests sent during the storm, all rows done after it', async () => {
    const cwd = makeTempDir('atlassian-iam-bulk-5xx-storm-');
    const emails = emailsFor('storm', 60);
    seed(emails);
    const during = stormFor(6000, { status: 503, body: problem(503, 'Down for maintenance.') });
    const csv = writeCsv(cwd, `email\n${emails.join('\n')}\n`);
    const run = await runCli(['bulk', 'disable', csv, '--json'], { env: env(cwd), cwd, timeoutMs: 40_000 });
    expectExit(run, 0);
    const summary = summaryOf(run);
    expect(summary.rows).toMatchObject({ success: 60, failed: 0, notRun: 0 });
    expect(summary.breakerOpened).toBeGreaterThanOrEqual(1);
    expect(run.stderr).toMatch(/circuit breaker open, pausing: one row probes in 1 s/);
    expect(run.stderr).toContain('Atlassian answers again: circuit breaker closed, resuming');
    // 8 rows in flight at up to 5 attempts each, then one probe row at a time: the old runner sent
    // ~5 requests per row for every row it started during the storm (195 in the run).
    expect(during.length).toBeLessThan(70);
    expect(emails.map(activeOf)).toEqual(emails.map(() => false));
  }, 50_000);
});

describe('group rows against the sandbox (issue 15)', () => {
  it('dry run, add, resume after fixing a row, audit by group, then remove: throttled, reported and resumable like user rows', async () => {
    const cwd = makeTempDir('atlassian-iam-bulk-groups-');
    const sandboxEnv = { DATABASE_URL: `sqlite:${path.join(cwd, 'sandbox.db')}` };
    const cli = (args: string[]) => runCli(args, { env: sandboxEnv, cwd });
    const users = writeCsv(cwd, 'email\nann@example.com\nbea@example.com\ncat@example.com\n', 'users.csv');
    expectExit(await cli(['bulk', 'create', users]), 0);
    const rows = [
      'email,group',
      'ann@example.com,jira-software-users',
      'bea@example.com,jira-software-users',
      'cat@example.com,confluence-users',
      'ann@example.com,jira-users',
      'dan@example.com,jira-software-users',
    ];
    const file = writeCsv(cwd, rows.join('\n') + '\n', 'groups.csv');
    const groupsOf = async (email: string) => {
      const run = await cli(['iam-get-groups', '--user-profile', email, '--json']);
      expectExit(run, 0);
      const vendor = (JSON.parse(run.stdout) as { IAM: { Vendor: { groups: { displayName: string }[] } } })
        .IAM.Vendor;
      return vendor.groups.map((g) => g.displayName);
    };

    const dry = await cli(['bulk', 'add-to-group', file, '--dry-run']);
    expectExit(dry, 1);
    expect(dry.stdout).toMatch(
      /row 2 \(ann@example.com\): dry-run: would change ann@example.com .*: 1 attribute\n {4}member of jira-software-users {2}no → yes/,
    );
    expect(dry.stdout).toContain(
      'row 5 (ann@example.com): dry-run: cannot tell: the lookup failed: Group "jira-users" does not exist in the directory (closest: "jira-software-users", "confluence-users"). Only groups of this SCIM directory can be managed, not groups created in Atlassian administration.',
    );
    expect(dry.stdout).toMatch(
      /3 would change, 0 would be created, 0 no change, 0 would skip, 2 lookup failed, 0 malformed/,
    );
    expect(fs.existsSync(path.join(cwd, 'groups.csv.report.jsonl'))).toBe(false);
    expect(await groupsOf('ann@example.com')).toEqual([]);

    const first = await cli(['bulk', 'iam-add-to-group', file, '--concurrency', '2', '--json']);
    expectExit(first, 1);
    expect(first.stderr).toContain('bulk add-to-group (SANDBOX): 5/5 rows (100%)');
    expect(summaryOf(first).rows).toMatchObject({ total: 5, success: 3, failed: 2, skipped: 0 });
    expect(summaryOf(first).concurrency.maxInFlight).toBeLessThanOrEqual(2);
    const report = readReport(path.join(cwd, 'groups.csv.report.jsonl'));
    const byRow = Object.fromEntries(report.map((l) => [l.row, l]));
    expect(byRow[5].result?.IAM.Vendor.errorMessage).toMatch(
      /^Group "jira-users" does not exist .*closest: "jira-software-users"/,
    );
    expect(byRow[6].result?.IAM.Vendor.errorMessage).toBe('User does not exist');
    expect(await groupsOf('ann@example.com')).toEqual(['jira-software-users']);
    expect(await groupsOf('cat@example.com')).toEqual(['confluence-users']);

    // The failed row fixed: a rerun runs it and the one still failing, not the three done.
    rows[4] = 'ann@example.com,confluence-users';
    writeCsv(cwd, rows.join('\n') + '\n', 'groups.csv');
    const resumed = await cli(['bulk', 'add-to-group', file, '--json']);
    expectExit(resumed, 1);
    expect(resumed.stderr).toContain('3 of 5 rows are already done');
    expect(summaryOf(resumed).rows).toMatchObject({ alreadyDone: 3, success: 1, failed: 1 });
    expect(await groupsOf('ann@example.com')).toEqual(['jira-software-users', 'confluence-users']);

    const audit = await cli(['audit', '--group', 'Jira-Software-Users', '--json']);
    expectExit(audit, 0);
    const entries = JSON.parse(audit.stdout) as { command: string; target: string; outcome: string }[];
    expect(
      entries
        .filter((e) => e.command === 'bulk-add-to-group' && e.outcome === 'success')
        .map((e) => e.target)
        .sort(),
    ).toEqual(['ann@example.com', 'bea@example.com']);
    expect(entries.every((e) => e.command === 'bulk-add-to-group' || e.command === 'iam-get-groups')).toBe(
      true,
    );

    const removed = await cli(['bulk', 'remove-from-group', file, '--json']);
    expectExit(removed, 0);
    expect(summaryOf(removed).rows).toMatchObject({ success: 4, skipped: 1 });
    expect(await groupsOf('ann@example.com')).toEqual([]);
    expect(await groupsOf('bea@example.com')).toEqual([]);
  }, 60_000);

  it('refuses a group file without a group column, and --allow-enable, before anything is sent (exit 2)', async () => {
    const cwd = makeTempDir('atlassian-iam-bulk-groups-bad-');
    const file = writeCsv(cwd, 'email\nann@example.com\n');
    const env = { DATABASE_URL: `sqlite:${path.join(cwd, 'sandbox.db')}` };
    const noColumn = await runCli(['bulk', 'add-to-group', file], { env, cwd });
    expectExit(noColumn, 2);
    expect(noColumn.stderr).toContain('bulk add-to-group needs a "group" column');
    const allow = await runCli(['bulk', 'remove-from-group', file, '--allow-enable', 'false'], { env, cwd });
    expectExit(allow, 2);
    expect(allow.stderr).toContain('--allow-enable applies to bulk create and bulk update only');
    expect(fs.existsSync(path.join(cwd, 'users.csv.report.jsonl'))).toBe(false);
  });
});
