/**
 * Runs the rows of a bulk file: each valid row through the same ILM core as the single commands,
 * with the adaptive concurrency of ./concurrency, a report line written as each row finishes, and an
 * audit entry for each (command `bulk-<operation>`): a row whose "received" entry cannot be written
 * is not run, and the run stops (see CliAudit). The gate of ./gate decides when rows may send: a rate
 * limit pauses the run and a 5xx storm opens its circuit breaker, and the rows they met are sent again
 * rather than failed. A row sent again runs its whole command again, lookup first, so a create that
 * reached Atlassian before a 5xx or timeout is found and not posted twice. Unreachable Atlassian (DNS,
 * TLS, certificates) stops the run like a bad token.
 */
import type { CliAudit } from '../cli/audit-trail';
import {
  type IamContext,
  type IamResult,
  outcomeOf,
  ProfileError,
  runCommand,
  type UserProfile,
  type MembershipCommand,
  type WriteCommand,
} from '../iam';
import type { ScimRequestError } from '../scim/errors';
import { type AimdController, runPool } from './concurrency';
import type { BulkRow } from './csv';
import { failureKind, RunGate } from './gate';
import type { ReportLine, ReportWriter, RowOutcome } from './report';
import { observeDirectory } from './throttle';

export const BULK_OPERATIONS = [
  'create',
  'update',
  'disable',
  'enable',
  'add-to-group',
  'remove-from-group',
] as const;
export type BulkOperation = (typeof BULK_OPERATIONS)[number];

/** Operations whose rows name a group (a `group` column) besides the user. */
export const isGroupOperation = (
  operation: BulkOperation,
): operation is 'add-to-group' | 'remove-from-group' =>
  operation === 'add-to-group' || operation === 'remove-from-group';

/** Statuses that concern the whole directory (token, permissions): no later row can do better. */
const FATAL_STATUSES = new Set([401, 403]);

export interface RunnerOptions {
  operation: BulkOperation;
  allowEnable: boolean;
  context: IamContext;
  audit: CliAudit;
  report: ReportWriter;
  controller: AimdController;
  /** Told about every finished row, malformed ones included, after its report line is written. */
  onRow?: (line: ReportLine) => void;
  /** True stops starting rows (Ctrl-C); those in flight finish and are reported. */
  shouldStop?: () => boolean;
  now?: () => Date;
  /** Rate-limit pauses and the circuit breaker (default: real time, default limits). */
  gate?: RunGate;
}

export interface RunOutcome {
  /** Rows that ran or were reported malformed. */
  finished: number;
  /** Set when a directory-wide error (bad token, no permission, unreachable, a storm) stopped the run early. */
  fatal: string | null;
}

/** The command a bulk operation runs on each row: `create` is iam-create-user, `add-to-group` is iam-add-to-group. */
export const commandOf = (operation: BulkOperation): WriteCommand | MembershipCommand =>
  isGroupOperation(operation) ? `iam-${operation}` : `iam-${operation}-user`;

/**
 * A row's outcome in the report: the command's outcome, except that the report file says `failed` for
 * a failure (its format, which an interrupted run reads back to resume, predates the shared word).
 */
export function rowOutcomeOf(result: IamResult): RowOutcome {
  const outcome = outcomeOf(result.IAM.Vendor);
  return outcome === 'failure' ? 'failed' : outcome;
}

export async function runRows(rows: BulkRow[], options: RunnerOptions): Promise<RunOutcome> {
  const now = options.now ?? (() => new Date());
  const command = `bulk-${options.operation}`;
  let finished = 0;
  let fatal: string | null = null;

  const finish = (row: BulkRow, fields: Pick<ReportLine, 'outcome' | 'result' | 'error'>): ReportLine => {
    const line: ReportLine = {
      row: row.row,
      outcome: fields.outcome,
      identifier: row.identifier,
      ...(fields.result ? { result: fields.result } : {}),
      ...(fields.error !== undefined ? { error: fields.error } : {}),
      operation: options.operation,
      key: row.key,
      at: now().toISOString(),
    };
    // Written before anything else happens: this line is what a rerun trusts.
    options.report.write(line);
    finished++;
    options.onRow?.(line);
    return line;
  };

  // Malformed rows are reported first and at once: nothing is sent for them.
  for (const row of rows) {
    if (row.problem !== undefined) finish(row, { outcome: 'malformed', error: row.problem });
  }

  const gate = options.gate ?? new RunGate({ concurrency: options.controller.max });
  const stopping = (): boolean => fatal !== null || gate.gaveUp !== null || (options.shouldStop?.() ?? false);

  /** One attempt at the row: its result, and the SCIM error behind a failed one. */
  const attempt = async (row: BulkRow & { profile: UserProfile }) => {
    const seen: { error: ScimRequestError | null } = { error: null };
    const directory = observeDirectory(options.context.directory, {
      onError: (error) => {
        seen.error = error;
      },
    });
    const result = await runCommand(
      commandOf(options.operation),
      { ...options.context, directory },
      row.profile,
      { allowEnable: options.allowEnable, group: row.group },
    );
    const vendor = result.IAM.Vendor;
    const { error } = seen;
    // Only the error the result reports (a lookup's "several users match" is not a SCIM answer).
    return { result, error: !vendor.success && error?.message === vendor.errorMessage ? error : null };
  };

  const runOne = async (row: BulkRow): Promise<boolean> => {
    // The sandbox directory answers without any I/O: without this turn of the event loop a whole file
    // would run as one task, with no progress drawn and Ctrl-C unheard until the end.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const profile = row.profile as UserProfile;
    const detail = row.group === undefined ? null : { group: row.group };
    let last: IamResult | null = null;
    for (;;) {
      const ticket = await gate.enter(stopping);
      if (ticket === null) break;
      if (last === null) {
        try {
          await options.audit.command(command, profile, detail);
        } catch (error) {
          // No row, no action: this row stays not run (a rerun takes it) and no further row starts.
          gate.release(ticket);
          fatal ??= (error as Error).message;
          return false;
        }
      }
      let tried;
      try {
        tried = await attempt({ ...row, profile });
      } catch (error) {
        gate.release(ticket);
        if (error instanceof ProfileError) {
          // e.g. no identifier: found before any request is sent.
          finish(row, { outcome: 'malformed', error: error.message });
          return false;
        }
        finish(row, { outcome: 'failed', error: (error as Error).message ?? String(error) });
        return false;
      }
      last = tried.result;
      const kind = tried.error === null ? null : failureKind(tried.error);
      if (kind === 'rate-limited') options.controller.throttle();
      if (kind === 'unreachable') {
        fatal ??= `${tried.error?.message}: no row can reach Atlassian until this is fixed`;
      }
      const verdict = await gate.settle(ticket, tried.error);
      if (verdict === 'retry') continue;
      break;
    }
    // Stopped before it was ever sent: not run, not reported (a rerun does it).
    if (last === null) return false;
    const line = finish(row, { outcome: rowOutcomeOf(last), result: last });
    const status = last.IAM.Vendor.errorCode;
    if (line.outcome === 'failed' && status !== null && FATAL_STATUSES.has(status) && fatal === null) {
      fatal = last.IAM.Vendor.errorMessage ?? `Atlassian answered HTTP ${status}`;
    }
    await options.audit.result(command, profile, last);
    return line.outcome !== 'failed';
  };

  await runPool(
    rows.filter((row) => row.problem === undefined),
    options.controller,
    runOne,
    { shouldStop: stopping },
  );
  fatal ??= gate.gaveUp;
  return { finished, fatal };
}
