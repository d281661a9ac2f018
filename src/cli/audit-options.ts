/**
 * `atlassian-iam audit` options: pure parsing from argv to an audit query and an output format, so the
 * command itself only opens the store and prints. Bad input throws AuditUsageError (exit status 2).
 */
import { type FlagSpec, parseFlags } from './args';
import type { AuditQuery } from '../store/types';

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 10_000;

export const AUDIT_HELP = `Usage: atlassian-iam audit [--since WHEN] [--before WHEN] [--user EMAIL] [--group NAME] [--limit N]
                          [--json|--csv]
       atlassian-iam audit prune --before WHEN [--dry-run]

Reads the audit log (DATABASE_URL): the commands, refusals, approval decisions and results of the
Slack bot and of this command line. Newest first; the latest 100 entries unless --limit says otherwise.

Options:
  --since WHEN     only entries at or after WHEN: a duration back from now (30m, 24h, 7d, 2w)
                   or an ISO date or date-time (2025-01-15, 2025-01-15T09:30Z; no zone means UTC)
  --before WHEN    only entries before WHEN (same forms)
  --user EMAIL     only entries about this user (email, username or id; case-insensitive)
  --group NAME     only entries about this group (its name; case-insensitive): group commands,
                   grants, their decisions, notices and revocations
  --limit N        at most N entries (1 to ${MAX_AUDIT_LIMIT}; default ${DEFAULT_AUDIT_LIMIT})
  --all            every matching entry, in the order written (newest first), read a page at a
                   time: for exports; needs --json or --csv, instead of --limit
  --json           print a JSON array of the entries, with their details
  --csv            print CSV (RFC 4180) with a header row
  -h, --help       show this help

Pruning: \`audit prune --before WHEN\` removes the entries older than WHEN for good (it is recorded in
the log itself); --dry-run only counts them. Nothing is pruned unless you ask, and never the last day
(WHEN is at least 1d ago: \`m\` is minutes, not months). Export first, e.g.
  atlassian-iam audit --before 2025-01-01 --all --csv > audit-before-2025.csv

Exit status: 0 (also when no entry matches), 1 the log cannot be read, 2 bad input or configuration.`;

export interface PruneInvocation {
  before: Date;
  dryRun: boolean;
}

export type AuditFormat = 'text' | 'json' | 'csv';

export interface AuditInvocation {
  query: Required<Pick<AuditQuery, 'limit'>> & Omit<AuditQuery, 'limit'>;
  format: AuditFormat;
  /** --all: every matching entry, a page (`query.limit`) at a time. */
  all: boolean;
}

export class AuditUsageError extends Error {}

const HINT = 'run atlassian-iam audit --help';

const UNIT_MS = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
} as const;

/** `30m`, `24h`, `7d`, `2w`, `90s` → milliseconds; null when `text` is not such a duration. */
export function parseAgo(text: string): number | null {
  const match = /^(\d{1,9})([smhdw])$/.exec(text);
  if (!match) return null;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

// YYYY-MM-DD, optionally followed by THH:MM[:SS[.fff]] and a zone (Z or ±HH:MM); a space may replace T.
const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO date (`2025-01-15`: midnight UTC) or date-time (`2025-01-15T09:30:00+01:00`; no zone means
 * UTC, never the machine's local time); null when `text` is neither or names a day that does not exist.
 */
export function parseIsoDate(text: string): Date | null {
  const match = ISO_DATE.exec(text);
  if (!match) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '0', zone = 'Z'] = match;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, Number(frac.padEnd(3, '0')));
  // Date.UTC rolls 2025-02-30 over to March: a day that does not exist is refused instead.
  if (new Date(utc).getUTCDate() !== day) return null;
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
    if (!z || Number(z[2]) > 23 || Number(z[3]) > 59) return null;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  }
  return new Date(utc - offsetMin * 60_000);
}

/**
 * `--since` / `--before`: a duration back from `now`, or an ISO date / date-time. Throws AuditUsageError
 * naming `flag` otherwise.
 */
export function parseSince(text: string, now: Date, flag = '--since'): Date {
  const value = text.trim();
  const ago = parseAgo(value);
  if (ago !== null) {
    if (ago === 0) throw new AuditUsageError(`${flag} ${value}: the duration must be more than 0`);
    return new Date(now.getTime() - ago);
  }
  const date = parseIsoDate(value);
  if (date !== null) return date;
  throw new AuditUsageError(
    `${flag} "${text}" is neither a duration (30m, 24h, 7d, 2w) nor an ISO date (2025-01-15, 2025-01-15T09:30Z)`,
  );
}

