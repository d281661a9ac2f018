#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { EXIT, reportCliError } from './cli-errors';
import { exitWhenWritten } from './cli-exit';
import { loadConfig, loadDotenv } from './config';
import {
  createUser,
  disableUser,
  ProfileError,
  enableUser,
  getMappingFields,
  getUser,
  type IamContext,
  type IamResult,
  testModule,
  updateUser,
} from './iam';
import { runAuditCommand } from './audit-command';
import { runBulkCommand } from './bulk/command';
import { type CliAudit, openCliAudit } from './cli-audit';
import { runDryRun } from './cli-dry-run';
import { type GroupCommand, isGroupCommand, runGroupCommand } from './cli-groups';
import { readProfileInput } from './cli-profile-input';
import { createLogger, redact } from './log';
import { renderTextTable, resultTable } from './views/table';
import { createRuntime } from './wiring';

type ProfileCommand =
  'iam-create-user' | 'iam-update-user' | 'iam-get-user' | 'iam-disable-user' | 'iam-enable-user';
type CommandName = ProfileCommand | GroupCommand | 'test-module' | 'get-mapping-fields' | 'run-scheduled';

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

export const HELP = `Usage: atlassian-iam <command> [--user-profile JSON] [--allow-enable true|false] [--group NAME] [--json]

Commands (XSOAR names; the short names work too):
  iam-create-user     (create-user)   create a user, or update it if it exists
  iam-update-user     (update-user)   update a user; creates it if not found (IAM_CREATE_IF_NOT_FOUND)
  iam-get-user        (get-user)      look a user up by id, username/email or employeeid
  iam-disable-user    (disable-user)  deactivate a user (reversible); with --at, at that time
  iam-enable-user     (enable-user)   re-activate a user
  iam-get-groups      (get-groups)    list the directory's groups, or one user's (--user-profile)
  iam-add-to-group    (add-to-group)  add a user to a group (--user-profile, --group NAME)
  iam-remove-from-group (remove-from-group)
                                      remove a user from a group (--user-profile, --group NAME)
  test-module         (test)          check the connection to the directory
  get-mapping-fields                  list the directory's user schema attributes
  run-scheduled                       carry out the scheduled disables that are due (for installations
                                      without a bot; a bot does it on its own)
  audit                               read the audit log (atlassian-iam audit --help)
  bulk <operation> FILE.csv           create, update, disable or enable every user of a CSV file
                                      (atlassian-iam bulk --help)
  policy check FILE                   check an approval policy file (atlassian-iam policy --help)

Options:
  --user-profile JSON    the user profile, e.g. '{"email":"jane@example.com","title":"Engineer"}'
  --allow-enable BOOL    create/update may re-activate an inactive user (default true)
  --at TIME              iam-disable-user: store the disable for TIME instead of now, e.g.
                         "2026-12-31 17:00" (this machine's time zone), "2026-12-31 17:00 Europe/Berlin",
                         "2026-12-31 17:00 +01:00" or "in 2h" (m, h, d); at most 90 days ahead
  --reason TEXT          why (kept with a scheduled disable)
  --group NAME           the group of iam-add-to-group and iam-remove-from-group
  --json                 print the result object as JSON
  --dry-run              write commands: print what would change (before → after), send no write
  -h, --help             show this help

Exit status: 0 success (skips included), 1 the operation failed, 2 bad input or configuration.
Configuration comes from the environment and .env; see README.md. With no Atlassian credentials
the commands run against a local SANDBOX directory.`;

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stderr is a terminal (bulk draws its progress bar there). */
  errIsTty?: boolean;
  errColumns?: () => number | undefined;
}

class UsageError extends Error {}

interface Invocation {
  command: CommandName;
  profileText?: string;
  allowEnable?: string;
  at?: string;
  reason?: string;
  group?: string;
  json: boolean;
  /** Print what the write would change; send no write (src/cli-dry-run.ts). */
  dryRun: boolean;
}

