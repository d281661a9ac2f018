/**
 * Scheduled requests (`/iam-disable-user … at 2026-12-31 17:00`, the CLI's `--at`): approved ahead, then
 * carried out at their time exactly once by whichever instance claims them first (Store.claimDueScheduled),
 * with the outcome posted in the request's thread; or cancelled before then by the requester or an approver.
 */
import type { WebClient } from '@slack/web-api';
import { type IamResult, SKIP_REASONS } from '../iam';
import type { Logger } from '../log';
import { ruleLabel } from '../policy';
import { LEGACY_RULE } from '../store';
import type { ApprovalRequest, NewAuditEntry } from '../store/types';
import { errorNotice, refusalMessage, type ScheduledOutcome, scheduledOutcomeMessage } from '../views/slack';
import { type Announce, announceAndMark, announceCompleted, announceDecision, carryOut } from './approvals';
import { cardOf } from './approval-card';
import { APPROVAL_LEASE_MS, CLAIM_OWNER, claimHolderIsDead } from './claims';
import { AUDIT_UNAVAILABLE, auditDone, type BotContext, writeWithRecord } from './context';
import { approverStanding, NO_LONGER_APPROVER } from './decision-guards';
import { postMessage } from './posting';

/** Claimed per statement: few enough that an instance killed mid-batch strands few, for its peers to take over. */
export const SCHEDULED_BATCH = 10;

/**
 * The Slack client for a request made on the command line, which has no channel or card, and for a
 * run without a bot token: every call is a no-op.
 */
// A stand-in for the one method posting.ts calls (apiCall); the cast is the point of it.
export const SILENT_SLACK = { apiCall: async () => ({ ok: true }) } as unknown as WebClient;

/** What the thread is told, from the stored result of carrying the request out. */
export function scheduledOutcomeOf(
  request: ApprovalRequest,
  result: IamResult | null,
  now: Date,
): ScheduledOutcome {
  const lateMs = now.getTime() - (request.scheduledAt ?? now).getTime();
  const vendor = result?.IAM.Vendor;
  if (!vendor || !vendor.success) return { kind: 'not-done' };
  if (vendor.skipped) {
    if (vendor.reason === SKIP_REASONS.notFound) return { kind: 'deleted' };
    if (vendor.reason === SKIP_REASONS.alreadyDisabled) return { kind: 'already-disabled' };
    return { kind: 'not-done' };
  }
  const pinned = request.profile.username;
  const current = vendor.username;
  if (typeof pinned === 'string' && current && pinned.toLowerCase() !== current.toLowerCase()) {
    return { kind: 'renamed', lateMs, from: pinned, to: current };
  }
  return { kind: 'done', lateMs };
}

/** The Slack client for a request: none for one made on the command line (no channel). */
const clientOf = (request: ApprovalRequest, slack: WebClient): WebClient =>
  request.channelId ? slack : SILENT_SLACK;

/** Carries out one claimed request; its announcement says in its thread what its time found. */
async function carryOutScheduled(context: BotContext, slack: WebClient, request: ApprovalRequest) {
  await carryOut(context, clientOf(request, slack), request, announceScheduled);
}

/**
 * A completed scheduled request's announcement: its card and result (as any approved request's), then
 * what its time found, audited and said in its thread. A thread Slack refuses is logged: the requester
 * was told already.
 */
const announceScheduled: Announce = async (context, client, request) => {
  await announceCompleted(context, client, request);
  const now = context.clock();
  const outcome = scheduledOutcomeOf(request, request.result as IamResult | null, now);
  await auditDone(context, {
    actor: 'system',
    kind: 'result',
    command: 'run-scheduled',
    target: request.target,
    outcome: outcome.kind === 'done' || outcome.kind === 'renamed' ? 'carried-out' : outcome.kind,
    requestId: request.id,
    detail: { ...outcome, scheduledAt: request.scheduledAt?.toISOString() ?? null },
  });
  const message = scheduledOutcomeMessage(cardOf(request), outcome, { sandbox: context.sandbox });
  await postMessage(
    client,
    request.channelId,
    message,
    request.messageTs ? { threadTs: request.messageTs } : {},
  ).catch((error: Error) =>
    context.logger.error('could not post what a scheduled request found', {
      requestId: request.id,
      error: error.message,
    }),
  );
};

/**
 * Completed requests (scheduled or not) whose announcement a crash cut off, announced by one instance
 * each (a lease, see Store.claimAnnouncement): those of a holder known to be dead at once, others once
 * the holder's lease has run out. Runs at start, on every sweep and with the scheduled runs. Returns
 * how many it announced.
 */
