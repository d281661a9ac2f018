/** The runner over the real SCIM client and sandbox directory (in memory): outcomes, report, audit. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AimdController } from '../../src/bulk/concurrency';
import { readCsv, toBulkRows } from '../../src/bulk/csv';
import { type ReportLine, ReportWriter } from '../../src/bulk/report';
import { type BulkOperation, runRows } from '../../src/bulk/runner';
import type { CliAudit } from '../../src/cli-audit';
import { AuditUnavailableError } from '../../src/store/unavailable';
import type { IamContext, IamResult, UserProfile } from '../../src/iam';
import { BUILT_IN_INCOMING, BUILT_IN_OUTGOING } from '../../src/iam/mappers';
import { sandboxHarness, type SandboxHarness } from '../support/sandbox-directory';

let harness: SandboxHarness;
let dir: string;
beforeEach(() => {
  harness = sandboxHarness();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bulk-runner-'));
});
afterEach(() => {
  harness.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function context(): IamContext {
  return {
    directory: harness.client,
    switches: {
      createEnabled: true,
      updateEnabled: true,
      disableEnabled: true,
      enableEnabled: true,
      createIfNotFound: true,
    },
    instanceName: 'Atlassian IAM_instance_1',
    outgoing: BUILT_IN_OUTGOING,
    incoming: BUILT_IN_INCOMING,
  };
}

/** An audit log whose rows cannot be written: `command` rejects as the real one does. */
const unavailableAudit: CliAudit = {
  command: async () => {
    throw new AuditUnavailableError(new Error('disk I/O error'));
  },
  result: async () => false,
  close: async () => {},
};

function recordingAudit() {
  const entries: { kind: string; name: string; target: unknown; outcome?: boolean }[] = [];
  const audit: CliAudit = {
    command: async (name: string, profile: UserProfile) => {
      entries.push({ kind: 'command', name, target: profile.email });
    },
    result: async (name: string, profile: UserProfile, result: IamResult) => {
      entries.push({ kind: 'result', name, target: profile.email, outcome: result.IAM.Vendor.success });
      return true;
    },
    close: async () => {},
  };
  return { audit, entries };
}

async function run(operation: BulkOperation, csv: string, audit = recordingAudit()) {
  const rows = toBulkRows(readCsv(csv), operation);
  const file = path.join(dir, 'report.jsonl');
  const report = ReportWriter.open(file);
  const { entries } = audit;
  const seen: ReportLine[] = [];
  const outcome = await runRows(rows, {
    operation,
    allowEnable: true,
    context: context(),
    audit: audit.audit,
    report,
    controller: new AimdController({ max: 4, now: () => 0 }),
    onRow: (line) => seen.push(line),
    now: () => new Date('2026-11-29T12:00:00Z'),
  });
  report.close();
  const written = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ReportLine);
  return { outcome, seen, written, entries };
}

it('runs each row, writes one report line per row and audits each row that ran', async () => {
  const seed = (email: string) =>
    harness.client.createUser({ userName: email, emails: [{ value: email, type: 'work', primary: true }] });
  await seed('active@example.com');
  const { user: gone } = await seed('gone@example.com');
  await harness.client.patchUser(gone.id as string, [{ op: 'replace', value: { active: false } }]);
  const { outcome, seen, written, entries } = await run(
    'disable',
    'email,title\nactive@example.com,\ngone@example.com,\nnobody@example.com,\n,Eng\nbad@example.com\n',
  );
  expect(outcome).toEqual({ finished: 5, fatal: null });
  expect(written).toEqual(seen);
  // Malformed rows first (nothing is sent for them), then the others as they finish.
  expect(written[0]).toMatchObject({ row: 6, outcome: 'malformed', identifier: 'bad@example.com' });
  const byRow = Object.fromEntries(written.map((l) => [l.row, l]));
  expect(byRow[2]).toMatchObject({
    outcome: 'success',
    identifier: 'active@example.com',
    operation: 'disable',
  });
  expect(byRow[2].result?.IAM.Vendor).toMatchObject({ action: 'disable', active: false, success: true });
  expect(byRow[3]).toMatchObject({ outcome: 'skipped' });
  expect(byRow[3].result?.IAM.Vendor.reason).toBe('User is already disabled.');
  expect(byRow[4]).toMatchObject({ outcome: 'skipped' });
  expect(byRow[5]).toMatchObject({
    outcome: 'malformed',
    identifier: null,
    error: 'user-profile has no identifier: give id, email, username or employeeid',
  });
  expect(byRow[5].result).toBeUndefined();
  expect(written.every((l) => l.at === '2026-11-29T12:00:00.000Z' && /^[0-9a-f]{16}$/.test(l.key))).toBe(
    true,
  );

  expect(entries.filter((e) => e.kind === 'result').map((e) => e.target)).toEqual(
    expect.arrayContaining(['active@example.com', 'gone@example.com', 'nobody@example.com']),
  );
  expect(new Set(entries.map((e) => e.name))).toEqual(new Set(['bulk-disable']));
});

it('reports an Atlassian error as a failed row with the result object', async () => {
  harness.failNext({ status: 400, body: { detail: 'Bad filter.' } });
  const { written } = await run('enable', 'email\njane@example.com\n');
  expect(written).toHaveLength(1);
  expect(written[0]).toMatchObject({ outcome: 'failed' });
  expect(written[0].result?.IAM.Vendor).toMatchObject({
    success: false,
    errorCode: 400,
    errorMessage: 'Bad filter.',
  });
});

it('stops starting rows after a directory-wide error (bad token), reporting it', async () => {
  harness.failNext({ status: 401, body: { error: 'Unauthorized.' } });
  const emails = Array.from({ length: 20 }, (_, i) => `u${i}@example.com`);
  const rows = toBulkRows(readCsv(`email\n${emails.join('\n')}\n`), 'disable');
  const report = ReportWriter.open(path.join(dir, 'r.jsonl'));
  const outcome = await runRows(rows, {
    operation: 'disable',
    allowEnable: true,
    context: context(),
    audit: recordingAudit().audit,
    report,
    controller: new AimdController({ max: 1, now: () => 0 }),
  });
  report.close();
  expect(outcome.fatal).toBe('Unauthorized.');
  expect(outcome.finished).toBe(1);
});

it('issue 11 finding 2: with the audit log unavailable no row runs and the run stops, saying why', async () => {
  const { outcome, written } = await run('create', 'email\na@example.com\nb@example.com\nbad\n', {
    audit: unavailableAudit,
    entries: [],
  });
  expect(outcome.fatal).toBe('The audit log is unavailable, so nothing was done.');
  // No row is reported (a rerun takes them all) and nobody was created.
  expect(written).toEqual([]);
  expect((await harness.client.findUsers('userName', 'a@example.com')).length).toBe(0);
});