function parseInvocation(argv: string[]): Invocation | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'user-profile': { type: 'string' },
        'allow-enable': { type: 'string' },
        at: { type: 'string' },
        reason: { type: 'string' },
        group: { type: 'string' },
        json: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; run atlassian-iam --help`);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return 'help';
  if (positionals.length > 1)
    throw new UsageError(`unexpected argument "${positionals[1]}"; run atlassian-iam --help`);
  const command = ALIASES[positionals[0]];
  if (!command) throw new UsageError(`unknown command "${positionals[0]}"; run atlassian-iam --help`);
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

async function runProfileCommand(
  context: IamContext,
  invocation: Invocation,
  openAudit: () => Promise<CliAudit>,
): Promise<IamResult> {
  const command = invocation.command as ProfileCommand;
  const { profile, allowEnable } = readProfileInput(command, invocation.profileText, invocation.allowEnable);
  const execute = (): Promise<IamResult> => {
    switch (command) {
      case 'iam-create-user':
        return createUser(context, profile, { allowEnable });
      case 'iam-update-user':
        return updateUser(context, profile, { allowEnable });
      case 'iam-get-user':
        return getUser(context, profile);
      case 'iam-disable-user':
        return disableUser(context, profile);
      case 'iam-enable-user':
        return enableUser(context, profile);
    }
  };
  // Opened only once the input is known to be good: bad input touches nothing, not even the audit file.
  const audit = await openAudit();
  try {
    await audit.command(command, profile);
    const result = await execute();
    await audit.result(command, profile, result);
    return result;
  } finally {
    await audit.close();
  }
}

function checkNoProfileArguments(invocation: Invocation): void {
  const { profileText, allowEnable, group, at, reason } = invocation;
  if ([profileText, allowEnable, group, at, reason].some((value) => value !== undefined)) {
    throw new UsageError(
      `${invocation.command} takes no --user-profile, --allow-enable, --group, --at or --reason`,
    );
  }
}

/** `iam-disable-user --at`: reads the time and the profile first (bad input stores nothing), then schedules. */
async function runScheduleCommand(
  config: ReturnType<typeof loadConfig>,
  context: IamContext,
  invocation: Invocation,
  io: Io,
): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const scheduling = require('./cli-scheduled') as typeof import('./cli-scheduled');
  const { profile } = readProfileInput('iam-disable-user', invocation.profileText, undefined);
  const now = new Date();
  const schedule = scheduling.parseAtOption(invocation.at ?? '', now);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { openStore } = require('./store') as typeof import('./store');
  const store = await openStore(config.database);
  try {
    const reason = invocation.reason?.trim() || null;
    const outcome = await scheduling.scheduleDisable(context, store, { profile, schedule, reason, now });
    if ('final' in outcome) {
      const result = outcome.final;
      io.out(
        (invocation.json
          ? JSON.stringify(result, null, 2)
          : renderTextTable(resultTable(result, { detailsMax: 120 }))) + '\nNothing was scheduled.\n',
      );
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
    await store.close();
  }
}

async function run(invocation: Invocation, io: Io): Promise<number> {
  loadDotenv();
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, write: io.err, secrets: config.secrets });
  const scrub = (text: string): string => redact(text, config.secrets);
  const runtime = createRuntime(config, logger);
  try {
    if (runtime.sandbox) {
      io.err(
        `SANDBOX: no Atlassian credentials are set, so this runs against the local sandbox directory in ${runtime.sandboxLocation}. ` +
          'Set ATLASSIAN_ACCESS_TOKEN and ATLASSIAN_DIRECTORY_ID to use Atlassian.\n',
      );
    }
    const sandboxTag = runtime.sandbox ? ' (SANDBOX)' : '';
    const openAudit = () => openCliAudit(config, logger);
    const { command } = invocation;
    if (!isGroupCommand(command) && invocation.group !== undefined) {
      throw new UsageError('--group applies to iam-add-to-group and iam-remove-from-group only');
    }
    if (invocation.dryRun) {
      if (invocation.at !== undefined) {
        throw new UsageError('--dry-run shows what a disable would change now; leave out --at to see it');
      }
      return await runDryRun(
        runtime.context,
        invocation,
        openAudit,
        (text) => io.out(scrub(text)),
        runtime.sandbox,
      );
    }
    if (invocation.command === 'test-module') {
      checkNoProfileArguments(invocation);
      const status = await testModule(runtime.context.directory);
      if (invocation.json) io.out(JSON.stringify(status) + '\n');
      else io.out(status.ok ? `ok${sandboxTag}\n` : `${scrub(status.message)}\n`);
      return status.ok ? EXIT.success : EXIT.failure;
    }
    if (invocation.command === 'get-mapping-fields') {
      checkNoProfileArguments(invocation);
      const fields = await getMappingFields(runtime.context.directory);
      if (invocation.json) io.out(JSON.stringify(fields, null, 2) + '\n');
      else {
        const rows = fields.map((f) => [f.name, f.type, f.description.replace(/\s+/g, ' ')]);
        io.out(
          renderTextTable({
            title: `Mapping Fields (Atlassian IAM)${sandboxTag}`,
            columns: ['name', 'type', 'description'],
            rows,
          }) + '\n',
        );
      }
      return EXIT.success;
    }
    if (invocation.command === 'run-scheduled') {
      checkNoProfileArguments(invocation);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runScheduledFromCli } = require('./cli-scheduled') as typeof import('./cli-scheduled');
      const count = await runScheduledFromCli(config, runtime.context, runtime.sandbox, logger);
      if (invocation.json) io.out(JSON.stringify({ carriedOut: count }) + '\n');
      else
        io.out(
          count === 0
            ? 'No scheduled request is due.\n'
            : `${count} scheduled request(s) carried out; \`atlassian-iam audit\` shows each result.\n`,
        );
      return EXIT.success;
    }
    if (invocation.at !== undefined) {
      if (invocation.command !== 'iam-disable-user') {
        throw new ProfileError('--at applies to iam-disable-user only');
      }
      return await runScheduleCommand(config, runtime.context, invocation, io);
    }
    if (invocation.reason !== undefined) throw new ProfileError('--reason applies with --at only');
    const result = isGroupCommand(command)
      ? await runGroupCommand(runtime.context, { ...invocation, command }, openAudit)
      : await runProfileCommand(runtime.context, invocation, openAudit);
    io.out(
      scrub(
        invocation.json
          ? JSON.stringify(result, null, 2)
          : renderTextTable(resultTable(result, { detailsMax: 120 })),
      ) + '\n',
    );
    return result.IAM.Vendor.success ? EXIT.success : EXIT.failure;
  } catch (error) {
    if (error instanceof Error) error.message = scrub(error.message);
    throw error;
  } finally {
    runtime.close();
  }
}

