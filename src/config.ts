import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';
import { booleanFromText } from './boolean-text';
import type { LogLevel } from './log';

/** Environment as this module reads it; tests pass their own instead of touching process.env. */
export type Env = Record<string, string | undefined>;

export interface AtlassianConnection {
  mode: 'atlassian';
  /** Base URL without a trailing slash. */
  url: string;
  accessToken: string;
  directoryId: string;
  insecure: boolean;
  /** Proxy URLs taken from HTTPS_PROXY/HTTP_PROXY/NO_PROXY when ATLASSIAN_USE_PROXY is true. */
  proxy: ProxySettings | null;
  timeoutMs: number;
}

export interface SandboxConnection {
  mode: 'sandbox';
  timeoutMs: number;
}

export interface ProxySettings {
  httpsProxy?: string;
  httpProxy?: string;
  noProxy?: string;
}

export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** The file name of the default SQLite database, in the per-user data directory. */
export const DEFAULT_DATABASE_FILE = 'atlassian-iam.db';

/**
 * The per-user data directory (XDG Base Directory): `$XDG_DATA_HOME/atlassian-iam`, or
 * `~/.local/share/atlassian-iam`. The same from every working directory, so one installation has one
 * sandbox and one audit log. XDG_DATA_HOME must be absolute (the specification ignores a relative one).
 */
export function dataDirectory(env: Env): string {
  const xdg = env.XDG_DATA_HOME?.trim();
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'atlassian-iam');
  const home = env.HOME?.trim() || os.homedir();
  return path.join(home, '.local', 'share', 'atlassian-iam');
}

/** The database as the help and messages name it: the SQLite file, or the PostgreSQL host (no password). */
export function describeDatabase(location: DatabaseLocation): string {
  if (location.kind === 'sqlite') return location.path;
  const url = parseLoosely(location.url);
  return url ? `PostgreSQL at ${url.host}${url.pathname}` : 'PostgreSQL';
}

export interface CommandSwitches {
  createEnabled: boolean;
  updateEnabled: boolean;
  disableEnabled: boolean;
  enableEnabled: boolean;
  createIfNotFound: boolean;
}

export interface SlackSettings {
  botToken: string | null;
  signingSecret: string | null;
  /** Set: Socket Mode; unset: HTTP mode on `port`. */
  appToken: string | null;
  /** Web API base, always ending in `/`. */
  apiUrl: string;
  port: number;
  /** Socket Mode: where /healthz and /readyz are served; null: no HTTP listener at all. */
  healthPort: number | null;
  /** Slack user (U…/W…) and user-group (S…) ids; null: workspace admins and owners. */
  operators: string[] | null;
  /** null: the same people as operators. */
  approvers: string[] | null;
  approvalTtlMs: number;
  /** How often an instance looks for due scheduled requests at the latest (it also wakes when one is due). */
  schedulePollMs: number;
  /** IAM_APPROVED_RETRY_DEADLINE: how long after approval a change Atlassian keeps failing transiently is retried. */
  approvedRetryDeadlineMs: number;
}

export interface Config {
  slack: SlackSettings;
  directory: AtlassianConnection | SandboxConnection;
  commands: CommandSwitches;
  incomingMapperPath: string | null;
  outgoingMapperPath: string | null;
  /** IAM_POLICY_FILE: approval policy (docs/POLICY.md); null: the built-in rules. */
  policyFile: string | null;
  instanceName: string;
  database: DatabaseLocation;
  logLevel: LogLevel;
  /** Every secret value in force, so loggers and error printers can scrub them. */
  secrets: string[];
  /** What the configuration allows that a careful admin should know (logged at start). */
  warnings: string[];
}

/** Thrown when the environment is invalid; `problems` holds one line per variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** `PREFIX: HEADLINE:` then one indented line per problem: how the bot and the CLI print what to fix. */
export const problemsText = (prefix: string, headline: string, problems: readonly string[]): string =>
  `${prefix}: ${headline}:\n${problems.map((problem) => `  ${problem}`).join('\n')}\n`;

const SECRET_VARIABLES = [
  'ATLASSIAN_ACCESS_TOKEN',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
] as const;

const booleanText = z
  .string()
  .refine((v) => booleanFromText(v) !== null, { message: 'must be true or false' })
  .transform((v) => booleanFromText(v) as boolean);

const durationText = z
  .string()
  .trim()
  .regex(/^\d+(ms|s|m|h)?$/, { message: 'must be a duration such as 10s, 1500ms or 2m' })
  .transform(parseDuration);

