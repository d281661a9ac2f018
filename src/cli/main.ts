#!/usr/bin/env node
import { parseFlags } from './args';
import { EXIT, reportCliError } from './errors';
import { exitWhenWritten } from './exit';
import { type CliIo, sandboxNotice } from './io';
import { commandHelp, globalHelp } from './help';
import { closest } from '../closest-word';
import { type Config, ConfigError, describeDatabase, loadConfig, loadDotenv } from '../config';
import {
  BUILT_IN_OUTGOING,
  type CommandName,
  getMappingFields,
  type IamContext,
  type IamResult,
  isGroupCommand,
  isProfileCommand,
  loadMapper,
  type ProfileCommand,
  ProfileError,
  runCommand,
  testModule,
} from '../iam';
import { runAuditCommand } from './audit';
import { runBulkCommand } from './bulk';
import { auditedRun, type CliAudit, openCliAudit } from './audit-trail';
import { runDryRun } from './dry-run';
import { runGroupCommand } from './groups';
import { type ProfileInput, readProfileInput } from './profile-input';
import { createLogger, type Logger, redact } from '../log';
import { renderResultText, renderTextTable, resultTable, terminalWidth } from '../views/table';
import type { Store } from '../store/types';
import { createRuntime, newDatabaseNotice, type Runtime } from '../runtime';

const ALIASES: Record<string, CommandName> = {
  'iam-create-user': 'iam-create-user',
  'create-user': 'iam-create-user',
  'iam-update-user': 'iam-update-user',
  'update-user': 'iam-update-user',
  'iam-get-user': 'iam-get-user',
  'get-user': 'iam-get-user',
  'iam-disable-user': 'iam-disable-user',
  'disable-user': 'iam-disable-user',
  'iam-enable-user': 'iam-enable-user',
  'enable-user': 'iam-enable-user',
  'iam-get-groups': 'iam-get-groups',
  'get-groups': 'iam-get-groups',
  'iam-add-to-group': 'iam-add-to-group',
  'add-to-group': 'iam-add-to-group',
  'iam-remove-from-group': 'iam-remove-from-group',
  'remove-from-group': 'iam-remove-from-group',
  'test-module': 'test-module',
  test: 'test-module',
  'get-mapping-fields': 'get-mapping-fields',
  'run-scheduled': 'run-scheduled',
};

class UsageError extends Error {}

interface Invocation {
  command: CommandName;
  profileText?: string;
  allowEnable?: string;
  at?: string;
  reason?: string;
  group?: string;
  json: boolean;
  /** Print what the write would change; send no write (src/cli/dry-run.ts). */
  dryRun: boolean;
}

/** `help`: the global help; a command name: that command's help. */
type Help = { help: CommandName | 'global' };

