/**
 * `atlassian-iam audit`: reads the audit log where DATABASE_URL points and prints it as a text table,
 * JSON or CSV. It only reads: it never creates a database that is not there, and it writes nothing to
 * the log. The log holds no secrets; the output is still passed through the secret filter.
 */
import fs from 'node:fs';
import {
  AUDIT_HELP,
  type AuditFormat,
  AuditUsageError,
  describeQuery,
  parseAuditArgs,
} from './audit-options';
import { EXIT } from './cli-errors';
import { ConfigError, loadConfig, loadDotenv } from './config';
import { redact } from './log';
import type { AuditEntry, Store } from './store/types';
import { renderAuditCsv, renderAuditJson, renderAuditText, terminalSafe } from './views/audit-table';

/** The CLI's exit statuses (as in cli.ts, which imports this module). */

export interface AuditIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Runs `atlassian-iam audit <argv>`; returns the exit status. Never throws. */
export async function runAuditCommand(
  argv: string[],
  io: AuditIo,
  now: () => Date = () => new Date(),
): Promise<number> {
  try {
    return await run(argv, io, now);
  } catch (error) {
    io.err(`atlassian-iam audit: unexpected error: ${(error as Error).message ?? String(error)}\n`);
    return EXIT.failure;
  }
}

/** Nothing matched: a clear line, and on stdout what the format is when empty (`[]`, the CSV header). */
function reportNone(io: AuditIo, format: AuditFormat, line: string): number {
  if (format === 'text') {
    io.out(`${line}\n`);
  } else {
    // stdout stays machine-readable.
    io.err(`${line}\n`);
    io.out(format === 'json' ? '[]\n' : renderAuditCsv([]));
  }
  return EXIT.success;
}

async function run(argv: string[], io: AuditIo, now: () => Date): Promise<number> {
  let invocation;
  try {
    invocation = parseAuditArgs(argv, now());
  } catch (error) {
    if (!(error instanceof AuditUsageError)) throw error;
    io.err(`atlassian-iam audit: ${error.message}\n`);
    return EXIT.badInput;
  }
  if (invocation === 'help') {
    io.out(AUDIT_HELP + '\n');
    return EXIT.success;
  }
  let config;
  try {
    loadDotenv();
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(
      `atlassian-iam: the configuration is invalid:\n${error.problems.map((p) => `  ${p}`).join('\n')}\n`,
    );
    return EXIT.badInput;
  }
  const scrub = (text: string): string => redact(text, config.secrets);
  const { query, format } = invocation;
  const none = `no audit entries${terminalSafe(describeQuery(query))}`;

  const location = config.database;
  if (location.kind === 'sqlite' && !fs.existsSync(location.path)) {
    // Reading must not create an empty database (and its directory) where none was.
    return reportNone(io, format, `${none} (there is no database at ${terminalSafe(location.path)} yet)`);
  }

  let entries: AuditEntry[];
  let store: Store | null = null;
  try {
    // Loaded on demand so that --help and bad input never load the native SQLite module.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { openStore } = require('./store') as typeof import('./store');
    // `await` whether openStore answers a store or a promise of one.
    store = await openStore(location);
    entries = await store.listAudit(query);
  } catch (error) {
    io.err(`atlassian-iam audit: cannot read the audit log: ${scrub((error as Error).message)}\n`);
    return EXIT.failure;
  } finally {
    await store?.close().catch(() => undefined);
  }

  if (entries.length === 0) return reportNone(io, format, none);
  switch (format) {
    case 'json':
      io.out(scrub(renderAuditJson(entries)) + '\n');
      break;
    case 'csv':
      io.out(scrub(renderAuditCsv(entries)));
      break;
    case 'text':
      io.out(scrub(renderAuditText(entries)) + '\n');
      break;
  }
  return EXIT.success;
}