const httpUrl = z
  .string()
  .trim()
  .refine(
    (v) => {
      try {
        return ['http:', 'https:'].includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: 'must be an http:// or https:// URL' },
  )
  .transform((v) => v.replace(/\/+$/, ''));

const nonEmpty = z.string().trim().min(1, { message: 'must not be empty' });

const slackIdList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id !== ''),
  )
  .refine((ids) => ids.length > 0, { message: 'must list at least one Slack user or user-group id' })
  .refine((ids) => ids.every((id) => /^[UWS][A-Z0-9]{2,}$/.test(id)), {
    message: 'must be a comma list of Slack user ids (U…, W…) and user-group ids (S…)',
  });

const portNumber = z
  .string()
  .trim()
  .regex(/^\d+$/, { message: 'must be a port number' })
  .transform(Number)
  .refine((n) => n > 0 && n < 65536, { message: 'must be a port number from 1 to 65535' });

const envSchema = z.object({
  ATLASSIAN_URL: httpUrl.default('https://api.atlassian.com'),
  ATLASSIAN_ACCESS_TOKEN: nonEmpty.optional(),
  ATLASSIAN_DIRECTORY_ID: nonEmpty
    .regex(/^[A-Za-z0-9._~-]+$/, { message: 'must be the directory ID from Atlassian Administration' })
    .optional(),
  ATLASSIAN_INSECURE: booleanText.default(false),
  ATLASSIAN_USE_PROXY: booleanText.default(false),
  ATLASSIAN_TIMEOUT: durationText.default(10_000),
  IAM_CREATE_USER_ENABLED: booleanText.default(true),
  IAM_UPDATE_USER_ENABLED: booleanText.default(true),
  IAM_DISABLE_USER_ENABLED: booleanText.default(true),
  IAM_ENABLE_USER_ENABLED: booleanText.default(true),
  IAM_CREATE_IF_NOT_FOUND: booleanText.default(true),
  IAM_INCOMING_MAPPER: nonEmpty.optional(),
  IAM_OUTGOING_MAPPER: nonEmpty.optional(),
  IAM_POLICY_FILE: nonEmpty.optional(),
  IAM_INSTANCE_NAME: nonEmpty.default('Atlassian IAM_instance_1'),
  DATABASE_URL: nonEmpty
    .refine((v) => v.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(v), {
      message: 'must be sqlite:PATH or postgres://…',
    })
    .optional(),
  LOG_LEVEL: z
    .enum(['debug', 'info', 'warn', 'error'], { message: 'must be debug, info, warn or error' })
    .default('info'),
  SLACK_BOT_TOKEN: nonEmpty.startsWith('xoxb-', { message: 'must be a bot token (xoxb-…)' }).optional(),
  SLACK_SIGNING_SECRET: nonEmpty.optional(),
  SLACK_APP_TOKEN: nonEmpty
    .startsWith('xapp-', { message: 'must be an app-level token (xapp-…)' })
    .optional(),
  SLACK_API_URL: httpUrl.transform((v) => `${v}/`).default('https://slack.com/api/'),
  PORT: portNumber.default(3000),
  HEALTH_PORT: portNumber.optional(),
  IAM_OPERATORS: slackIdList.optional(),
  IAM_APPROVERS: slackIdList.optional(),
  IAM_APPROVAL_TTL: durationText.default(24 * 3_600_000),
  IAM_SCHEDULE_POLL: durationText
    .refine((ms) => ms >= 100 && ms <= 3_600_000, { message: 'must be between 100ms and 1h' })
    .default(60_000),
  IAM_APPROVED_RETRY_DEADLINE: durationText.default(24 * 3_600_000),
  IAM_ALLOW_INSECURE_HTTP: booleanText.default(false),
  HTTPS_PROXY: z.string().optional(),
  HTTP_PROXY: z.string().optional(),
  NO_PROXY: z.string().optional(),
});

export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

/**
 * `<NAME>_FILE` holds the path of a file whose content is the secret (container-secrets convention).
 * Returns the environment with those resolved, plus the problems met doing so.
 */
function resolveSecretFiles(env: Env, readFile: (file: string) => string): { env: Env; problems: string[] } {
  const resolved: Env = { ...env };
  const problems: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      resolved[name] = readFile(file).trim();
    } catch {
      problems.push(`${name}_FILE: cannot read the file ${file}`);
    }
  }
  return { env: resolved, problems };
}