function parseInvocation(argv: string[]): Invocation | Help {
  let parsed;
  try {
    parsed = parseFlags(argv, {
      'user-profile': { type: 'string' },
      'allow-enable': { type: 'string' },
      at: { type: 'string' },
      reason: { type: 'string' },
      group: { type: 'string' },
      json: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; run atlassian-iam --help`);
  }
  const { values, positionals } = parsed;
  if (positionals.length === 0) return { help: 'global' };
  const command = ALIASES[positionals[0]];
  if (!command) {
    if (values.help) return { help: 'global' };
    const near = closest(positionals[0], Object.keys(ALIASES));
    throw new UsageError(
      `unknown command "${positionals[0]}"${near ? ` (did you mean ${near}?)` : ''}; run atlassian-iam --help`,
    );
  }
  if (values.help) return { help: command };
  if (positionals.length > 1)
    throw new UsageError(`unexpected argument "${positionals[1]}"; run atlassian-iam ${command} --help`);
  return {
    command,
    profileText: values['user-profile'],
    allowEnable: values['allow-enable'],
    at: values.at,
    reason: values.reason,
    group: values.group,
    json: values.json,
    dryRun: values['dry-run'],
  };
}

/** A profile command with its input, read before the runtime opened (see run). */
interface ProfileRun {
  command: ProfileCommand;
  input: ProfileInput;
}

/** The profile run read up front; only a profile command has one. */
function profileRunOf(run: ProfileRun | null, command: CommandName): ProfileRun {
  if (run === null) throw new Error(`${command} is not a profile command`);
  return run;
}

function runProfileCommand(
  context: IamContext,
  { command, input: { profile, allowEnable } }: ProfileRun,
  openAudit: () => Promise<CliAudit>,
): Promise<IamResult> {
  // Opened only once the input is known to be good: bad input touches nothing, not even the audit file.
  return auditedRun(openAudit, command, profile, null, () =>
    runCommand(command, context, profile, { allowEnable }),
  );
}

function checkNoProfileArguments(invocation: Invocation): void {
  const { profileText, allowEnable, group, at, reason } = invocation;
  if ([profileText, allowEnable, group, at, reason].some((value) => value !== undefined)) {
    throw new UsageError(
      `${invocation.command} takes no --user-profile, --allow-enable, --group, --at or --reason`,
    );
  }
}

/** A command's result: the XSOAR object with --json, else a table fitted to the terminal. */
function resultText(result: IamResult, json: boolean, maxWidth: number, titleSuffix = ''): string {
  return json
    ? JSON.stringify(result, null, 2)
    : renderResultText(resultTable(result, { detailsMax: 120, titleSuffix }), result.IAM.Vendor, {
        maxWidth,
        shrinkFirst: ['details'],
      });
}

/** `iam-disable-user --at`: reads the time and the profile first (bad input stores nothing), then schedules. */
async function runScheduleCommand(
  config: Config,
  context: IamContext,
  invocation: Invocation,
  io: CliIo,
): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const scheduling = require('./scheduled') as typeof import('./scheduled');
  const { profile } = readProfileInput(
    'iam-disable-user',
    invocation.profileText,
    undefined,
    context.outgoing,
  );
  const now = new Date();
  const schedule = scheduling.parseAtOption(invocation.at ?? '', now);
  const policy = scheduling.policyOf(config);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { openStore } = require('../store') as typeof import('../store');
  let store: Store | undefined;
  const open = async () => (store = await openStore(config.database));
  try {
    const reason = invocation.reason?.trim() || null;
    const input = { profile, schedule, reason, now, policy };
    const outcome = await scheduling.scheduleDisable(context, open, input);
    if ('final' in outcome) {
      const result = outcome.final;
      const maxWidth = terminalWidth(io.outColumns?.());
      io.out(resultText(result, invocation.json, maxWidth) + '\nNothing was scheduled.\n');
      return result.IAM.Vendor.success ? EXIT.success : EXIT.failure;
    }
    const done = outcome.scheduled;
    io.out(
      invocation.json
        ? JSON.stringify({ ...done, at: done.at.toISOString() }, null, 2) + '\n'
        : scheduling.scheduledText(done) + '\n',
    );
    return EXIT.success;
  } finally {
    await store?.close();
  }
}

/** What a run has at hand once the configuration is read and the directory is open. */
interface Session {
  config: Config;
  logger: Logger;
  runtime: Runtime;
  invocation: Invocation;
  io: CliIo;
  /** The output with every configured secret masked. */
  out: (text: string) => void;
  sandboxTag: string;
  maxWidth: number;
}

async function runTestModule({ runtime, invocation, out, sandboxTag }: Session): Promise<number> {
  checkNoProfileArguments(invocation);
  const status = await testModule(runtime.context.directory);
  if (invocation.json) out(JSON.stringify(status) + '\n');
  else out(status.ok ? `ok${sandboxTag}\n` : `${status.message}\n`);
  return status.ok ? EXIT.success : EXIT.failure;
}

async function runGetMappingFields({
  runtime,
  invocation,
  io,
  sandboxTag,
  maxWidth,
}: Session): Promise<number> {
  checkNoProfileArguments(invocation);
  const fields = await getMappingFields(runtime.context.directory);
  if (invocation.json) {
    io.out(JSON.stringify(fields, null, 2) + '\n');
    return EXIT.success;
  }
  const rows = fields.map((f) => [f.name, f.type, f.description.replace(/\s+/g, ' ')]);
  const table = {
    title: `Mapping Fields (Atlassian IAM)${sandboxTag}`,
    columns: ['name', 'type', 'description'],
    rows,
  };
  io.out(renderTextTable(table, { maxWidth }) + '\n');
  return EXIT.success;
}

async function runScheduledNow({ config, runtime, logger, invocation, io }: Session): Promise<number> {
  checkNoProfileArguments(invocation);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runScheduledOnce } = require('../scheduled-run') as typeof import('../scheduled-run');
  const done = await runScheduledOnce(config, runtime.context, runtime.sandbox, logger);
  if (invocation.json) io.out(JSON.stringify(done) + '\n');
  else io.out(runScheduledText(done));
  return EXIT.success;
}

/** The commands that read the directory's shape or run due work rather than act on one user. */
const DIRECTORY_COMMANDS: Partial<Record<CommandName, (session: Session) => Promise<number>>> = {
  'test-module': runTestModule,
  'get-mapping-fields': runGetMappingFields,
  'run-scheduled': runScheduledNow,
};

/** A command on one user (or the group list): checks its options, runs it, prints the result. */
async function runUserCommand(session: Session, profileRun: ProfileRun | null): Promise<number> {
  const { config, logger, runtime, invocation, out, sandboxTag, maxWidth } = session;
  const { command } = invocation;
  if (invocation.at !== undefined) {
    if (command !== 'iam-disable-user') throw new ProfileError('--at applies to iam-disable-user only');
    return runScheduleCommand(config, runtime.context, invocation, session.io);
  }
  if (invocation.reason !== undefined) throw new ProfileError('--reason applies with --at only');
  const openAudit = () => openCliAudit(config, logger);
  const result = isGroupCommand(command)
    ? await runGroupCommand(runtime.context, { ...invocation, command }, openAudit)
    : await runProfileCommand(runtime.context, profileRunOf(profileRun, command), openAudit);
  out(resultText(result, invocation.json, maxWidth, sandboxTag) + '\n');
  return result.IAM.Vendor.success ? EXIT.success : EXIT.failure;
}

function dispatch(session: Session, profileRun: ProfileRun | null): Promise<number> {
  const { config, logger, runtime, invocation, out } = session;
  if (!isGroupCommand(invocation.command) && invocation.group !== undefined) {
    throw new UsageError('--group applies to iam-add-to-group and iam-remove-from-group only');
  }
  if (invocation.dryRun) {
    if (invocation.at !== undefined) {
      throw new UsageError('--dry-run shows what a disable would change now; leave out --at to see it');
    }
    const openAudit = () => openCliAudit(config, logger);
    return runDryRun(runtime.context, invocation, openAudit, out, runtime.sandbox);
  }
  const directoryCommand = DIRECTORY_COMMANDS[invocation.command];
  return directoryCommand ? directoryCommand(session) : runUserCommand(session, profileRun);
}

/**
 * A profile command's input is checked before the directory opens: bad input touches nothing, not
 * even the sandbox file. Keys the outgoing mapper file reads are profile keys too.
 */
function readProfileRun(config: Config, invocation: Invocation): ProfileRun | null {
  const { command } = invocation;
  if (!isProfileCommand(command) || invocation.at !== undefined || invocation.dryRun) return null;
  const outgoing = loadMapper(config.outgoingMapperPath, BUILT_IN_OUTGOING);
  return {
    command,
    input: readProfileInput(command, invocation.profileText, invocation.allowEnable, outgoing),
  };
}

async function run(invocation: Invocation, io: CliIo): Promise<number> {
  loadDotenv();
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, write: io.err, secrets: config.secrets });
  const scrub = (text: string): string => redact(text, config.secrets);
  const profileRun = readProfileRun(config, invocation);
  const notice = newDatabaseNotice(config.database);
  const runtime = createRuntime(config, logger);
  try {
    if (runtime.sandbox) io.err(sandboxNotice(runtime.sandboxLocation));
    const session: Session = {
      config,
      logger,
      runtime,
      invocation,
      io,
      out: (text) => io.out(scrub(text)),
      sandboxTag: runtime.sandbox ? ' (SANDBOX)' : '',
      maxWidth: terminalWidth(io.outColumns?.()),
    };
    return await dispatch(session, profileRun);
  } catch (error) {
    if (error instanceof Error) error.message = scrub(error.message);
    throw error;
  } finally {
    runtime.close();
    const created = notice();
    if (created) io.err(created);
  }
}

/** Runs the CLI; returns the exit status. Never throws. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  // `audit` has options of its own (--since, --user, --limit, --csv): see src/cli/audit-options.ts.
  if (argv[0] === 'audit') return runAuditCommand(argv.slice(1), io);
  // `bulk` reads a CSV file and has options of its own: see src/cli/bulk.ts.
  if (argv[0] === 'bulk') return runBulkCommand(argv.slice(1), io);
  if (argv[0] === 'policy') {
    // src/cli/policy.ts, loaded on demand so that other commands never load the YAML parser (~80 ms).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runPolicyCommand } = require('./policy') as typeof import('./policy');
    return runPolicyCommand(argv.slice(1), io);
  }
  // Known before the flags are read, so that even a usage error is JSON when --json was asked for.
  const jsonOut = argv.includes('--json') ? io.out : undefined;
  let invocation: Invocation | Help;
  try {
    invocation = parseInvocation(argv);
  } catch (error) {
    return reportCliError(error, io.err, 'atlassian-iam', [UsageError], jsonOut);
  }
  if ('help' in invocation) {
    io.out((invocation.help === 'global' ? globalHelp(databaseLine()) : commandHelp(invocation.help)) + '\n');
    return EXIT.success;
  }
  try {
    return await run(invocation, io);
  } catch (error) {
    return reportCliError(error, io.err, 'atlassian-iam', [UsageError], jsonOut);
  }
}

/** Which database this installation uses, for the help; printed even when the configuration is invalid. */
function databaseLine(): string {
  try {
    loadDotenv();
    return `Database (DATABASE_URL): ${describeDatabase(loadConfig().database)}`;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return 'Database (DATABASE_URL): unknown, the configuration is invalid (run a command to see why)';
  }
}

if (require.main === module) {
  main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    errIsTty: process.stderr.isTTY === true,
    errColumns: () => process.stderr.columns,
    outColumns: () => (process.stdout.isTTY ? process.stdout.columns : undefined),
  }).then(exitWhenWritten);
}

/** What run-scheduled did, for people; a line about grants only when one ended. */
function runScheduledText({ carriedOut, grantsEnded }: { carriedOut: number; grantsEnded: number }): string {
  const requests =
    carriedOut === 0
      ? 'No scheduled request is due.\n'
      : `${carriedOut} scheduled request(s) carried out; \`atlassian-iam audit\` shows each result.\n`;
  const grants =
    grantsEnded === 0 ? '' : `${grantsEnded} expired grant(s) ended; \`atlassian-iam audit\` shows each.\n`;
  return requests + grants;
}
