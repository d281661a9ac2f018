/**
 * Runs the rows of a bulk file: each valid row through the same ILM core as the single commands,
 * with the adaptive concurrency of ./concurrency, a report line written as each row finishes, and an
 * audit entry for each (command `bulk-<operation>`): a row whose "received" entry cannot be written
 * is not run, and the run stops (see RowAudit). The gate of ./gate decides when rows may send: a rate
 * limit pauses the run and a 5xx storm opens its circuit breaker, and the rows they met are sent again
 * rather than failed. A row sent again runs its whole command again, lookup first, so a create that
 * reached Atlassian before a 5xx or timeout is found and not posted twice. Unreachable Atlassian (DNS,
 * TLS, certificates) stops the run like a bad token.
 */
import {
  buildResult,
  madeByEarlierAttempt,
  SKIP_REASONS,
  type CommandPlan,
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
import {
  DONE_BY_INTERRUPTED_RUN,
  doneKey,
  type ReportLine,
  type ReportWriter,
  type RowOutcome,
} from './report';
import { observeDirectory } from './throttle';

/**
 * The audit rows of a command or a bulk row, as the command line writes them (src/cli/audit-trail.ts).
 * `command` comes before the directory is touched and rejects with AuditUnavailableError when its row
 * cannot be written (the command must then not run); `result` records what was done, never throws (the
 * outcome is still printed) and answers false, after an error line on stderr, when its row is missing.
 */
export interface RowAudit {
  /** `detail`: what else the command names, e.g. `{group}`. */
  command(name: string, profile: UserProfile, detail?: Record<string, unknown> | null): Promise<void>;
  /** `detail`: said besides the result, e.g. `{note}` of a row done by an interrupted run. */
  result(
    name: string,
    profile: UserProfile,
    result: IamResult,
    detail?: Record<string, unknown>,
  ): Promise<boolean>;
  /**
   * A dry run: one `command` row with outcome `dry-run` and the plan as its detail (nothing was sent).
   * Rejects with AuditUnavailableError like `command`: the plan is then not printed.
   */
  dryRun(
    name: string,
    profile: UserProfile,
    plan: CommandPlan,
    detail?: Record<string, unknown>,
  ): Promise<void>;
}

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

/**
 * What an operation's result says when the directory is already as the row wants it: after an
 * interrupted run sent the row's request, that run made the change. A create or update found made
 * runs as an update again, so it is never reported as skipped.
 */
const ALREADY_DONE: Partial<Record<BulkOperation, string>> = {
  disable: SKIP_REASONS.alreadyDisabled,
  enable: SKIP_REASONS.alreadyEnabled,
  'add-to-group': SKIP_REASONS.alreadyMember,
  'remove-from-group': SKIP_REASONS.notMember,
};

/** Statuses that concern the whole directory (token, permissions): no later row can do better. */
const FATAL_STATUSES = new Set([401, 403]);

export interface RunnerOptions {
  operation: BulkOperation;
  allowEnable: boolean;
  context: IamContext;
  audit: RowAudit;
  report: ReportWriter;
  controller: AimdController;
  /** Told about every finished row, malformed ones included, after its report line is written. */
  onRow?: (line: ReportLine) => void;
  /** True stops starting rows (Ctrl-C); those in flight finish and are reported. */
  shouldStop?: () => boolean;
  now?: () => Date;
  /** Rate-limit pauses and the circuit breaker (default: real time, default limits). */
  gate?: RunGate;
  /** `doneKey`s of rows an earlier run sent a write for but never finished (PreviousReport.interrupted). */
  interrupted?: ReadonlySet<string>;
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

/** One run over the rows: what every row shares (the gate, the report, why the run must stop). */
class RowRun {
  finished = 0;
  fatal: string | null = null;
  readonly gate: RunGate;
  readonly #command: string;
  /** `doneKey`s of the rows this run has written a `sent` line for. */
  readonly #sent = new Set<string>();
  readonly #now: () => Date;

  constructor(readonly options: RunnerOptions) {
    this.gate = options.gate ?? new RunGate({ concurrency: options.controller.max });
    this.#command = `bulk-${options.operation}`;
    this.#now = options.now ?? (() => new Date());
  }

  readonly stopping = (): boolean =>
    this.fatal !== null || this.gate.gaveUp !== null || (this.options.shouldStop?.() ?? false);

  finish(row: BulkRow, fields: Pick<ReportLine, 'outcome' | 'result' | 'error' | 'note'>): ReportLine {
    const line: ReportLine = {
      row: row.row,
      outcome: fields.outcome,
      identifier: row.identifier,
      ...(fields.result ? { result: fields.result } : {}),
      ...(fields.error !== undefined ? { error: fields.error } : {}),
      operation: this.options.operation,
      key: row.key,
      at: this.#now().toISOString(),
      ...(fields.note !== undefined ? { note: fields.note } : {}),
    };
    // Written before anything else happens: this line is what a rerun trusts.
    this.options.report.write(line);
    this.finished++;
    this.options.onRow?.(line);
    return line;
  }

  /** The row's `sent` line, once per run, before its first write request leaves (see ./report). */
  #markSent(row: BulkRow): void {
    const key = doneKey(row.row, row.key);
    if (this.#sent.has(key)) return;
    this.#sent.add(key);
    const { operation, report } = this.options;
    const at = this.#now().toISOString();
    report.write({ row: row.row, outcome: 'sent', identifier: row.identifier, operation, key: row.key, at });
  }

  /** A row an interrupted run sent, found already done: that run made the change (a success), else as it is. */
  #byInterruptedRun(row: BulkRow, result: IamResult): { result: IamResult; note?: string } {
    const already = ALREADY_DONE[this.options.operation];
    if (already === undefined || !this.options.interrupted?.has(doneKey(row.row, row.key))) return { result };
    const made = madeByEarlierAttempt(result, already);
    return made === result ? { result } : { result: made, note: DONE_BY_INTERRUPTED_RUN };
  }

  /** One attempt at the row: its result, and the SCIM error behind a failed one. */
  async #attempt(row: BulkRow & { profile: UserProfile }) {
    const { options } = this;
    const seen: { error: ScimRequestError | null } = { error: null };
    const directory = observeDirectory(options.context.directory, {
      onError: (error) => {
        seen.error = error;
      },
      onWrite: () => this.#markSent(row),
    });
    const context = { ...options.context, directory };
    const result = await runCommand(commandOf(options.operation), context, row.profile, {
      allowEnable: options.allowEnable,
      group: row.group,
    });
    const vendor = result.IAM.Vendor;
    const { error } = seen;
    // Only the error the result reports (a lookup's "several users match" is not a SCIM answer).
    return { result, error: !vendor.success && error?.message === vendor.errorMessage ? error : null };
  }

  /**
   * Sends the row until the gate lets it settle: its last result; null when it was never sent (not
   * run, not reported: a rerun does it); 'finished' when it ended otherwise (already reported, or no
   * audit row so it stays not run).
   */
  async #sendUntilSettled(row: BulkRow, profile: UserProfile): Promise<IamResult | null | 'finished'> {
    const detail = row.group === undefined ? null : { group: row.group };
    let last: IamResult | null = null;
    for (;;) {
      const ticket = await this.gate.enter(this.stopping);
      if (ticket === null) return last;
      if (last === null) {
        try {
          await this.options.audit.command(this.#command, profile, detail);
        } catch (error) {
          // No row, no action: this row stays not run (a rerun takes it) and no further row starts.
          this.gate.release(ticket);
          this.fatal ??= (error as Error).message;
          return 'finished';
        }
      }
      let tried;
      try {
        tried = await this.#attempt({ ...row, profile });
      } catch (error) {
        this.gate.release(ticket);
        // A ProfileError (e.g. no identifier) is found before any request is sent. Either way the row's
        // "received" entry gets its outcome: never a received row without one.
        const message = (error as Error).message ?? String(error);
        this.finish(row, { outcome: error instanceof ProfileError ? 'malformed' : 'failed', error: message });
        await this.options.audit.result(this.#command, profile, this.#failedResult(profile, message));
        return 'finished';
      }
      last = tried.result;
      const kind = tried.error === null ? null : failureKind(tried.error);
      if (kind === 'rate-limited') this.options.controller.throttle();
      if (kind === 'unreachable') {
        this.fatal ??= `${tried.error?.message}: no row can reach Atlassian until this is fixed`;
      }
      if ((await this.gate.settle(ticket, tried.error)) !== 'retry') return last;
    }
  }

  /** The failed result of a row whose command threw instead of answering. */
  #failedResult(profile: UserProfile, message: string): IamResult {
    const { operation, context } = this.options;
    return buildResult({
      action: operation,
      instanceName: context.instanceName,
      profile,
      error: { status: null, message },
    });
  }

  /** Runs one valid row; true when it succeeded or was skipped. */
  readonly runOne = async (row: BulkRow): Promise<boolean> => {
    // The sandbox directory answers without any I/O: without this turn of the event loop a whole file
    // would run as one task, with no progress drawn and Ctrl-C unheard until the end.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const profile = row.profile as UserProfile;
    const settled = await this.#sendUntilSettled(row, profile);
    if (settled === null || settled === 'finished') return false;
    const { result: last, note } = this.#byInterruptedRun(row, settled);
    const line = this.finish(row, { outcome: rowOutcomeOf(last), result: last, note });
    const status = last.IAM.Vendor.errorCode;
    if (line.outcome === 'failed' && status !== null && FATAL_STATUSES.has(status) && this.fatal === null) {
      this.fatal = last.IAM.Vendor.errorMessage ?? `Atlassian answered HTTP ${status}`;
    }
    await this.options.audit.result(this.#command, profile, last, note === undefined ? undefined : { note });
    return line.outcome !== 'failed';
  };
}

export async function runRows(rows: BulkRow[], options: RunnerOptions): Promise<RunOutcome> {
  const run = new RowRun(options);
  // Malformed rows are reported first and at once: nothing is sent for them.
  for (const row of rows) {
    if (row.problem !== undefined) run.finish(row, { outcome: 'malformed', error: row.problem });
  }
  const valid = rows.filter((row) => row.problem === undefined);
  await runPool(valid, options.controller, run.runOne, { shouldStop: run.stopping });
  run.fatal ??= run.gate.gaveUp;
  return { finished: run.finished, fatal: run.fatal };
}
