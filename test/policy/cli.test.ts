/** `atlassian-iam policy check FILE` as a process (`node dist/cli/main.js`), on a good and a bad file. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CLI_PATH,
  type CliRun,
  describeRun,
  makeTempDir,
  removeTempDirs,
  requireBuiltCli,
  runCli,
} from '../support/cli';

const GOOD = `# two rules, the rest built in
rules:
  - name: admins
    action: disable
    target: { domain: example.com, email: "*-admin@*" }
    approvers: [S0SECURITY]
    approvals: 2
    reason: required
    expires: 8h
    channel: C0SECURITY
    remind: { after: 2h, times: 2 }
    escalate: { after: 6h, to: [S0ONCALL] }
    breakGlass: true
  - action: [disable, enable]
  - action: grant
    target: { group: "jira-*" }
    requesters: [members]
    maxDuration: 8h
    notifyBefore: 30m
`;

const BAD = `rules:
  - action: disable
    aprovers: [U0AAA]
  - action: enable
    expires: soon
`;

let cwd: string;

async function check(file: string, env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(['policy', 'check', file], { cwd, env });
}

beforeAll(() => {
  requireBuiltCli();
  cwd = makeTempDir('atlassian-iam-policy-');
  fs.writeFileSync(path.join(cwd, 'good.yaml'), GOOD);
  fs.writeFileSync(path.join(cwd, 'bad.yaml'), BAD);
});

afterAll(removeTempDirs);

describe('atlassian-iam policy check', () => {
  it('prints the rules in effect for a good file and exits 0', async () => {
    const run = await check('good.yaml', { IAM_APPROVERS: 'U0APP1,U0APP2', IAM_APPROVAL_TTL: '12h' });
    if (run.code !== 0) throw new Error(describeRun(run));
    expect(run.stderr).toBe('');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Rules in effect \(good\.yaml\): the first rule that matches a request wins/);
    expect(lines[1].split(/\s{2,}/)).toEqual([
      '#',
      'action',
      'target',
      'requesters',
      'approvers',
      'N',
      'reason',
      'expires',
      'channel',
      'remind',
      'escalate',
      'break-glass',
      'schedule ahead',
      'max duration',
      'notify before',
    ]);
    const rows = lines.slice(3).map((line) => line.split(/\s{2,}/));
    expect(rows.map((row) => [row[0], row[1]])).toEqual([
      ['1 admins', 'disable'],
      ['2', 'disable, enable'],
      ['3', 'grant'],
      ['default', 'identifier-change'],
      ['default', 'update'],
      ['default', 'create'],
      ['default', 'grant'],
    ]);
    expect(rows[0]).toEqual([
      '1 admins',
      'disable',
      'domain=example.com email=*-admin@*',
      'workspace admins',
      'S0SECURITY',
      '2',
      'required',
      '8h',
      'C0SECURITY',
      'every 2h x2',
      'after 6h to S0ONCALL',
      'yes',
      '90d',
      '-',
      '-',
    ]);
    expect(rows[2].slice(2, 4)).toEqual(['group=jira-*', 'any member (for themselves)']);
    expect(rows[2].slice(-2)).toEqual(['8h', '30m']);
    expect(rows[rows.length - 1].slice(-2)).toEqual(['no limit', '1d, 1h']);
    // What the file leaves out comes from the environment.
    expect(rows[1].slice(4, 8)).toEqual(['U0APP1, U0APP2 (IAM_APPROVERS)', '1', 'optional', '12h']);
    expect(rows[4].slice(4, 6)).toEqual(['-', 'none: acts at once']);
  });

  it('prints each problem of a bad file as FILE:LINE: KEY: message and exits 2', async () => {
    const run = await check('bad.yaml');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')).toEqual([
      'bad.yaml:3: rule 1 aprovers: unknown key; did you mean approvers?',
      'bad.yaml:5: rule 2 expires: "soon" is not a duration such as 30m, 4h, 1d12h or 7d (units s, m, h, d, w)',
      '',
    ]);
  });

  it('refuses a missing file, a missing argument and an unknown subcommand with exit 2', async () => {
    const missing = await check('nope.yaml');
    expect([missing.code, missing.stderr]).toEqual([2, 'nope.yaml: file: there is no such file\n']);
    const noFile = await runCli(['policy', 'check'], { cwd });
    expect([noFile.code, noFile.stderr]).toEqual([
      2,
      'atlassian-iam policy: policy check needs a FILE, e.g. policy check policy.yaml\n',
    ]);
    const unknown = await runCli(['policy', 'show'], { cwd });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown policy command "show"/);
  });

  it('has --help, and the main help names it', async () => {
    const help = await runCli(['policy', '--help'], { cwd });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: atlassian-iam policy check FILE/);
    const main = await runCli(['--help'], { cwd });
    expect(main.stdout).toMatch(/policy check FILE\s+check an approval policy file/);
  });

  it('is loaded only when asked for: the other commands do not load the YAML parser', async () => {
    const probe = `require(${JSON.stringify(CLI_PATH)}); process.stdout.write(String(Object.keys(require.cache).some((f) => f.includes('/node_modules/yaml/'))))`;
    const loaded = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['-e', probe], (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
    expect(loaded).toBe('false');
  });
});