export async function announceUnannounced(context: BotContext, slack: WebClient): Promise<number> {
  let unannounced: ApprovalRequest[];
  try {
    unannounced = await context.store.listUnannounced();
  } catch (error) {
    context.logger.error('could not list unannounced requests', { error: (error as Error).message });
    return 0;
  }
  let count = 0;
  for (const request of unannounced) {
    const dead = claimHolderIsDead(request.claimedBy) ? (request.claimedBy ?? undefined) : undefined;
    try {
      const claimed = await context.store.claimAnnouncement(
        request.id,
        context.clock(),
        APPROVAL_LEASE_MS,
        CLAIM_OWNER,
        dead,
      );
      if (!claimed) continue;
      const announce = claimed.scheduledAt ? announceScheduled : announceCompleted;
      await announceAndMark(context, clientOf(claimed, slack), claimed, announce);
      count += 1;
    } catch (error) {
      context.logger.error('could not announce a completed request', {
        requestId: request.id,
        error: (error as Error).message,
      });
    }
  }
  return count;
}

/**
 * The batch by user, each in its order: two schedules of one user run one after the other, so the
 * second finds the user disabled and says `already-disabled` instead of both reporting the disable.
 */
function byUser(batch: readonly ApprovalRequest[]): ApprovalRequest[][] {
  const groups = new Map<string, ApprovalRequest[]>();
  for (const request of batch) {
    const key = String(request.profile.id ?? request.target);
    groups.set(key, [...(groups.get(key) ?? []), request]);
  }
  return [...groups.values()];
}

/**
 * Claims due approved scheduled requests, a batch at a time, and carries them out (a batch at once),
 * until none is due; also takes over those claimed by a holder known to be dead (killed on this host).
 * Any instance, and `atlassian-iam run-scheduled`, may run it at any time. Returns how many it ran.
 */
export async function runScheduled(context: BotContext, client: WebClient): Promise<number> {
  let count = 0;
  for (;;) {
    const claimed = await context.store.claimDueScheduled(
      context.clock(),
      APPROVAL_LEASE_MS,
      CLAIM_OWNER,
      SCHEDULED_BATCH,
    );
    const orphans = claimed.length === 0 ? await claimFromTheDead(context) : [];
    const batch = [...claimed, ...orphans];
    if (batch.length === 0) return count;
    await Promise.all(
      byUser(batch).map(async (requests) => {
        for (const request of requests) {
          await carryOutScheduled(context, client, request).catch((error: Error) =>
            context.logger.error('could not carry out a scheduled request', {
              requestId: request.id,
              error: error.message,
            }),
          );
        }
      }),
    );
    count += batch.length;
  }
}

/** Due requests whose claim a dead process (see claimHolderIsDead) holds, taken over (each by one caller). */
async function claimFromTheDead(context: BotContext): Promise<ApprovalRequest[]> {
  const now = context.clock();
  const stranded = (await context.store.listScheduled()).filter(
    (request) =>
      request.status === 'approved' &&
      request.scheduledAt !== undefined &&
      request.scheduledAt <= now &&
      claimHolderIsDead(request.claimedBy),
  );
  const taken: ApprovalRequest[] = [];
  for (const request of stranded.slice(0, SCHEDULED_BATCH)) {
    const claimed = await context.store.claimApproval(
      request.id,
      now,
      APPROVAL_LEASE_MS,
      CLAIM_OWNER,
      request.claimedBy ?? undefined,
    );
    if (claimed) taken.push(claimed);
  }
  return taken;
}

/** How soon to look again while a due request is held by another claimant (see claimFromTheDead). */
const OVERDUE_RETRY_MS = 1_000;

/**
 * Runs runScheduled (then announceUnannounced) when the soonest schedule (pending or approved) falls
 * due, and at least every `pollMs` (another instance or the CLI may have stored a sooner one). Returns
 * a stop function.
 */
