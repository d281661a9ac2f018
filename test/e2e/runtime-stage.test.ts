/**
 * The container image cannot be built on these machines (no Docker engine), so this reproduces its
 * runtime stage: the Dockerfile's own `deps` commands run in an empty folder holding only the lock file,
 * then dist/ is copied beside them, as the final stage does. The CLI and the bot must run from there:
 * runtime code that needs a dev dependency fails here.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startBot } from '../support/bot-process';
import {
  makeTempDir,
  parseJsonOutput,
  REPO_ROOT,
  removeTempDirs,
  requireBuiltCli,
  runCli,
} from '../support/cli';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-standin.cjs';

const run = promisify(execFile);

/** The `RUN` commands of one Dockerfile stage, in order (continuation lines joined). */
function stageCommands(dockerfile: string, stage: string): string[] {
  const lines = dockerfile.replace(/\\\n\s*/g, ' ').split('\n');
  const start = lines.findIndex((line) => new RegExp(`^FROM .* AS ${stage}$`, 'i').test(line.trim()));
  if (start < 0) throw new Error(`the Dockerfile has no stage named ${stage}`);
  const commands: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^FROM /i.test(line)) break;
    const match = /^RUN (.+)$/.exec(line.trim());
    if (match) commands.push(match[1]);
  }
  return commands;
}

const DOCKERFILE = fs.readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');

describe('the runtime stage of the container image, reproduced in a temporary folder', () => {
  let app: string;
  let slack: SlackStandIn;

  beforeAll(async () => {
    requireBuiltCli();
    app = makeTempDir('atlassian-iam-runtime-');
    for (const file of ['package.json', 'package-lock.json', 'manifest.yml']) {
      fs.copyFileSync(path.join(REPO_ROOT, file), path.join(app, file));
    }
    const commands = stageCommands(DOCKERFILE, 'deps');
    expect(commands.join(' && ')).toContain('npm ci --omit=dev');
    for (const command of commands) await run('sh', ['-c', command], { cwd: app, timeout: 540_000 });
    fs.cpSync(path.join(REPO_ROOT, 'dist'), path.join(app, 'dist'), { recursive: true });
    slack = await startSlackStandIn();
  }, 600_000);

  afterAll(async () => {
    await slack?.close();
    removeTempDirs();
  });

  it('installs no development dependency', () => {
    for (const dev of ['typescript', 'jest', 'eslint', 'nock']) {
      expect(fs.existsSync(path.join(app, 'node_modules', dev))).toBe(false);
    }
  });

  it('runs the CLI on the SANDBOX directory', async () => {
    const home = makeTempDir();
    const created = await runCli(
      ['iam-create-user', '--user-profile', '{"email":"jane@example.com"}', '--json'],
      { script: path.join(app, 'dist', 'cli', 'main.js'), cwd: home },
    );
    expect(created.code).toBe(0);
    expect(parseJsonOutput<{ IAM: { Vendor: { success: boolean } } }>(created).IAM.Vendor.success).toBe(true);
    expect(created.stderr).toContain('SANDBOX');
  });

  it('checks a policy file with the CLI (the YAML parser is a runtime dependency)', async () => {
    const home = makeTempDir();
    fs.writeFileSync(path.join(home, 'policy.yaml'), 'rules:\n  - action: disable\n    approvals: 1\n');
    const checked = await runCli(['policy', 'check', 'policy.yaml'], {
      script: path.join(app, 'dist', 'cli', 'main.js'),
      cwd: home,
    });
    expect({ code: checked.code, stderr: checked.stderr }).toEqual({ code: 0, stderr: '' });
    expect(checked.stdout).toMatch(/^Rules in effect \(policy\.yaml\)/);
  });

  it('starts the bot, which answers /healthz and exits 0 on SIGTERM', async () => {
    const bot = await startBot(
      { SLACK_API_URL: slack.apiUrl },
      makeTempDir(),
      path.join(app, 'dist', 'index.js'),
    );
    const health = await fetch(`${bot.url}/healthz`);
    expect(health.status).toBe(200);
    // The image's HEALTHCHECK: node, no shell, same environment as the bot.
    const port = new URL(bot.url).port;
    const check = await runCli([], {
      script: path.join(app, 'dist', 'healthcheck.js'),
      env: { PORT: port, SLACK_API_URL: slack.apiUrl },
    });
    expect({ code: check.code, stderr: check.stderr }).toEqual({ code: 0, stderr: '' });
    const code = await bot.stop('SIGTERM');
    expect({ code, output: bot.output() }).toEqual({ code: 0, output: expect.stringContaining('stopping') });
    const down = await runCli([], {
      script: path.join(app, 'dist', 'healthcheck.js'),
      env: { PORT: port, SLACK_API_URL: slack.apiUrl },
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^atlassian-iam healthcheck: GET \/healthz on port \d+: .*ECONNREFUSED/);
  });

  it('runs with the same command the image runs, and checks health without a shell', () => {
    expect(DOCKERFILE).toMatch(/^CMD \["node", "dist\/index\.js"\]$/m);
    expect(DOCKERFILE).toMatch(/^HEALTHCHECK .* CMD \["node", "dist\/healthcheck\.js"\]$/m);
    expect(DOCKERFILE).toMatch(/^USER node$/m);
  });
});
