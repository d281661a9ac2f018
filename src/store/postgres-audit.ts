/**
 * The one audit row insert of the PostgreSQL store, shared by its halves (postgres-store.ts and
 * postgres-grants.ts), so a change and its row can be one statement wherever the change is made.
 */
import type { NewAuditEntry } from './types';

/** The placeholders of an audit row's values (see auditParams), numbered from `first`. */
const auditValues = (first: number): string =>
  [
    `COALESCE($${first}::timestamptz, now())`,
    ...['', '', '', '', '', '', '', 'json'].map((cast, i) => `$${first + 1 + i}${cast ? `::${cast}` : ''}`),
  ].join(', ');

/**
 * Inserts one audit row whose values (auditParams) are the placeholders from `first`. With `from`, a
 * data-modifying CTE's name, it inserts the row once per row that CTE returns: none when it changed
 * nothing, so only the caller whose change took effect writes it, and a row that cannot be written
 * undoes the change (one statement).
 */
export const insertAudit = (first: number, from?: string): string =>
  `INSERT INTO audit_log (at, actor, source, kind, command, target, outcome, request_id, detail)
   SELECT ${auditValues(first)}${from === undefined ? '' : ` FROM ${from}`}`;

/**
 * An audit row's values in column order: at, actor, source, kind, command, target, outcome, request_id,
 * detail. `at` null: the database's now().
 */
export const auditParams = (entry: NewAuditEntry, at: string | null): unknown[] => [
  at,
  entry.actor,
  entry.source,
  entry.kind,
  entry.command,
  entry.target,
  entry.outcome,
  entry.requestId,
  entry.detail === null ? null : JSON.stringify(entry.detail),
];

/**
 * `change` (an UPDATE … RETURNING whose parameters come before `first`) with its audit row, in one
 * statement: the row is written only when `change` returned a row, and a row that cannot be written
 * undoes the change. Answers what `change` returns.
 */
export const withAuditRow = (change: string, first: number): string =>
  `WITH changed AS (${change}),
   logged AS (${insertAudit(first, 'changed')})
   SELECT * FROM changed`;