/** Empty strings count as unset, as in most .env files. */
function withoutEmpty(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

/** Loads `.env` from the working directory into the given environment (existing values win). */
export function loadDotenv(env: NodeJS.ProcessEnv = process.env, file = '.env'): void {
  dotenv.config({ path: file, processEnv: env, quiet: true });
}

type Settings = z.infer<typeof envSchema>;

/** The variables, checked against the schema (secrets read from their *_FILE); every problem at once. */
function parseEnv(env: Env, readFile: (file: string) => string): Settings {
  const { env: resolved, problems } = resolveSecretFiles(withoutEmpty(env), readFile);
  const parsed = envSchema.safeParse(resolved);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      problems.push(`${name}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}

/** Atlassian when both its token and directory are set, the sandbox when neither is. */
function directoryOf(e: Settings, env: Env): AtlassianConnection | SandboxConnection {
  const hasToken = e.ATLASSIAN_ACCESS_TOKEN !== undefined;
  const hasDirectory = e.ATLASSIAN_DIRECTORY_ID !== undefined;
  if (hasToken !== hasDirectory) {
    const missing = hasToken ? 'ATLASSIAN_DIRECTORY_ID' : 'ATLASSIAN_ACCESS_TOKEN';
    throw new ConfigError([
      `${missing}: is required when ${hasToken ? 'ATLASSIAN_ACCESS_TOKEN' : 'ATLASSIAN_DIRECTORY_ID'} is set (set both for Atlassian, neither for the sandbox)`,
    ]);
  }
  if (!hasToken) return { mode: 'sandbox', timeoutMs: e.ATLASSIAN_TIMEOUT };
  return {
    mode: 'atlassian',
    url: e.ATLASSIAN_URL,
    accessToken: e.ATLASSIAN_ACCESS_TOKEN as string,
    directoryId: e.ATLASSIAN_DIRECTORY_ID as string,
    insecure: e.ATLASSIAN_INSECURE,
    proxy: e.ATLASSIAN_USE_PROXY
      ? {
          httpsProxy: e.HTTPS_PROXY ?? env.https_proxy,
          httpProxy: e.HTTP_PROXY ?? env.http_proxy,
          noProxy: e.NO_PROXY ?? env.no_proxy,
        }
      : null,
    timeoutMs: e.ATLASSIAN_TIMEOUT,
  };
}

function databaseOf(e: Settings, env: Env): DatabaseLocation {
  const databaseUrl = e.DATABASE_URL ?? `sqlite:${path.join(dataDirectory(env), DEFAULT_DATABASE_FILE)}`;
  return databaseUrl.startsWith('sqlite:')
    ? { kind: 'sqlite', path: path.resolve(databaseUrl.slice('sqlite:'.length)) }
    : { kind: 'postgres', url: databaseUrl };
}

/** Every value the logs, errors and output must never show: tokens, and passwords inside URLs. */
function secretsOf(
  e: Settings,
  database: DatabaseLocation,
  directory: AtlassianConnection | SandboxConnection,
): string[] {
  const secrets = [
    e.ATLASSIAN_ACCESS_TOKEN,
    e.SLACK_BOT_TOKEN,
    e.SLACK_SIGNING_SECRET,
    e.SLACK_APP_TOKEN,
  ].filter((s): s is string => s !== undefined);
  if (database.kind === 'postgres') {
    secrets.push(...urlPasswords(database.url));
  }
  const proxy = directory.mode === 'atlassian' ? directory.proxy : null;
  for (const proxyUrl of [proxy?.httpsProxy, proxy?.httpProxy]) {
    if (proxyUrl) secrets.push(...urlPasswords(proxyUrl));
  }
  return secrets;
}

/** Plain http:// to a host that is not loopback: refused, or a warning with IAM_ALLOW_INSECURE_HTTP. */
function cleartextWarnings(e: Settings, directory: AtlassianConnection | SandboxConnection): string[] {
  const cleartext = cleartextUrls(e.SLACK_API_URL, directory);
  if (e.IAM_ALLOW_INSECURE_HTTP) {
    return cleartext.map(
      ([name, url]) =>
        `IAM_ALLOW_INSECURE_HTTP=true: ${name} (${hostOf(url)}) is plain http://, so tokens cross the network in cleartext; use https:// in production`,
    );
  }
  if (cleartext.length > 0) {
    throw new ConfigError(
      cleartext.map(
        ([name, url]) =>
          `${name}: plain http:// to ${hostOf(url)} would send tokens in cleartext; use https:// (http:// is allowed for loopback hosts only), or set IAM_ALLOW_INSECURE_HTTP=true to accept the risk`,
      ),
    );
  }
  return [];
}