function parseLimit(text: string): number {
  const value = text.trim();
  const limit = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_LIMIT) {
    throw new AuditUsageError(`--limit "${text}" must be a whole number from 1 to ${MAX_AUDIT_LIMIT}`);
  }
  return limit;
}

/**
 * The flags of an audit subcommand (plus -h/--help): 'help' when asked for; a usage problem or a stray
 * argument is an AuditUsageError ending with the help hint.
 */
function auditFlags<O extends Record<string, FlagSpec>>(argv: string[], options: O) {
  let parsed;
  try {
    parsed = parseFlags(argv, { ...options, help: { type: 'boolean', short: 'h' } });
  } catch (error) {
    throw new AuditUsageError(`${(error as Error).message}; ${HINT}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length > 0) throw new AuditUsageError(`unexpected argument "${positionals[0]}"; ${HINT}`);
  return values;
}

/** The arguments after `audit`; 'help' for -h/--help. */
export function parseAuditArgs(argv: string[], now: Date): AuditInvocation | 'help' {
  const values = auditFlags(argv, {
    since: { type: 'string' },
    before: { type: 'string' },
    user: { type: 'string' },
    group: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
    all: { type: 'boolean' },
  });
  if (values === 'help') return 'help';
  if (values.json && values.csv) throw new AuditUsageError(`choose one of --json and --csv; ${HINT}`);
  if (values.all && values.limit !== undefined) {
    throw new AuditUsageError(`choose one of --all and --limit; ${HINT}`);
  }
  if (values.all && !values.json && !values.csv) {
    throw new AuditUsageError(`--all is for exports: add --csv or --json; ${HINT}`);
  }
  const query: AuditInvocation['query'] = {
    limit: values.all
      ? MAX_AUDIT_LIMIT
      : values.limit === undefined
        ? DEFAULT_AUDIT_LIMIT
        : parseLimit(values.limit),
  };
  if (values.since !== undefined) query.since = parseSince(values.since, now);
  if (values.before !== undefined) query.before = parseSince(values.before, now, '--before');
  if (values.user !== undefined) {
    const user = values.user.trim();
    if (user === '') throw new AuditUsageError(`--user needs an email, username or id; ${HINT}`);
    query.target = user;
  }
  if (values.group !== undefined) {
    const group = values.group.trim();
    if (group === '')
      throw new AuditUsageError(`--group needs a group name, e.g. --group jira-software-users; ${HINT}`);
    query.group = group;
  }
  return { query, format: values.json ? 'json' : values.csv ? 'csv' : 'text', all: values.all };
}

/** What audit prune always keeps: a cutoff of `6m` (minutes) or `2h` would remove nearly everything. */
const MIN_PRUNE_AGE_MS = UNIT_MS.d;

function describeAge(ms: number): string {
  const minutes = Math.floor(ms / UNIT_MS.m);
  return minutes < 120 ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${Math.floor(minutes / 60)} hours`;
}

/** The arguments after `audit prune`; 'help' for -h/--help. */
export function parsePruneArgs(argv: string[], now: Date): PruneInvocation | 'help' {
  const values = auditFlags(argv, { before: { type: 'string' }, 'dry-run': { type: 'boolean' } });
  if (values === 'help') return 'help';
  if (values.before === undefined) {
    throw new AuditUsageError(`audit prune needs --before WHEN (e.g. --before 365d); ${HINT}`);
  }
  const before = parseSince(values.before, now, '--before');
  if (now.getTime() - before.getTime() < MIN_PRUNE_AGE_MS && before.getTime() <= now.getTime()) {
    throw new AuditUsageError(
      `--before ${values.before} is ${describeAge(now.getTime() - before.getTime())} ago: audit prune never removes the last day ` +
        `(m is minutes; for months give days, e.g. --before 180d)`,
    );
  }
  return { before, dryRun: values['dry-run'] };
}

/** Says which filters applied, for the "no audit entries" line: ` about jane@example.com since …`. */
export function describeQuery(query: AuditQuery): string {
  const parts: string[] = [];
  if (query.target !== undefined) parts.push(`about ${query.target}`);
  if (query.group !== undefined) parts.push(`in group ${query.group}`);
  if (query.since !== undefined) parts.push(`since ${query.since.toISOString()}`);
  if (query.before !== undefined) parts.push(`before ${query.before.toISOString()}`);
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}
