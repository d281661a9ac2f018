/** The runner over the real SCIM client and sandbox directory (in memory): outcomes, report, audit. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AimdController } from '../../src/bulk/concurrency';
import { RunGate } from '../../src/bulk/gate';
import { readCsv, toBulkRows } from '../../src/bulk/csv';
import {
  DONE_BY_INTERRUPTED_RUN,
  doneKey,
  planResume,
  readReport,
  type ReportLine,
  ReportWriter,
  type SentLine,
} from '../../src/bulk/report';
import { type BulkOperation, isGroupOperation, runRows } from '../../src/bulk/runner';
import type { CliAudit } from '../../src/cli/audit-trail';
import { AuditUnavailableError } from '../../src/store/unavailable';
import type { IamContext, IamResult, UserProfile } from '../../src/iam';
import { BUILT_IN_INCOMING, BUILT_IN_OUTGOING } from '../../src/iam/mappers';
import type { RecordedRequest, ScriptedResponse } from '../../src/sandbox';
import { createScimClient } from '../../src/scim/client';
import { sandboxHarness, type SandboxHarness } from '../support/sandbox-directory';
import { type EmulatedAtlassian, startEmulatedAtlassian } from '../support/scim-server';

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
  rejected: async () => false,
  dryRun: async () => {
    throw new AuditUnavailableError(new Error('disk I/O error'));
  },
  close: async () => {},
};

function recordingAudit() {
  const entries: {
    kind: string;
    name: string;
    target: unknown;
    outcome?: boolean;
    detail?: Record<string, unknown>;
  }[] = [];
  const audit: CliAudit = {
    command: async (name: string, profile: UserProfile, detail?: Record<string, unknown> | null) => {
      entries.push({ kind: 'command', name, target: profile.email, ...(detail ? { detail } : {}) });
    },
    result: async (
      name: string,
      profile: UserProfile,
      result: IamResult,
      detail?: Record<string, unknown>,
    ) => {
      const outcome = result.IAM.Vendor.success;
      entries.push({ kind: 'result', name, target: profile.email, outcome, ...(detail ? { detail } : {}) });
      return true;
    },
    rejected: async (name: string, profile: UserProfile) => {
      entries.push({ kind: 'rejected', name, target: profile.email });
      return true;
    },
    dryRun: async (name: string, profile: UserProfile) => {
      entries.push({ kind: 'dry-run', name, target: profile.email });
    },
    close: async () => {},
  };
  return { audit, entries };
}

async function run(
  operation: BulkOperation,
  csv: string,
  audit = recordingAudit(),
  interrupted?: ReadonlySet<string>,
) {
  const rows = toBulkRows(readCsv(csv), operation, { groupColumn: isGroupOperation(operation) });
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
    interrupted,
  });
  report.close();
  const lines = fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ReportLine | SentLine);
  const isSent = (line: ReportLine | SentLine): line is SentLine => line.outcome === 'sent';
  return {
    outcome,
    seen,
    written: lines.filter((line): line is ReportLine => !isSent(line)),
    sent: lines.filter(isSent),
    entries,
  };
}

it('runs each row, writes one report line per row and audits each row that ran', async () => {
  const seed = (email: string) =>
    harness.client.createUser({ userName: email, emails: [{ value: email, type: 'work', primary: true }] });
  await seed('active@example.com');
  const { user: gone } = await seed('gone@example.com');
  await harness.client.patchUser(gone.id as string, [{ op: 'replace', value: { active: false } }]);
  const { outcome, seen, written, sent, entries } = await run(
    'disable',
    'email,title\nactive@example.com,\ngone@example.com,\nnobody@example.com,\n,Eng\nbad@example.com\n',
  );
  expect(outcome).toEqual({ finished: 5, fatal: null });
  expect(written).toEqual(seen);
  // Only the row whose PATCH was sent has a "sent" line, written before it.
  expect(sent).toEqual([
    expect.objectContaining({
      row: 2,
      outcome: 'sent',
      identifier: 'active@example.com',
      operation: 'disable',
    }),
  ]);
  // Malformed rows first (nothing is sent for them), then the others as they finish.
  expect(written[0]).toMatchObject({ row: 5, outcome: 'malformed', identifier: null });
  expect(written[1]).toMatchObject({ row: 6, outcome: 'malformed', identifier: 'bad@example.com' });
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
    error: 'the row names no user: give an email, username, employeeid or id',
  });
  expect(byRow[5].result).toBeUndefined();
  expect(written.every((l) => l.at === '2026-11-29T12:00:00.000Z' && /^[0-9a-f]{16}$/.test(l.key))).toBe(
    true,
  );

  expect(entries.filter((e) => e.kind === 'result').map((e) => e.target)).toEqual(
    expect.arrayContaining(['active@example.com', 'gone@example.com', 'nobody@example.com']),
  );
  expect(new Set(entries.map((e) => e.name))).toEqual(new Set(['bulk-disable']));
  // Every malformed row alike: no audit row (never a "received" without its outcome).
  expect(entries.filter((e) => e.kind === 'command')).toHaveLength(3);
  expect(entries.filter((e) => e.kind === 'result')).toHaveLength(3);
});

it('a rerun reports a row an interrupted run sent and finds done as done by that run, not as skipped (finding 7)', async () => {
  const inactive = async (email: string) => {
    const { user } = await harness.client.createUser({
      userName: email,
      emails: [{ value: email, type: 'work', primary: true }],
    });
    await harness.client.patchUser(user.id as string, [{ op: 'replace', value: { active: false } }]);
  };
  // by-us@ was disabled by the interrupted run (its "sent" line and nothing after: killed with the PATCH
  // in flight); before@ was disabled before any run.
  await inactive('by-us@example.com');
  await inactive('before@example.com');
  const csv = 'email\nby-us@example.com\nbefore@example.com\n';
  const [byUs, before] = toBulkRows(readCsv(csv), 'disable', { groupColumn: false });
  const file = path.join(dir, 'report.jsonl');
  const killed = ReportWriter.open(file);
  const at = '2026-11-29T11:00:00.000Z';
  killed.write({
    row: byUs.row,
    outcome: 'sent',
    identifier: byUs.identifier,
    operation: 'disable',
    key: byUs.key,
    at,
  });
  killed.close();
  const previous = readReport(file);
  expect(previous?.interrupted).toEqual(new Set([doneKey(byUs.row, byUs.key)]));
  expect(planResume([byUs, before], previous).todo).toHaveLength(2);

  const { written, sent, entries } = await run('disable', csv, undefined, previous?.interrupted);
  const byRow = Object.fromEntries(written.map((l) => [l.identifier, l]));
  expect(byRow['by-us@example.com']).toMatchObject({ outcome: 'success', note: DONE_BY_INTERRUPTED_RUN });
  expect(byRow['by-us@example.com'].result?.IAM.Vendor).toMatchObject({ success: true, skipped: false });
  expect(byRow['before@example.com']).toMatchObject({ outcome: 'skipped' });
  expect(byRow['before@example.com'].note).toBeUndefined();
  // Nothing was sent again: the only "sent" line is the interrupted run's.
  expect(sent.map((l) => l.at)).toEqual([at]);
  const results = entries.filter((e) => e.kind === 'result');
  expect(results.find((e) => e.target === 'by-us@example.com')).toMatchObject({
    outcome: true,
    detail: { note: DONE_BY_INTERRUPTED_RUN },
  });
  expect(results.find((e) => e.target === 'before@example.com')?.detail).toBeUndefined();
});

it('a row whose command throws after its "received" entry gets its failed outcome in the audit log too', async () => {
  const { audit, entries } = recordingAudit();
  const rows = toBulkRows(readCsv('email\nfine@example.com\nbroken@example.com'), 'disable', {
    groupColumn: false,
  });
  const report = ReportWriter.open(path.join(dir, 'report.jsonl'));
  const broken = context();
  const real = harness.client;
  // The real client, except that one lookup throws something that is not an Atlassian answer.
  broken.directory = new Proxy(real, {
    get(target, key) {
      if (key === 'findUsers') {
        return async (...args: Parameters<typeof real.findUsers>) => {
          if (args[1] === 'broken@example.com') throw new TypeError('the lookup broke');
          return target.findUsers(...args);
        };
      }
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const seen: ReportLine[] = [];
  await runRows(rows, {
    operation: 'disable',
    allowEnable: false,
    context: broken,
    audit,
    report,
    controller: new AimdController({ max: 2, now: () => 0 }),
    onRow: (line) => seen.push(line),
  });
  report.close();
  expect(seen.find((l) => l.identifier === 'broken@example.com')).toMatchObject({
    outcome: 'failed',
    error: 'the lookup broke',
  });
  const of = (target: string) => entries.filter((e) => e.target === target).map((e) => [e.kind, e.outcome]);
  expect(of('broken@example.com')).toEqual([
    ['command', undefined],
    ['result', false],
  ]);
  expect(of('fine@example.com')).toHaveLength(2);
});

describe('group rows (add-to-group, remove-from-group)', () => {
  const seed = async (email: string) =>
    (
      await harness.client.createUser({
        userName: email,
        emails: [{ value: email, type: 'work', primary: true }],
      })
    ).user.id as string;
  const patches = () => harness.calls.filter((c) => c.method === 'PATCH' && c.path.startsWith('/Groups/'));
  const membersOf = async (name: string) => {
    const [group] = await harness.client.findGroupsByName(name);
    return (group.members ?? []).map((m) => m.value).sort();
  };

  it("adds each row's user to its group: one PATCH per change, members skipped, an unknown group fails naming the closest", async () => {
    const ann = await seed('ann@example.com');
    const bea = await seed('bea@example.com');
    const [confluence] = await harness.client.findGroupsByName('confluence-users');
    await harness.client.addGroupMembers(confluence.id, [ann]);
    const before = patches().length;
    const csv = [
      'email,Group',
      'ann@example.com,jira-software-users',
      'bea@example.com,confluence-users',
      'ann@example.com,confluence-users',
      'nobody@example.com,jira-software-users',
      'bea@example.com,jira-users',
      'bea@example.com,',
    ].join('\n');
    const { outcome, written, entries } = await run('add-to-group', csv);
    expect(outcome).toEqual({ finished: 6, fatal: null });
    const byRow = Object.fromEntries(written.map((l) => [l.row, l]));
    expect(byRow[2]).toMatchObject({
      outcome: 'success',
      identifier: 'ann@example.com',
      operation: 'add-to-group',
    });
    expect(byRow[2].result?.IAM.Vendor).toMatchObject({
      action: 'add-to-group',
      group: 'jira-software-users',
    });
    expect(byRow[3]).toMatchObject({ outcome: 'success' });
    expect(byRow[4]).toMatchObject({ outcome: 'skipped' });
    expect(byRow[4].result?.IAM.Vendor.reason).toBe('User is already a member.');
    expect(byRow[5]).toMatchObject({ outcome: 'failed' });
    expect(byRow[5].result?.IAM.Vendor.errorMessage).toBe('User does not exist');
    expect(byRow[6]).toMatchObject({ outcome: 'failed' });
    expect(byRow[6].result?.IAM.Vendor.errorMessage).toBe(
      'Group "jira-users" does not exist in the directory (closest: "jira-software-users", "confluence-users"). Only groups of this SCIM directory can be managed, not groups created in Atlassian administration.',
    );
    expect(byRow[7]).toMatchObject({
      outcome: 'malformed',
      error: "the group cell is empty: give the group's name",
    });
    expect(await membersOf('jira-software-users')).toEqual([ann]);
    expect(await membersOf('confluence-users')).toEqual([ann, bea].sort());
    expect(patches().length - before).toBe(2);
    expect(new Set(entries.map((e) => e.name))).toEqual(new Set(['bulk-add-to-group']));
    expect(entries.filter((e) => e.kind === 'command').map((e) => e.detail?.group)).toContain('jira-users');
  });

  it('removes: a member is removed with one PATCH, a non-member or unknown user is skipped', async () => {
    const ann = await seed('ann@example.com');
    await seed('bea@example.com');
    const [jira] = await harness.client.findGroupsByName('jira-software-users');
    await harness.client.addGroupMembers(jira.id, [ann]);
    const before = patches().length;
    const csv =
      'email,group\nann@example.com,jira-software-users\nbea@example.com,jira-software-users\nnobody@example.com,jira-software-users\n';
    const { written } = await run('remove-from-group', csv);
    const byRow = Object.fromEntries(written.map((l) => [l.row, l]));
    expect(byRow[2]).toMatchObject({ outcome: 'success' });
    expect(byRow[3]).toMatchObject({ outcome: 'skipped' });
    expect(byRow[3].result?.IAM.Vendor.reason).toBe('User is not a member.');
    expect(byRow[4]).toMatchObject({ outcome: 'skipped' });
    expect(byRow[4].result?.IAM.Vendor.reason).toBe('User does not exist');
    expect(await membersOf('jira-software-users')).toEqual([]);
    expect(patches().length - before).toBe(1);
  });
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
  const { outcome, written } = await run('create', 'email\na@example.com\nb@example.com\nc@example.com\n', {
    audit: unavailableAudit,
    entries: [],
  });
  expect(outcome.fatal).toBe('The audit log is unavailable, so nothing was done.');
  // No row is reported (a rerun takes them all) and nobody was created.
  expect(written).toEqual([]);
  expect((await harness.client.findUsers('userName', 'a@example.com')).length).toBe(0);
});

describe('waiting instead of failing (issue 11), with the real client on a virtual clock', () => {
  const TOKEN = 'tok-runner';
  const DIRECTORY = 'dir-runner';
  let atlassian: EmulatedAtlassian;
  let clock = 0;
  let script: (at: number, request: RecordedRequest) => ScriptedResponse | undefined = () => undefined;
  /** Virtual time of every request that reached the emulated Atlassian. */
  let sentAt: number[] = [];
  beforeAll(async () => {
    atlassian = await startEmulatedAtlassian({
      directoryId: DIRECTORY,
      token: TOKEN,
      intercept: (request) => {
        sentAt.push(clock);
        return script(clock, request);
      },
    });
  });
  afterAll(() => atlassian.close());
  beforeEach(() => {
    clock = 0;
    sentAt = [];
    script = () => undefined;
  });

  /** Sleeping moves the virtual clock; a turn of the event loop lets the other rows go on. */
  const sleep = async (ms: number): Promise<void> => {
    clock += ms;
    await new Promise<void>((resolve) => setImmediate(resolve));
  };

  async function runAgainst(baseUrl: string, emails: string[], breaker = {}) {
    const client = createScimClient({ baseUrl, directoryId: DIRECTORY, accessToken: TOKEN, sleep });
    const rows = toBulkRows(readCsv(`email\n${emails.join('\n')}\n`), 'disable');
    const file = path.join(dir, `${emails[0]}.jsonl`);
    const report = ReportWriter.open(file);
    const waits: string[] = [];
    const gate = new RunGate({
      now: () => clock,
      sleep,
      concurrency: 8,
      onWait: (t) => waits.push(t),
      breaker,
    });
    try {
      const outcome = await runRows(rows, {
        operation: 'disable',
        allowEnable: true,
        context: { ...context(), directory: client },
        audit: recordingAudit().audit,
        report,
        controller: new AimdController({ max: 8, now: () => clock }),
        gate,
      });
      const lines = fs
        .readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as ReportLine)
        .filter((line) => line.outcome !== ('sent' as string));
      return { outcome, lines, waits, gate };
    } finally {
      report.close();
      client.close();
    }
  }

  const seeded = (prefix: string, n: number): string[] =>
    Array.from({ length: n }, (_, i) => {
      const email = `${prefix}-${i}@example.com`;
      atlassian.seedUser(email);
      return email;
    });

  const problem = (status: number, detail: string) => ({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
    status: String(status),
    detail,
  });

  it('429 with Retry-After 120 for 20 s: no row fails', async () => {
    const emails = seeded('limited', 40);
    script = (at) =>
      at < 20_000
        ? { status: 429, headers: { 'Retry-After': '120' }, body: problem(429, 'Too many requests.') }
        : undefined;
    const { outcome, lines, waits, gate } = await runAgainst(atlassian.server.url, emails);
    expect(outcome.fatal).toBeNull();
    expect(lines.map((l) => l.outcome)).toEqual(emails.map(() => 'success'));
    expect(waits[0]).toBe('rate limited by Atlassian: waiting 120 s, then sending the rows again');
    expect(gate.counts.pauses).toBe(1);
    // The whole run waited: before Retry-After ran out only the first 8 rows (in flight at once) sent.
    expect(sentAt.filter((at) => at < 120_000)).toHaveLength(8);
    expect(sentAt).toHaveLength(8 + 40 * 2);
  });

  it('DNS failure stops the run early: rows not started are not run', async () => {
    const emails = Array.from({ length: 30 }, (_, i) => `nowhere-${i}@example.com`);
    const { outcome, lines } = await runAgainst('http://atlassian.invalid', emails);
    expect(outcome.fatal).toMatch(
      /^cannot reach atlassian\.invalid: (ENOTFOUND|EAI_AGAIN): no row can reach Atlassian until this is fixed$/,
    );
    // Only the rows already in flight ran (8 at most); the rest are not reported, so a rerun does them.
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(8);
    expect(lines.every((l) => l.outcome === 'failed')).toBe(true);
  });

  it('5xx storm opens the breaker: few requests during the storm, all rows done after it', async () => {
    const emails = seeded('storm', 60);
    script = (at) => (at < 60_000 ? { status: 503, body: problem(503, 'Down for maintenance.') } : undefined);
    const { outcome, lines, waits, gate } = await runAgainst(atlassian.server.url, emails);
    expect(outcome.fatal).toBeNull();
    expect(lines.map((l) => l.outcome)).toEqual(emails.map(() => 'success'));
    expect(gate.counts.breakerOpened).toBe(1);
    expect(waits[0]).toMatch(
      /^Atlassian failing: Down for maintenance\. .*; circuit breaker open, pausing: one row probes in 1 s$/,
    );
    // 8 rows in flight at 5 attempts each, then one probe row at a time with a growing cooldown.
    expect(sentAt.filter((at) => at < 60_000).length).toBeLessThan(80);
  });

  it('a storm outlasting the breaker stops the run with the reason; rows that met it fail, the rest are not run', async () => {
    const emails = seeded('endless', 30);
    script = () => ({ status: 502, body: problem(502, 'Bad gateway.') });
    const { outcome, lines } = await runAgainst(atlassian.server.url, emails, { maxOpenMs: 60_000 });
    expect(outcome.fatal).toMatch(
      /^Atlassian kept failing for \d+ s, the circuit breaker stopped the run \(last error: Bad gateway\./,
    );
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(lines.length).toBeLessThan(30);
    expect(lines.every((l) => l.outcome === 'failed')).toBe(true);
  });

  it('an isolated 5xx among answered rows still fails only its row; the breaker stays closed', async () => {
    const emails = seeded('isolated', 12);
    script = (_at, request) =>
      request.method === 'PATCH' && request.path.endsWith(unluckyId)
        ? { status: 500, body: problem(500, 'Atlassian had a hiccup.') }
        : undefined;
    const unluckyId = (
      atlassian.directory.handle({
        method: 'GET',
        path: '/Users',
        query: new URLSearchParams({ filter: `userName eq "${emails[4]}"` }),
        body: undefined,
      }).body as { Resources: { id: string }[] }
    ).Resources[0].id;
    const { outcome, lines, gate } = await runAgainst(atlassian.server.url, emails);
    expect(outcome.fatal).toBeNull();
    expect(gate.counts.breakerOpened).toBe(0);
    const failed = lines.filter((l) => l.outcome === 'failed').map((l) => l.identifier);
    expect(failed).toEqual([emails[4]]);
    expect(lines.filter((l) => l.outcome === 'success')).toHaveLength(11);
  });
});