export function loadConfig(
  env: Env = process.env,
  readFile: (file: string) => string = (f) => fs.readFileSync(f, 'utf8'),
): Config {
  const e = parseEnv(env, readFile);
  const directory = directoryOf(e, env);
  const database = databaseOf(e, env);
  const secrets = secretsOf(e, database, directory);
  const warnings = cleartextWarnings(e, directory);

  return {
    slack: {
      botToken: e.SLACK_BOT_TOKEN ?? null,
      signingSecret: e.SLACK_SIGNING_SECRET ?? null,
      appToken: e.SLACK_APP_TOKEN ?? null,
      apiUrl: e.SLACK_API_URL,
      port: e.PORT,
      healthPort: e.HEALTH_PORT ?? null,
      operators: e.IAM_OPERATORS ?? null,
      approvers: e.IAM_APPROVERS ?? null,
      approvalTtlMs: e.IAM_APPROVAL_TTL,
      schedulePollMs: e.IAM_SCHEDULE_POLL,
      approvedRetryDeadlineMs: e.IAM_APPROVED_RETRY_DEADLINE,
    },
    directory,
    commands: {
      createEnabled: e.IAM_CREATE_USER_ENABLED,
      updateEnabled: e.IAM_UPDATE_USER_ENABLED,
      disableEnabled: e.IAM_DISABLE_USER_ENABLED,
      enableEnabled: e.IAM_ENABLE_USER_ENABLED,
      createIfNotFound: e.IAM_CREATE_IF_NOT_FOUND,
    },
    incomingMapperPath: e.IAM_INCOMING_MAPPER ?? null,
    outgoingMapperPath: e.IAM_OUTGOING_MAPPER ?? null,
    policyFile: e.IAM_POLICY_FILE ?? null,
    instanceName: e.IAM_INSTANCE_NAME,
    database,
    logLevel: e.LOG_LEVEL,
    secrets,
    warnings,
  };
}

/** A URL as the HTTP client reads it: a proxy written without a scheme (`proxy:3128`) is http. */
export function parseLoosely(text: string): URL | null {
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text.trim()) ? text.trim() : `http://${text.trim()}`);
  } catch {
    return null;
  }
}

const hostOf = (url: string): string => parseLoosely(url)?.host ?? url;

/** localhost, 127.0.0.0/8 and ::1: traffic that never leaves the machine. */
function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
  );
}

/** The variables whose URLs would carry a token over plain http to another machine: [name, url]. */
function cleartextUrls(
  slackApiUrl: string,
  directory: AtlassianConnection | SandboxConnection,
): [string, string][] {
  const urls: [string, string | undefined][] = [['SLACK_API_URL', slackApiUrl]];
  if (directory.mode === 'atlassian') {
    urls.push(['ATLASSIAN_URL', directory.url]);
    urls.push(['HTTPS_PROXY', directory.proxy?.httpsProxy], ['HTTP_PROXY', directory.proxy?.httpProxy]);
  }
  return urls.filter((entry): entry is [string, string] => {
    const url = entry[1] === undefined ? null : parseLoosely(entry[1]);
    return url !== null && url.protocol === 'http:' && !isLoopback(url);
  });
}

/** The password of a URL with credentials, as written and decoded (both can show up in text). */
function urlPasswords(url: string): string[] {
  const raw = parseLoosely(url)?.password ?? '';
  if (raw === '') return [];
  try {
    return [...new Set([raw, decodeURIComponent(raw)])];
  } catch {
    return [raw];
  }
}

const SETUP_HINT = 'create the Slack app from manifest.yml and see README.md, section "Slack setup"';

/** The bot needs Slack settings the CLI does not; this checks them, one line per missing variable. */
export function requireSlackSettings(
  config: Config,
  options: { customReceiver?: boolean } = {},
): SlackSettings & { botToken: string } {
  const { slack } = config;
  const problems: string[] = [];
  if (!slack.botToken) problems.push(`SLACK_BOT_TOKEN: is required to run the bot (xoxb-…); ${SETUP_HINT}`);
  if (!slack.appToken && !slack.signingSecret && !options.customReceiver) {
    problems.push(
      `SLACK_SIGNING_SECRET: is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode); ${SETUP_HINT}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...slack, botToken: slack.botToken as string };
}
