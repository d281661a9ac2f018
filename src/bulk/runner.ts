/**
 * Runs the rows of a bulk file: each valid row through the same ILM core as the single commands,
 * with the adaptive concurrency of ./concurrency, a report line written as each row finishes, and an
 * audit entry for each (command `bulk-<operation>`): a row whose "received" entry cannot be written
 * is not run, and the run stops (see CliAudit).
 */
import type { CliAudit } from '../cli-audit';
import {
  createUser,
  disableUser,
  enableUser,
  type IamContext,
  type IamResult,
  ProfileError,
  updateUser,
  type UserProfile,
} from '../iam';
import { type AimdController, runPool } from './concurrency';
import type { BulkRow } from './csv';
import type { ReportLine, ReportWriter, RowOutcome } from './report';

export const BULK_OPERATIONS = ['create', 'update', 'disable', 'enable'] as const;
export type BulkOperation = (typeof BULK_OPERATIONS)[number];

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
}

export interface RunOutcome {
  /** Rows that ran or were reported malformed. */
  finished: number;
  /** Set when a directory-wide error (bad token, no permission) stopped the run early. */
  fatal: string | null;
}

export function execute(
  operation: BulkOperation,
  context: IamContext,
  profile: UserProfile,
  allowEnable: boolean,
): Promise<IamResult> {
  switch (operation) {
    case 'create':
      return createUser(context, profile, { allowEnable });
    case 'update':
      return updateUser(context, profile, { allowEnable });
    case 'disable':
      return disableUser(context, profile);
    case 'enable':
      return enableUser(context, profile);
  }
}

export function outcomeOf(result: IamResult): RowOutcome {
  const vendor = result.IAM.Vendor;
  if (!vendor.success) return 'failed';
  return vendor.skipped ? 'skipped' : 'success';
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

  const runOne = async (row: BulkRow): Promise<boolean> => {
    // The sandbox directory answers without any I/O: without this turn of the event loop a whole file
    // would run as one task, with no progress drawn and Ctrl-C unheard until the end.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const profile = row.profile as UserProfile;
    try {
      await options.audit.command(command, profile);
    } catch (error) {
      // No row, no action: this row stays not run (a rerun takes it) and no further row starts.
      fatal ??= (error as Error).message;
      return false;
    }
    let result: IamResult;
    try {
      result = await execute(options.operation, options.context, profile, options.allowEnable);
    } catch (error) {
      if (error instanceof ProfileError) {
        // e.g. no identifier: found before any request is sent.
        finish(row, { outcome: 'malformed', error: error.message });
        return false;
      }
      finish(row, { outcome: 'failed', error: (error as Error).message ?? String(error) });
      return false;
    }
    const line = finish(row, { outcome: outcomeOf(result), result });
    const status = result.IAM.Vendor.errorCode;
    if (line.outcome === 'failed' && status !== null && FATAL_STATUSES.has(status) && fatal === null) {
      fatal = result.IAM.Vendor.errorMessage ?? `Atlassian answered HTTP ${status}`;
    }
    await options.audit.result(command, profile, result);
    return line.outcome !== 'failed';
  };

  await runPool(
    rows.filter((row) => row.problem === undefined),
    options.controller,
    runOne,
    { shouldStop: () => fatal !== null || (options.shouldStop?.() ?? false) },
  );
  return { finished, fatal };
}
