/**
 * `atlassian-iam audit`: reads the audit log where DATABASE_URL points and prints it as a text table,
 * JSON or CSV. It only reads: it never creates a database that is not there, and it writes nothing to
 * the log. The log holds no secrets; the output is still passed through the secret filter.
 */
import fs from 'node:fs';
import {
  AUDIT_HELP,
  type AuditFormat,
  type AuditInvocation,
  AuditUsageError,
  describeQuery,
  parseAuditArgs,
  parsePruneArgs,
} from './audit-options';
import { cliActor } from './audit-trail';
import { EXIT, printCliFailure, reportCliError } from './errors';
import type { CliIo } from './io';
import { type Config, ConfigError, loadConfig, loadDotenv } from '../config';
import { redact } from '../log';
import type { AuditEntry, Store } from '../store/types';
import {
  renderAuditCsv,
  renderAuditJson,
  renderAuditJsonItems,
  renderAuditText,
  terminalSafe,
} from '../views/audit-table';

/** Runs `atlassian-iam audit <argv>`; returns the exit status. Never throws. */
export async function runAuditCommand(
  argv: string[],
  io: CliIo,
  now: () => Date = () => new Date(),
): Promise<number> {
  try {
    return argv[0] === 'prune' ? await prune(argv.slice(1), io, now) : await run(argv, io, now);
  } catch (error) {
    io.err(`atlassian-iam audit: unexpected error: ${(error as Error).message ?? String(error)}\n`);
    return EXIT.failure;
  }
}

/** Nothing matched: a clear line, and on stdout what the format is when empty (`[]`, the CSV header). */
function reportNone(io: CliIo, format: AuditFormat, line: string): number {
  if (format === 'text') {
    io.out(`${line}\n`);
  } else {
    // stdout stays machine-readable.
    io.err(`${line}\n`);
    io.out(format === 'json' ? '[]\n' : renderAuditCsv([]));
  }
  return EXIT.success;
}

/** Where --json sends an error object (`audit --json`); undefined: errors are sentences on stderr. */
type JsonOut = ((text: string) => void) | undefined;

/** Parses with `parse`; bad input is reported and answered with its exit status, help is printed. */
function parseOrExit<T>(parse: () => T | 'help', io: CliIo, jsonOut?: JsonOut): T | number {
  let invocation;
  try {
    invocation = parse();
  } catch (error) {
    if (!(error instanceof AuditUsageError)) throw error;
    return reportCliError(error, io.err, 'atlassian-iam audit', [AuditUsageError], jsonOut);
  }
  if (invocation !== 'help') return invocation;
  io.out(AUDIT_HELP + '\n');
  return EXIT.success;
}

function configOrExit(io: CliIo, jsonOut?: JsonOut): Config | number {
  try {
    loadDotenv();
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return reportCliError(error, io.err, 'atlassian-iam', [], jsonOut);
  }
}

/** Opens the store (loaded on demand, so --help and bad input never load the native SQLite module). */
async function withStore<T>(config: Config, work: (store: Store) => Promise<T>): Promise<T> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { openStore } = require('../store') as typeof import('../store');
  const store = await openStore(config.database);
  try {
    return await work(store);
  } finally {
    await store.close().catch(() => undefined);
  }
}

async function run(argv: string[], io: CliIo, now: () => Date): Promise<number> {
  // Known before the flags are read, so that even a usage error is JSON when --json was asked for.
  const jsonOut = argv.includes('--json') ? io.out : undefined;
  const invocation = parseOrExit(() => parseAuditArgs(argv, now()), io, jsonOut);
  if (typeof invocation === 'number') return invocation;
  const config = configOrExit(io, jsonOut);
  if (typeof config === 'number') return config;
  const scrub = (text: string): string => redact(text, config.secrets);
  const { query, format } = invocation;
  const none = `no audit entries${terminalSafe(describeQuery(query))}`;

  const location = config.database;
  if (location.kind === 'sqlite' && !fs.existsSync(location.path)) {
    // Reading must not create an empty database (and its directory) where none was.
    return reportNone(io, format, `${none} (there is no database at ${terminalSafe(location.path)} yet)`);
  }

  if (invocation.all) return exportAll(config, invocation, io, none, jsonOut);
  let entries: AuditEntry[];
  try {
    entries = await withStore(config, (store) => store.listAudit(query));
  } catch (error) {
    const message = `cannot read the audit log: ${scrub((error as Error).message)}`;
    printCliFailure({ kind: 'audit', message }, io.err, 'atlassian-iam audit', jsonOut);
    return EXIT.failure;
  }

  if (entries.length === 0) return reportNone(io, format, none);
  const entriesOut = entryScrubber(config, io);
  switch (format) {
    case 'json':
      io.out(entriesOut.scrub(renderAuditJson(entries)) + '\n');
      break;
    case 'csv':
      io.out(entriesOut.scrub(renderAuditCsv(entries)));
      break;
    case 'text':
      io.out(entriesOut.scrub(renderAuditText(entries)) + '\n');
      break;
  }
  entriesOut.warnIfMasked();
  return EXIT.success;
}