export function startScheduleTimer(
  context: BotContext,
  client: WebClient,
  options: { pollMs: number; logger: Logger },
): () => void {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const next = async (): Promise<number> => {
    const now = context.clock().getTime();
    const scheduled = await context.store.listScheduled();
    // Pending ones too: one approved on another instance meanwhile is then run on time all the same.
    const future = scheduled.map((r) => r.scheduledAt?.getTime() ?? now).filter((t) => t > now);
    // Due but claimed by another: look again soon, to take over if its holder dies.
    const overdue = scheduled.some((r) => r.status === 'approved' && (r.scheduledAt?.getTime() ?? now) <= now)
      ? OVERDUE_RETRY_MS
      : Infinity;
    return Math.min(options.pollMs, overdue, ...future.map((t) => t - now));
  };
  const tick = async () => {
    let delay = options.pollMs;
    try {
      await context.inFlight.run(async () => {
        await runScheduled(context, client);
        await announceUnannounced(context, client); // what a killed peer completed but never told
      });
      delay = await next();
    } catch (error) {
      options.logger.warn('scheduled run failed', { error: (error as Error).message });
    }
    if (stopped) return;
    timer = setTimeout(() => void tick(), delay);
    timer.unref();
  };
  void tick();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

export interface CancelInput {
  requestId: string;
  userId: string;
}

/** Why this person may not cancel the request, or null: its requester and its rule's approvers may. */
async function cancelRefusal(
  context: BotContext,
  userId: string,
  request: ApprovalRequest,
): Promise<string | null> {
  if (userId === request.requesterId) return null;
  const rule = request.rule ?? LEGACY_RULE;
  const standing = await approverStanding(context, { userId, request, rule, now: context.clock() });
  if (standing === 'removed') return NO_LONGER_APPROVER;
  if (standing !== 'not-approver') return null;
  const approvers =
    rule.approvers === null ? 'an approver (IAM_APPROVERS)' : `an approver of ${ruleLabel(rule)}`;
  return `Only the requester or ${approvers} can cancel this scheduled ${request.action}.`;
}

/**
 * A Cancel click (App Home, or the request's card in its channel): the requester or any approver of its
 * rule cancels a scheduled request before its time; anyone else is refused. Either way an audit row says
 * so, and the person is told by DM. Returns whether it was cancelled.
 */
export async function cancelScheduled(
  context: BotContext,
  client: WebClient,
  input: CancelInput,
): Promise<boolean> {
  const request = input.requestId.includes('\u0000')
    ? null
    : await context.store.getApproval(input.requestId);
  const refuse = async (reason: string) => {
    await postMessage(client, input.userId, refusalMessage(reason, { sandbox: context.sandbox }));
    await auditDone(context, {
      actor: input.userId,
      kind: 'refusal',
      command: 'cancel',
      target: request?.target ?? null,
      outcome: 'refused',
      requestId: request ? request.id : null,
      detail: { reason },
    });
    return false;
  };
  if (!request || !request.scheduledAt) return refuse('This scheduled request does not exist.');
  const refused = await cancelRefusal(context, input.userId, request);
  if (refused !== null) return refuse(refused);
  const cancelled = await cancelWithRecord(context, input.userId, request);
  if (cancelled === 'not recorded') {
    await postMessage(client, input.userId, errorNotice(AUDIT_UNAVAILABLE, { sandbox: context.sandbox }));
    return false;
  }
  if (!cancelled) {
    const latest = (await context.store.getApproval(request.id)) ?? request;
    const state =
      latest.status === 'approved' || latest.status === 'pending' ? 'being carried out' : latest.status;
    return refuse(`This scheduled ${request.action} can no longer be cancelled: it is ${state}.`);
  }
  await announceDecision(context, client, cancelled);
  return true;
}

/**
 * Cancels the request with its audit row, in one transaction (Store.cancelScheduled): null when it can
 * no longer be cancelled; 'not recorded' (logged, nothing cancelled) when the row or the cancel could
 * not be written.
 */
async function approversOf(context: BotContext, request: ApprovalRequest): Promise<string[]> {
  const voters = await context.store.listVoters(request.id);
  if (voters.length > 0) return voters;
  return request.status === 'approved' && request.decidedBy ? [request.decidedBy] : [];
}

async function cancelWithRecord(
  context: BotContext,
  userId: string,
  request: ApprovalRequest,
): Promise<ApprovalRequest | null | 'not recorded'> {
  const row: Omit<NewAuditEntry, 'at' | 'source'> = {
    actor: userId,
    kind: 'decision',
    command: 'cancel',
    target: request.target,
    outcome: 'cancelled',
    requestId: request.id,
    detail: {
      scheduledAt: request.scheduledAt?.toISOString() ?? null,
      requesterId: request.requesterId,
      // Everyone whose approval counted (N of M), else the one who decided; none while still pending.
      approvedBy: await approversOf(context, request),
    },
  };
  return writeWithRecord(context, row, (record) => context.store.cancelScheduled(request.id, record)).catch(
    (error: Error) => {
      context.logger.error('cancel not recorded; nothing was cancelled', {
        requestId: request.id,
        error: error.message,
      });
      return 'not recorded' as const;
    },
  );
}
