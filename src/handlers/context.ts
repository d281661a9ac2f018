import type { ConnectionStatus, IamContext, UserProfile } from '../iam';
import type { Logger } from '../log';
import type { NewAuditEntry, Store } from '../store/types';
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
  approvalTtlMs: number;
  /** How far ahead a disable may be scheduled (policy `maxScheduleAhead`); 90 days when absent. */
  maxScheduleAheadMs?: number;
  /** test-module, cached briefly: the App Home shows it. */
  connectionStatus: () => Promise<ConnectionStatus>;
}

/** Whom a profile is about, as a person reads it. */
export function targetOf(profile: UserProfile): string {
  for (const key of ['email', 'username', 'employeeid', 'id']) {
    const value = profile[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return 'unknown user';
}

/** Appends to the audit log; a failing audit write is logged loudly but does not undo the operation. */
export async function audit(context: BotContext, entry: Omit<NewAuditEntry, 'at' | 'source'>): Promise<void> {
  try {
    await context.store.appendAudit({ ...entry, at: context.clock(), source: 'slack' });
  } catch (error) {
    context.logger.error('audit write failed', { command: entry.command, error: (error as Error).message });
  }
}

/** Audits that someone who is not an operator tried to run `command`; nothing was done. */
export function auditNotOperator(context: BotContext, actor: string, command: string): Promise<void> {
  return audit(context, {
    actor,
    kind: 'refusal',
    command,
    target: null,
    outcome: 'refused',
    requestId: null,
    detail: { reason: 'not an operator' },
  });
}