/**
 * `audit --all --csv|--json`: every matching entry, read and written a page at a time in the order
 * written (by id), so an export of any size is complete and memory stays flat. A read that fails midway
 * is reported and exits 1: what was written is a part only.
 */
async function exportAll(
  config: Config,
  { query, format }: AuditInvocation,
  io: CliIo,
  none: string,
  jsonOut: JsonOut,
): Promise<number> {
  const scrub = (text: string): string => redact(text, config.secrets);
  const entriesOut = entryScrubber(config, io);
  let count = 0;
  try {
    await withStore(config, async (store) => {
      let writtenBefore: number | null = null;
      for (;;) {
        const page = await store.listAudit({ ...query, writtenBefore });
        if (page.length === 0) break;
        if (format === 'csv') io.out(entriesOut.scrub(renderAuditCsv(page, count === 0)));
        else io.out((count === 0 ? '[\n' : ',\n') + entriesOut.scrub(renderAuditJsonItems(page)));
        count += page.length;
        if (page.length < query.limit) break;
        writtenBefore = page[page.length - 1].id;
      }
    });
  } catch (error) {
    const message = `cannot read the audit log: ${scrub((error as Error).message)}${count > 0 ? ` (after ${count} entries: the output is incomplete)` : ''}`;
    printCliFailure({ kind: 'audit', message }, io.err, 'atlassian-iam audit', jsonOut);
    return EXIT.failure;
  }
  if (count === 0) return reportNone(io, format, none);
  if (format === 'json') io.out('\n]\n');
  io.err(`${count} audit entries written\n`);
  entriesOut.warnIfMasked();
  return EXIT.success;
}

/**
 * Masks the configured secrets in printed entries (a secret must never reach a terminal or a file), and
 * says so on stderr when it changed anything: a short or common secret (a password `iam`) also masks
 * ordinary text, and an export that differs from the log without a word would be kept as the record.
 */
function entryScrubber(config: Config, io: CliIo) {
  let masked = false;
  return {
    scrub(text: string): string {
      const out = redact(text, config.secrets);
      masked ||= out !== text;
      return out;
    },
    warnIfMasked(): void {
      if (!masked) return;
      io.err(
        'warning: some entries contain the value of a configured secret (an access token, a password, a proxy ' +
          'password) and it is printed as [REDACTED], so this output differs from the audit log there; a short ' +
          'or common secret also masks ordinary words: use a longer one\n',
      );
    },
  };
}

type PruneRow = 'command' | 'result';

/** One audit row of a prune (command `audit-prune`, the command line as actor). */
function recordPrune(
  store: Store,
  at: Date,
  kind: PruneRow,
  outcome: string,
  detail: Record<string, unknown>,
) {
  const entry = { at, actor: cliActor(), source: 'cli' as const, target: null, requestId: null };
  return store.appendAudit({ ...entry, kind, command: 'audit-prune', outcome, detail });
}

/**
 * `atlassian-iam audit prune --before WHEN [--dry-run]`. The prune is itself recorded: its row is
 * written before anything is removed (no row, nothing removed), and the count after.
 */
async function prune(argv: string[], io: CliIo, now: () => Date): Promise<number> {
  const invocation = parseOrExit(() => parsePruneArgs(argv, now()), io);
  if (typeof invocation === 'number') return invocation;
  const { before, dryRun } = invocation;
  if (before.getTime() > now().getTime()) {
    io.err(`atlassian-iam audit: --before ${before.toISOString()} is in the future; name a past time\n`);
    return EXIT.badInput;
  }
  const config = configOrExit(io);
  if (typeof config === 'number') return config;
  const cutoff = before.toISOString();
  const location = config.database;
  if (location.kind === 'sqlite' && !fs.existsSync(location.path)) {
    io.out(
      `no audit entries before ${cutoff} (there is no database at ${terminalSafe(location.path)} yet)\n`,
    );
    return EXIT.success;
  }
  const record = (store: Store, kind: PruneRow, outcome: string, detail: Record<string, unknown>) =>
    recordPrune(store, now(), kind, outcome, detail);
  try {
    const count = await withStore(config, async (store) => {
      if (dryRun) return store.pruneAudit(before, true);
      await record(store, 'command', 'received', { before: cutoff });
      const removed = await store.pruneAudit(before);
      await record(store, 'result', 'success', { before: cutoff, removed }).catch((error: Error) =>
        io.err(`atlassian-iam audit: the count of removed entries was not recorded: ${error.message}\n`),
      );
      return removed;
    });
    if (dryRun) {
      io.out(`${count} audit entries are older than ${cutoff}; nothing was removed (dry run).\n`);
      io.err(
        `Pruned entries are gone for good; export them first: atlassian-iam audit --before ${cutoff} --all --csv > audit-before.csv\n` +
          `then prune with the same cut-off, so nothing newer than the export goes: atlassian-iam audit prune --before ${cutoff}\n`,
      );
    } else {
      io.out(`Removed ${count} audit entries older than ${cutoff}.\n`);
    }
    return EXIT.success;
  } catch (error) {
    io.err(`atlassian-iam audit: nothing was pruned: ${redact((error as Error).message, config.secrets)}\n`);
    return EXIT.failure;
  }
}
