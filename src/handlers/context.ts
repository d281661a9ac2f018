import type { ConnectionStatus, IamContext } from '../iam';
import type { Logger } from '../log';
import type { Policy } from '../policy';
import type { Metrics } from '../metrics';
import type { NewAuditEntry, Store } from '../store/types';
import { AuditUnavailableError } from '../store/unavailable';
import type { AccessPolicy } from './access';
import type { FollowUps } from './follow-ups';
import type { InFlight } from './in-flight';

/** Everything the listeners share; built once by the entry point, faked piecewise in tests. */
export interface BotContext {
  iam: IamContext;
  sandbox: boolean;
  store: Store;
  access: AccessPolicy;
  inFlight: InFlight;
  /** Holds a result's follow-ups while other commands still work towards theirs. */
  followUps: FollowUps;
  logger: Logger;
  clock: () => Date;
  newId: () => string;
  /** IAM_POLICY_FILE as read at start, or the built-in rules (docs/POLICY.md). */
  policy: Policy;
  /** How approved work that meets a transient Atlassian failure is retried (see handlers/approvals.ts). */
  approvedRetry: ApprovedRetry;
  /** Counts what the audit log records, for /metrics. */
  metrics: Metrics;
  /** test-module, cached briefly: the App Home shows it. */
  connectionStatus: () => Promise<ConnectionStatus>;
  /** The directory's group names, cached briefly: the group picker and the groups a member may ask for. */
  groupNames: () => Promise<string[]>;
}

export interface ApprovedRetry {
  /** After approval, how long transient failures are retried before the request ends as failed. */
  deadlineMs: number;
  /** The wait after the first failure; it doubles after each, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** How often a holder renews its lease while it carries a request out. */
  leaseRenewMs: number;
}

export { AUDIT_UNAVAILABLE, AuditUnavailableError } from '../store/unavailable';

/**
 * A command's "received" detail: the Atlassian id of the user it is pinned to, when known (typed, or
 * found by a preview), so reconciling after a crash looks the user up by id, which a change of email
 * or username does not alter (see reconcile.ts).
 */
export function pinnedUser(id: unknown): Record<string, unknown> | null {
  return typeof id === 'string' && id !== '' ? { userId: id } : null;
}

type BotAuditEntry = Omit<NewAuditEntry, 'at' | 'source'>;

/**
 * Writes an audit row that must exist before anything is done (a command's "received"/"requested" row,
 * a decision before it takes effect). Resolves once the row is stored; if it cannot be written, logs
 * loudly and rejects with AuditUnavailableError, so the caller stops before calling Atlassian or
 * storing anything else. The listeners tell the person AUDIT_UNAVAILABLE.
 */
/**
 * The metrics follow the audit log: a decision counts as one, every other row as a command's outcome
 * (`received` rows are not outcomes: the same command's result row follows).
 */
function count(metrics: Metrics, entry: BotAuditEntry): void {
  if (entry.kind === 'decision') metrics.decision(entry.outcome);
  else if (entry.outcome !== 'received') metrics.command(entry.command, entry.outcome);
}

export async function audit(context: BotContext, entry: BotAuditEntry): Promise<void> {
  try {
    await context.store.appendAudit({ ...entry, at: context.clock(), source: 'slack' });
    count(context.metrics, entry);
  } catch (error) {
    context.metrics.auditWriteFailure();
    context.logger.error('audit write failed; nothing was done', {
      command: entry.command,
      error: (error as Error).message,
    });
    throw new AuditUnavailableError(error);
  }
}

/**
 * Writes the row of something that has already happened (a result from Atlassian, a refusal already
 * sent): never throws, because the person must still be told what was done. A failure is logged loudly
 * (error level, naming the command, target and outcome so an operator can restore the record) and
 * answered with false.
 */
export async function auditDone(context: BotContext, entry: BotAuditEntry): Promise<boolean> {
  try {
    await context.store.appendAudit({ ...entry, at: context.clock(), source: 'slack' });
    count(context.metrics, entry);
    return true;
  } catch (error) {
    context.metrics.auditWriteFailure();
    context.logger.error('AUDIT ROW MISSING: the result of a command was not recorded', {
      command: entry.command,
      actor: entry.actor,
      target: entry.target,
      outcome: entry.outcome,
      requestId: entry.requestId,
      error: (error as Error).message,
    });
    return false;
  }
}

/**
 * A store write that carries its own audit row in one transaction (Store.completeApproval, failApproval,
 * endGrant): `entry` is stamped as audit() stamps it and counted in the metrics when `write` answers
 * that it stored it (true, or the changed row); a failure counts as an audit write failure and is
 * rethrown (nothing was written).
 */
export async function writeWithRecord<T>(
  context: BotContext,
  entry: BotAuditEntry,
  write: (record: NewAuditEntry) => Promise<T>,
): Promise<T> {
  try {
    const written = await write({ ...entry, at: context.clock(), source: 'slack' });
    if (written) count(context.metrics, entry);
    return written;
  } catch (error) {
    context.metrics.auditWriteFailure();
    throw error;
  }
}

/** A person may not do what they asked (not bad input): told privately, with a refusal row; nothing was done. */
export class AccessRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccessRefusal';
  }
}

/** Why a request was refused before anything was done, as its audit row says. */
export const REFUSED = {
  notOperator: 'not an operator',
  shuttingDown: 'the bot was shutting down',
} as const;

/** Audits that `actor`'s `command` was refused for `reason`; nothing was done. */
export function auditRefusal(
  context: BotContext,
  actor: string,
  command: string,
  reason: (typeof REFUSED)[keyof typeof REFUSED],
): Promise<boolean> {
  return auditDone(context, {
    actor,
    kind: 'refusal',
    command,
    target: null,
    outcome: 'refused',
    requestId: null,
    detail: { reason },
  });
}
