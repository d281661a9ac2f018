import type { WebClient } from '@slack/web-api';
import { getUser, type UserProfile } from '../iam';
import type { AuditEntry } from '../store/types';
import { refusalMessage } from '../views/slack';
import { auditDone, type BotContext } from './context';
import { postMessage } from './posting';

/** Commands whose "received" row without an answer means a change may have reached Atlassian unrecorded. */
const WRITES = new Set(['iam-create-user', 'iam-update-user', 'iam-disable-user', 'iam-enable-user']);
/** Only rows this recent are looked at, and at most this many reconciled per run. */
export const RECONCILE_WINDOW_MS = 24 * 3_600_000;
export const RECONCILE_MAX = 50;
/** A row younger than this may belong to a command still running (here or on a peer): left alone. */
export const RECONCILE_MIN_AGE_MS = 2 * 60_000;
/** How many of the window's audit rows are read to find them. */
const ROWS_READ = 5_000;

/** The command a row belongs to: who ran which command for whom. */
const keyOf = (row: AuditEntry): string => JSON.stringify([row.actor, row.command, row.target]);

/**
 * A row that answers the command: its result, a refusal, or the stored request it became (requested or
 * scheduled: what happens to it is the request's own story, told in its thread, not an interruption).
 */
const answers = (row: AuditEntry): boolean =>
  row.kind === 'result' || row.kind === 'refusal' || (row.kind === 'command' && row.requestId !== null);

/**
 * Slack write commands with a "received" row and no answer after it (a crash between the two), oldest
 * first. Read newest first, so every answer is seen before the rows it follows.
 */
export function interruptedCommands(rows: AuditEntry[], now: Date): AuditEntry[] {
  const answered = new Set<string>();
  const interrupted: AuditEntry[] = [];
  for (const row of [...rows].sort((a, b) => b.id - a.id)) {
    const key = keyOf(row);
    if (answers(row)) answered.add(key);
    else if (
      row.source === 'slack' &&
      row.kind === 'command' &&
      row.outcome === 'received' &&
      WRITES.has(row.command) &&
      row.target !== null &&
      now.getTime() - row.at.getTime() >= RECONCILE_MIN_AGE_MS &&
      !answered.has(key)
    )
      interrupted.push(row);
  }
  return interrupted.reverse();
}

/** Whom to look up: the user the command was pinned to (by id, see pinnedUser), else its target. */
function profileOf(row: AuditEntry): UserProfile {
  const pinned = row.detail?.userId;
  if (typeof pinned === 'string') return { id: pinned };
  const target = row.target as string;
  return target.includes('@') ? { email: target } : { username: target };
}

/**
 * At start and on every sweep: Slack write commands of the last 24 hours that were received but never
 * answered (a crash between the two) are looked up in Atlassian (read-only; by the pinned id where the
 * command had one), the outcome recorded as
 * their result row (`reconciled: …`), and the requester told by DM. One instance handles each (a claim
 * on the row's id); a lookup Atlassian does not answer is tried again on the next sweep. Returns how
 * many were reconciled.
 */
export async function reconcileInterrupted(context: BotContext, client: WebClient): Promise<number> {
  const now = context.clock();
  const since = new Date(now.getTime() - RECONCILE_WINDOW_MS);
  const rows = await context.store.listAudit({ since, limit: ROWS_READ });
  let count = 0;
  for (const row of interruptedCommands(rows, now).slice(0, RECONCILE_MAX)) {
    const target = row.target as string;
    const found = await getUser(context.iam, profileOf(row));
    const vendor = found.IAM.Vendor;
    if (!vendor.success && vendor.errorCode !== 404) continue; // Atlassian did not answer: next sweep
    if (!(await context.store.claimTrigger(`reconcile:${row.id}`, now))) continue; // another instance did
    const state = vendor.active === false ? 'inactive' : 'active';
    await auditDone(context, {
      actor: row.actor,
      kind: 'result',
      command: row.command,
      target,
      outcome: vendor.success ? `reconciled: user exists (${state})` : 'reconciled: not found',
      requestId: null,
      detail: { reconciles: row.id, receivedAt: row.at.toISOString() },
    });
    count += 1;
    const text =
      `Your /${row.command} for ${target} was interrupted by a restart; Atlassian now shows ` +
      (vendor.success ? `the user exists (${state})` : 'no such user') +
      '. Run it again if that is not what you wanted.';
    try {
      await postMessage(client, row.actor, refusalMessage(text, { sandbox: context.sandbox }));
    } catch (error) {
      context.logger.error('could not tell the requester of a reconciled command', {
        error: (error as Error).message,
      });
    }
  }
  if (count > 0) context.logger.info('reconciled commands a restart interrupted', { count });
  return count;
}
