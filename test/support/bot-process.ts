/** Runs the built bot (dist/index.js) as a real process and talks to it the way Slack does. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir, REPO_ROOT } from './cli';
import type { EmulatedAtlassian } from './scim-server';
import type { SlackStandIn } from './slack-standin.cjs';
import { slashCommand } from './slack-payloads';

export const BOT_PATH = path.join(REPO_ROOT, 'dist', 'index.js');
export const SIGNING_SECRET = 'sig-SECRET-e2e-0123456789';
export const BOT_TOKEN = 'xoxb-SECRET-e2e-bot-token';

export interface BotProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export function requireBuiltBot(): void {
  if (!fs.existsSync(BOT_PATH)) {
    throw new Error(`${BOT_PATH} is missing: run \`npm run build\` first (\`npm test\` does it).`);
  }
}

/** Runs the bot with only `env` (in a fresh directory) until it exits, for start-up failures. */
export async function runBotToExit(
  env: Record<string, string>,
): Promise<{ code: number; stderr: string; stdout: string }> {
  requireBuiltBot();
  const cwd = makeTempDir('atlassian-iam-bot-config-');
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BOT_PATH], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, ...env },
      timeout: 15_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/**
 * The environment for bots on the Slack stand-in and the emulated Atlassian that share the audit database at
 * `databaseUrl`, logging at debug.
 */
export function sharedBotEnv(
  slack: SlackStandIn,
  atlassian: EmulatedAtlassian,
  databaseUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    SLACK_API_URL: slack.apiUrl,
    ...atlassian.env,
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'debug',
    ...extra,
  };
}

/** Starts the bot (by default this checkout's build) in HTTP mode and waits until /healthz answers. */
export async function startBot(
  env: Record<string, string>,
  cwd = makeTempDir('atlassian-iam-bot-'),
  script = BOT_PATH,
): Promise<BotProcess> {
  if (script === BOT_PATH) requireBuiltBot();
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [script], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: cwd,
      PORT: String(port),
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      DATABASE_URL: `sqlite:${path.join(cwd, 'bot.db')}`,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the bot exited at start:\n${output}`);
    try {
      const answer = await fetch(`${url}/healthz`);
      if (answer.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the bot did not answer /healthz within 15 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    child,
    output: () => output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignedOptions {
  secret?: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  contentType?: string;
  /** Send no signature headers at all. */
  unsigned?: boolean;
  /** Sign this body but send `body` (tampering). */
  signedBody?: string;
}

/** POSTs to /slack/events signed exactly as Slack signs requests. */
export async function postSigned(
  botUrl: string,
  body: string,
  options: SignedOptions = {},
): Promise<Response> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
  };
  if (!options.unsigned) {
    headers['x-slack-request-timestamp'] = String(timestamp);
    headers['x-slack-signature'] = slackSignature(
      options.secret ?? SIGNING_SECRET,
      timestamp,
      options.signedBody ?? body,
    );
  }
  return fetch(`${botUrl}/slack/events`, { method: 'POST', headers, body });
}

/** A slash command, form-encoded as Slack posts it. */
export function slashCommandBody(
  command: string,
  text: string,
  userId: string,
  responseUrl: string,
  channelId = 'C1',
): string {
  return new URLSearchParams(slashCommand(command, text, userId, responseUrl, channelId)).toString();
}

export function interactionBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
