/** `atlassian-iam policy check FILE` as a process (`node dist/cli/main.js`), on a good and a bad file. */
import { execFile, execFileSync } from 'node:child_process';
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
import { aliasBomb } from '../support/policy-files';

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
    const [title, ...blocks] = run.stdout.trimEnd().split('\n\n');
    expect(title.replace(/\n/g, ' ')).toMatch(
      /^Rules in effect \(good\.yaml\): the first rule that matches a request wins/,
    );
    // A pipe is 100 columns: the 15 columns do not fit, so each rule is a block of `column  value` lines.
    expect(Math.max(...run.stdout.split('\n').map((line) => line.length))).toBeLessThanOrEqual(100);
    const rows = blocks.map((block) => {
      const [heading, ...fields] = block.split('\n');
      return [heading, ...fields.map((field) => field.trim().split(/\s{2,}/)[1] ?? '')];
    });
    expect(blocks[0].split('\n').map((field) => field.trim().split(/\s{2,}/)[0])).toEqual([
      '1 admins',
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

  it('F7/F8: an alias bomb, a FIFO and a file over 1 MB are FILE problems with exit 2, at once', async () => {
    fs.writeFileSync(path.join(cwd, 'bomb.yaml'), aliasBomb());
    fs.writeFileSync(path.join(cwd, 'big.yaml'), `# ${'x'.repeat(1_100_000)}\n`);
    execFileSync('mkfifo', [path.join(cwd, 'fifo')]);
    const runs = await Promise.all(['bomb.yaml', 'fifo', 'big.yaml'].map((file) => check(file)));
    expect(runs.map((run) => [run.code, run.stderr.split(': ').slice(0, 2).join(': ')])).toEqual([
      [2, 'bomb.yaml:12: (yaml)'],
      [2, 'fifo: file'],
      [2, 'big.yaml: file'],
    ]);
  });

  it('F9: a long rule name fits the 100 columns of a pipe, and a bidi control in a name is refused', async () => {
    const name = 'n'.repeat(80);
    fs.writeFileSync(path.join(cwd, 'long.yaml'), `rules:\n  - name: ${name}\n    action: disable\n`);
    const long = await check('long.yaml');
    expect(long.code).toBe(0);
    expect(Math.max(...long.stdout.split('\n').map((line) => line.length))).toBeLessThanOrEqual(100);
    expect(long.stdout).toContain(`1 ${name}`);
    fs.writeFileSync(
      path.join(cwd, 'bidi.yaml'),
      'rules:\n  - name: "\\u202eelbasid"\n    action: disable\n',
    );
    const bidi = await check('bidi.yaml');
    expect([bidi.code, bidi.stdout]).toEqual([2, '']);
    expect(bidi.stderr).toBe(
      'bidi.yaml:2: rule 1 name: contains an invisible or control character (U+202E), which can make the name read differently; remove it\n',
    );
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