/** Runs the CLI; returns the exit status. Never throws. */
export async function main(argv: string[], io: Io): Promise<number> {
  // `audit` has options of its own (--since, --user, --limit, --csv): see src/audit-options.ts.
  if (argv[0] === 'audit') return runAuditCommand(argv.slice(1), io);
  // `bulk` reads a CSV file and has options of its own: see src/bulk/command.ts.
  if (argv[0] === 'bulk') return runBulkCommand(argv.slice(1), io);
  if (argv[0] === 'policy') {
    // src/cli-policy.ts, loaded on demand so that other commands never load the YAML parser (~80 ms).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { runPolicyCommand } = require('./cli-policy') as typeof import('./cli-policy');
    return runPolicyCommand(argv.slice(1), io);
  }
  let invocation: Invocation | 'help';
  try {
    invocation = parseInvocation(argv);
  } catch (error) {
    io.err(`atlassian-iam: ${(error as Error).message}\n`);
    return EXIT.badInput;
  }
  if (invocation === 'help') {
    io.out(HELP + '\n');
    return EXIT.success;
  }
  try {
    return await run(invocation, io);
  } catch (error) {
    return reportCliError(error, io.err, 'atlassian-iam', [UsageError]);
  }
}

if (require.main === module) {
  main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    errIsTty: process.stderr.isTTY === true,
    errColumns: () => process.stderr.columns,
  }).then(exitWhenWritten);
}
