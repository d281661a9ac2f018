/** Starting the bot without its Slack settings stops at once with a message that says what to set. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, removeTempDirs } from '../support/cli';
import { runBotToExit } from '../support/bot-process';
import { aliasBomb } from '../support/policy-files';

afterAll(removeTempDirs);

describe('bot configuration', () => {
  it('names SLACK_BOT_TOKEN and points at manifest.yml and the README when it is missing', async () => {
    const { code, stderr } = await runBotToExit({ SLACK_SIGNING_SECRET: 's' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/SLACK_BOT_TOKEN: is required/);
    expect(stderr).toContain('manifest.yml');
    expect(stderr).toContain('Slack setup');
  });

  it('needs the signing secret in HTTP mode', async () => {
    const { code, stderr } = await runBotToExit({ SLACK_BOT_TOKEN: 'xoxb-1' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/SLACK_SIGNING_SECRET: is required in HTTP mode/);
  });

  it('reports a malformed token without echoing it', async () => {
    const { code, stderr } = await runBotToExit({
      SLACK_BOT_TOKEN: 'xoxp-SECRET-user-token',
      SLACK_SIGNING_SECRET: 's',
    });
    expect(code).toBe(2);
    expect(stderr).toContain('SLACK_BOT_TOKEN: must be a bot token (xoxb-…)');
    expect(stderr).not.toContain('SECRET');
  });

  it('explains that the sandbox directory is SQLite-only when DATABASE_URL is PostgreSQL', async () => {
    const { code, stderr } = await runBotToExit({
      SLACK_BOT_TOKEN: 'xoxb-bot-token-long-enough',
      SLACK_SIGNING_SECRET: 'signing-secret-long-enough',
      DATABASE_URL: 'postgres://iam:pw-SECRET-1@db.example.com/iam',
    });
    expect(code).toBe(2);
    expect(stderr).toContain('DATABASE_URL: is PostgreSQL, but with no Atlassian credentials');
    expect(stderr).toContain('ATLASSIAN_ACCESS_TOKEN and ATLASSIAN_DIRECTORY_ID');
    expect(stderr).toContain('DATABASE_URL=sqlite:PATH');
    expect(stderr).not.toMatch(/SECRET|db\.example\.com/);
  });

  it('stops with one line and exit 1 when the PostgreSQL server cannot be reached, without the URL or password', async () => {
    const { code, stderr, stdout } = await runBotToExit({
      SLACK_BOT_TOKEN: 'xoxb-bot-token-long-enough',
      SLACK_SIGNING_SECRET: 'signing-secret-long-enough',
      ATLASSIAN_ACCESS_TOKEN: 'atlassian-token-long-enough',
      ATLASSIAN_DIRECTORY_ID: 'dir-1',
      // Port 1 on loopback refuses at once: no server is needed.
      DATABASE_URL: 'postgres://iam:pw-SECRET-2@127.0.0.1:1/iam',
    });
    expect(code).toBe(1);
    expect(stderr).toBe(
      'atlassian-iam bot: cannot start: PostgreSQL (DATABASE_URL): the database server refused the connection (ECONNREFUSED); check DATABASE_URL and that the database is running and reachable\n',
    );
    expect(stderr + stdout).not.toMatch(/SECRET|127\.0\.0\.1|postgres:\/\//);
  });

  it('stops at start with FILE:LINE: KEY lines when IAM_POLICY_FILE has a problem, and opens nothing', async () => {
    const policyFile = path.join(makeTempDir(), 'policy.yaml');
    fs.writeFileSync(policyFile, 'rules:\n  - action: disable\n    aprovers: [U0SEC]\n');
    const { code, stderr } = await runBotToExit({
      SLACK_BOT_TOKEN: 'xoxb-bot-token-long-enough',
      SLACK_SIGNING_SECRET: 'signing-secret-long-enough',
      IAM_POLICY_FILE: policyFile,
    });
    expect(code).toBe(2);
    expect(stderr).toContain(`${policyFile}:3: rule 1 aprovers:`);
    expect(stderr).toContain('approvers');
  });

  it('F7/F8: stops at start naming the policy file for an alias bomb and for a FIFO, without hanging', async () => {
    const dir = makeTempDir();
    const bomb = path.join(dir, 'bomb.yaml');
    fs.writeFileSync(bomb, aliasBomb());
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const env = {
      SLACK_BOT_TOKEN: 'xoxb-bot-token-long-enough',
      SLACK_SIGNING_SECRET: 'signing-secret-long-enough',
    };
    const bombRun = await runBotToExit({ ...env, IAM_POLICY_FILE: bomb });
    expect(bombRun.code).toBe(2);
    expect(bombRun.stderr).toContain(`${bomb}:12: (yaml): too many aliases`);
    const fifoRun = await runBotToExit({ ...env, IAM_POLICY_FILE: fifo });
    expect(fifoRun.code).toBe(2);
    expect(fifoRun.stderr).toContain(`${fifo}: file: is not a regular file`);
  });
});
