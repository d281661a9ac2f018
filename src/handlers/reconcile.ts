import type { WebClient } from '@slack/web-api';
import {
  decideMembership,
  getUser,
  GroupCommandError,
  membershipNow,
  type MembershipNow,
  type UserProfile,
} from '../iam';
import { ScimRequestError } from '../scim/errors';
import type { AuditEntry } from '../store/types';
import { errorNotice } from '../views/slack';
import { auditDone, type BotContext } from './context';
import { endStoredGrants } from './grants';
import { postMessage } from './posting';

const REVOKE = 'iam-revoke';
/**
 * Commands whose "received" row without an answer means a change may have reached Atlassian unrecorded:
 * those Slack carries out without an approval (an approved request is carried out under its own claim,
 * see approvals.ts; /iam-grant only asks, so a grant cut short changed nothing).
 */
const WRITES = new Set(['iam-create-user', 'iam-update-user', 'iam-disable-user', 'iam-enable-user', REVOKE]);
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

/** What Atlassian shows now about an interrupted command: its outcome, said to the requester. */
interface Finding {
  /** After `reconciled: ` in the result row. */
  state: string;
  /** After "Atlassian now shows " in the DM. */
  shows: string;
  /** A removal whose member is gone: the stored grants it was ending end too. */
  gone?: { userId: string; groupName: string };
  group?: string;
}

/** A user command: the user looked up (by the pinned id where there is one); null when Atlassian did not answer. */
async function findUser(context: BotContext, row: AuditEntry): Promise<Finding | null> {
  const vendor = (await getUser(context.iam, profileOf(row))).IAM.Vendor;
  if (!vendor.success && vendor.errorCode !== 404) return null;
  if (!vendor.success) return { state: 'not found', shows: 'no such user' };
  const state = vendor.active === false ? 'inactive' : 'active';
  return { state: `user exists (${state})`, shows: `the user exists (${state})` };
}

const SHOWN: Record<MembershipNow, string> = {
  member: 'they are still a member',
  'not a member': 'they are not a member',
  'user not found': 'no such user',
  'group not found': 'no such group',
};

/** Where an interrupted removal's user stands in its group: by the pinned ids, else by email and group name. */
async function membershipOfRow(
  context: BotContext,
  row: AuditEntry,
  group: string,
): Promise<{ now: MembershipNow; userId: string | null }> {
  const { userId, groupId } = row.detail ?? {};
  if (typeof userId === 'string' && typeof groupId === 'string') {
    return { now: await membershipNow(context.iam, { userId, groupId }), userId };
  }
  try {
    const found = await decideMembership(context.iam, 'remove-from-group', profileOf(row), group);
    if (!found.user) return { now: 'user not found', userId: null };
    return { now: found.skip === undefined ? 'member' : 'not a member', userId: found.user.id ?? null };
  } catch (error) {
    if (error instanceof GroupCommandError && error.status === 404)
      return { now: 'group not found', userId: null };
    throw error;
  }
}

/** An /iam-revoke: the membership looked up; null when Atlassian did not answer (or the row names no group). */
async function findMembership(context: BotContext, row: AuditEntry): Promise<Finding | null> {
  const group = row.detail?.group;
  if (typeof group !== 'string') return null;
  let found;
  try {
    found = await membershipOfRow(context, row, group);
  } catch (error) {
    if (error instanceof ScimRequestError) return null;
    throw error;
  }
  const gone = found.now !== 'member' && found.userId !== null;
  return {
    state: found.now,
    shows: SHOWN[found.now],
    group,
    ...(gone ? { gone: { userId: found.userId as string, groupName: group } } : {}),
  };
}

/** The requester's DM about a reconciled command. */
function toldText(row: AuditEntry, finding: Finding): string {
  const group = finding.group === undefined ? '' : ` in "${finding.group}"`;
  return (
    `Your /${row.command} for ${row.target as string}${group} was interrupted before its outcome was recorded; Atlassian now shows ` +
    `${finding.shows}. Run it again if that is not what you wanted.`
  );
}

/**
 * Records one interrupted command as reconciled (once across instances: a claim on the row's id), ends
 * the stored grants a removal was ending when its member is gone (Store.endGrant with its row), and
 * tells the requester by DM. False when Atlassian did not answer (next sweep) or another instance did it.
 */
async function reconcileOne(context: BotContext, client: WebClient, row: AuditEntry, now: Date) {
  const finding = await (row.command === REVOKE ? findMembership : findUser)(context, row);
  if (finding === null) return false;
  if (!(await context.store.claimTrigger(`reconcile:${row.id}`, now))) return false;
  const outcome = `reconciled: ${finding.state}`;
  await auditDone(context, {
    actor: row.actor,
    kind: 'result',
    command: row.command,
    target: row.target,
    outcome,
    requestId: null,
    detail: {
      reconciles: row.id,
      receivedAt: row.at.toISOString(),
      ...(finding.group === undefined ? {} : { group: finding.group }),
    },
  });
  if (finding.gone) {
    const reason = row.detail?.ends === 'done' ? 'done' : 'revoked';
    await endStoredGrants(context, client, finding.gone, { by: row.actor, reason, outcome });
  }
  try {
    await postMessage(
      client,
      row.actor,
      // Not a refusal: the command may well have changed something (the text says what Atlassian shows).
      errorNotice(toldText(row, finding), { sandbox: context.sandbox }),
    );
  } catch (error) {
    context.logger.error('could not tell the requester of a reconciled command', {
      error: (error as Error).message,
    });
  }
  return true;
}

/**
 * At start and on every sweep: Slack write commands of the last 24 hours that were received but never
 * answered (a crash between the two) are looked up in Atlassian (read-only; by the pinned id where the
 * command had one; a removal by /iam-revoke as its membership), the outcome recorded as their result
 * row (`reconciled: …`), and the requester told by DM. One instance handles each (a claim on the row's
 * id); a lookup Atlassian does not answer is tried again on the next sweep. Returns how many were
 * reconciled.
 */
export async function reconcileInterrupted(context: BotContext, client: WebClient): Promise<number> {
  const now = context.clock();
  const since = new Date(now.getTime() - RECONCILE_WINDOW_MS);
  const rows = await context.store.listAudit({ since, limit: ROWS_READ });
  let count = 0;
  for (const row of interruptedCommands(rows, now).slice(0, RECONCILE_MAX)) {
    if (await reconcileOne(context, client, row, now)) count += 1;
  }
  if (count > 0) context.logger.info('reconciled commands a restart interrupted', { count });
  return count;
}
