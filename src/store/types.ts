/**
 * The store contract: approval requests (disable, enable, update) and the audit log. SQLite (sqlite-store.ts, the embedded
 * default) and PostgreSQL (postgres-store.ts, for several bot instances sharing one state) implement it
 * and pass the same contract tests (test/store/contract.ts).
 */
import type { ApprovalAction } from '../iam/approval-plan';
import type { ApprovalFollowUpStore } from './approval-follow-ups';
import type { ApprovalRule } from './approval-rule';
import type { ApprovalStatus } from '../views/slack/approval';
import type { GrantStore } from './grants';

export type { ApprovalRule } from './approval-rule';

/** The states a request goes through, as its card shows them (src/views/slack/approval.ts). */
export type { ApprovalStatus };

/** What an approved request does (see src/iam/approval-plan.ts); requests stored before it existed are disables. */
export type { ApprovalAction };
export type { ClaimedFollowUp, FollowUpKind, NewApprovalFollowUp } from './approval-follow-ups';

export interface ApprovalRequest {
  /** Unguessable id (the button value). */
  id: string;
  requesterId: string;
  channelId: string;
  /**
   * The Slack workspace (team) and Enterprise Grid org the request was made in: a decision counts only
   * from there. null when Slack sent none (no enterprise) or the request predates these columns.
   */
  teamId: string | null;
  enterpriseId: string | null;
  /** The request message, once posted. */
  messageTs: string | null;
  /** What the approval carries out. */
  action: ApprovalAction;
  /** What to apply (JSON object): the pinned user, and for an update the changes (see approval-plan.ts). */
  profile: Record<string, unknown>;
  /** Whom it concerns, as a person reads it (email or username). */
  target: string;
  reason: string | null;
  status: ApprovalStatus;
  createdAt: Date;
  expiresAt: Date;
  decidedBy: string | null;
  decidedAt: Date | null;
  /** The action's result object once completed; `{ reason }` once failed. */
  result: Record<string, unknown> | null;
  /** Who last claimed it to carry it out (see Store.claimApproval); null or absent when never claimed. */
  claimedBy?: string | null;
  /** A scheduled request: not carried out before this time (see src/handlers/scheduled.ts); else absent. */
  scheduledAt?: Date;
  /** The time zone the schedule was given in, as shown to people (e.g. Europe/Berlin, UTC+02:00). */
  scheduleZone?: string;
  /** How many times it was claimed to be carried out (absent: never); more than 1: an earlier try was cut short. */
  attempts?: number;
  /** After a transient Atlassian failure: not claimed again before this (see Store.deferApproval). */
  nextAttemptAt?: Date;
  /** The last transient failure, as a person reads it. */
  lastError?: string;
  /** The rule it was made under; absent: stored before rules were kept, read as LEGACY_RULE. */
  rule?: ApprovalRule;
  /** Why its stored rule cannot be read (it is then never decided, but ends as failed). */
  ruleProblem?: string;
}

export interface NewApproval {
  id: string;
  action: ApprovalAction;
  requesterId: string;
  channelId: string;
  teamId: string | null;
  enterpriseId: string | null;
  profile: Record<string, unknown>;
  target: string;
  reason: string | null;
  createdAt: Date;
  expiresAt: Date;
  /** Carry it out at this time, not at once (with the zone it was given in). */
  schedule?: { at: Date; zone: string };
  /**
   * Stored as already approved by this actor (the CLI's `--at`: whoever holds the token decides, as in
   * XSOAR), decided at `createdAt`.
   */
  approvedBy?: string;
  /** The approval rule it is made under (see ApprovalRequest.rule). */
  rule?: ApprovalRule;
}

/** What one Approve click did (see Store.voteApproval). */
export interface ApprovalVote {
  /** The request after the vote: approved when this vote decided it. */
  request: ApprovalRequest;
  /** Distinct voters so far, in the order they voted. */
  voters: string[];
  /** False when this person had voted already: nothing changed. */
  counted: boolean;
  /** This vote brought the votes to the rule's `approvals` and approved the request. */
  decided: boolean;
}

export type AuditKind = 'command' | 'decision' | 'result' | 'refusal';

export interface NewAuditEntry {
  at: Date;
  /** Slack user id, or `cli:<os user>` for the command line. */
  actor: string;
  source: 'slack' | 'cli';
  kind: AuditKind;
  /** e.g. `iam-disable-user`, `approve`, `deny`. */
  command: string;
  /** Whom it concerns (email, username or id), when known. */
  target: string | null;
  /** e.g. `success`, `skipped`, `failure`, `requested`, `approved`, `denied`, `expired`, `refused`. */
  outcome: string;
  /** The approval request this entry belongs to, if any. */
  requestId: string | null;
  /** The result object or other details; never secrets. */
  detail: Record<string, unknown> | null;
}

export interface AuditEntry extends NewAuditEntry {
  id: number;
}

export interface AuditQuery {
  since?: Date;
  /** Only entries strictly before this time. */
  before?: Date;
  /** Matches `target` exactly (case-insensitive). */
  target?: string;
  /** Matches the group the entry names, `detail.group`, exactly (case-insensitive). */
  group?: string;
  /** Newest first; default 100. */
  limit?: number;
  /**
   * Pages in the order the entries were written (by id, newest first) instead of by time: only those
   * whose id is below this one (null: from the newest). Each entry is on exactly one page, whatever the
   * clocks of the instances that wrote them said (`audit --all`).
   */
  writtenBefore?: number | null;
}

export type * from './grants';

/** Reminders and escalations: see approval-follow-ups.ts; grants: see grants.ts. */
export interface Store extends ApprovalFollowUpStore, GrantStore {
  /**
   * Stores a new request. One scheduled request per user and one Extend per grant may be open (pending
   * or approved) at a time (see one-open-request.ts): of callers racing on any connections or instances,
   * one stores it and the others get AlreadyOpenError naming the open one, and store nothing.
   */
  createApproval(request: NewApproval): Promise<ApprovalRequest>;
  getApproval(id: string): Promise<ApprovalRequest | null>;
  /** Records where the request message was posted. */
  setApprovalMessage(id: string, channelId: string, messageTs: string): Promise<void>;
  /**
   * Decides a pending, unexpired request atomically: returns the updated request for the one caller
   * that decided it, null for every other caller (already decided, expired, unknown id). `record`, the
   * decision's audit row, is written in the same transaction, only by the caller that decides: if it
   * cannot be written the call rejects and nothing is decided (no decision without its audit row).
   */
  decideApproval(
    id: string,
    decision: 'approved' | 'denied',
    deciderId: string,
    at: Date,
    record?: NewAuditEntry,
  ): Promise<ApprovalRequest | null>;
  /**
   * Records `voterId`'s Approve on a pending, unexpired request and, when the distinct voters reach its
   * rule's `approvals` (LEGACY_RULE's 1 without a rule), approves it (decided by this voter), atomically:
   * of voters racing for the last approval exactly one decides. `record(vote)` is the vote's audit row,
   * written in the same transaction; if it cannot be written the call rejects and nothing is recorded.
   * A repeated vote by the same person changes nothing and writes no row (`counted: false`). Null when
   * the request is not pending, has expired, or is unknown.
   *
   * `lapsed` names earlier voters who no longer qualify as approvers (the caller checked them live just
   * before): they are left out of the tally (and of `voters`), and a counted vote removes their votes in
   * the same transaction, so they can never make the request approved (their `voted` audit rows stay).
   * `voterId` itself is never left out.
   */
  voteApproval(
    id: string,
    voterId: string,
    at: Date,
    record?: (vote: Omit<ApprovalVote, 'request'>) => NewAuditEntry,
    lapsed?: readonly string[],
  ): Promise<ApprovalVote | null>;
  /** Who has approved the request so far (see voteApproval), in the order they voted; [] for none or an unknown id. */
  listVoters(id: string): Promise<string[]>;
  /**
   * Takes the right to carry out an approved request for `leaseMs`: returns it to exactly one caller
   * while no other lease is running, null otherwise (not approved, or another instance holds it). A
   * crashed instance's lease runs out, so a restart can take the request over. `owner` names the
   * claimant (kept as `claimedBy`); with `takeOverFrom`, a lease still running but held by exactly that
   * owner is taken over too (for a holder known to be dead; atomic, so only one caller wins it).
   */
  claimApproval(
    id: string,
    at: Date,
    leaseMs: number,
    owner?: string,
    takeOverFrom?: string,
  ): Promise<ApprovalRequest | null>;
  /**
   * Extends the lease `owner` holds to `at + leaseMs` while it still works (a heartbeat): false when it
   * no longer holds it (the request ended or was announced, or the lease ran out and another instance
   * took it).
   */
  renewClaim(id: string, owner: string, at: Date, leaseMs: number): Promise<boolean>;
  /**
   * After a transient failure: the request stays approved, `owner`'s lease ends, and no claim succeeds
   * before `nextAttemptAt`; `lastError` is kept. Returns the request, or null when `owner` does not hold
   * it or it is no longer approved. Each claim counts one more of its `attempts`.
   */
  deferApproval(
    id: string,
    owner: string,
    nextAttemptAt: Date,
    lastError: string,
  ): Promise<ApprovalRequest | null>;
  /**
   * approved → completed with the action's result, and `record` (the result's audit row) written in the
   * same transaction: if the row cannot be written the call rejects and nothing is completed (no result
   * without its audit row, and a kill cannot come between them). Returns false when the request was not
   * approved (nothing is written). A completed request is unannounced until markAnnounced; the lease of
   * whoever completed it still runs (and renewClaim extends it) while it announces.
   */
  completeApproval(id: string, result: Record<string, unknown>, record: NewAuditEntry): Promise<boolean>;
  /** Completed requests whose announcement (card, thread, requester) was never finished, oldest first. */
  listUnannounced(): Promise<ApprovalRequest[]>;
  /**
   * Takes the right to announce a completed, unannounced request, as claimApproval takes the right to
   * carry one out (a lease, `owner`, `takeOverFrom` for a holder known to be dead): one caller at a time.
   */
  claimAnnouncement(
    id: string,
    at: Date,
    leaseMs: number,
    owner: string,
    takeOverFrom?: string,
  ): Promise<ApprovalRequest | null>;
  /** The completed request's announcement is done: it is no longer listed by listUnannounced. */
  markAnnounced(id: string): Promise<void>;
  /**
   * pending or approved → failed, keeping `{ reason }` as its result: returns the updated request to the
   * one caller that ended it, null otherwise (already decided, completed, failed, or unknown). `record`,
   * the failure's audit row, is written in the same transaction, only by the caller that ends it: if it
   * cannot be written the call rejects and nothing is failed (no failure without its audit row).
   */
  failApproval(id: string, reason: string, record?: NewAuditEntry): Promise<ApprovalRequest | null>;
  /** Marks every pending request whose expiry is at or before `now` as expired and returns them (each once). */
  expireApprovals(now: Date): Promise<ApprovalRequest[]>;
  /** Pending requests, oldest first. */
  listPendingApprovals(): Promise<ApprovalRequest[]>;
  /** Approved but not completed: a crash came between the decision and the result. */
  listApprovedIncomplete(): Promise<ApprovalRequest[]>;
  /**
   * Claims (as claimApproval does, for `leaseMs`) up to `limit` approved scheduled requests whose time
   * is at or before `now` and whose lease is free, in one atomic statement: each is returned to exactly
   * one caller across connections and instances. Soonest first.
   */
  claimDueScheduled(now: Date, leaseMs: number, owner: string, limit: number): Promise<ApprovalRequest[]>;
  /** Scheduled requests still to be carried out (pending or approved), soonest first. */
  listScheduled(): Promise<ApprovalRequest[]>;
  /**
   * pending or approved scheduled request → cancelled by `record.actor` at `record.at`, unless its time
   * has come (`record.at` is at or after it) or an instance holds a running claim on it: returns it to
   * the one caller that cancelled it, null otherwise. `{ cancelledBy, cancelledAt }` is kept as its
   * result (`decidedBy` stays whoever approved it, null when it was still pending). `record`, the
   * cancel's audit row, is written in the same transaction, only by the caller that cancels: if it
   * cannot be written the call rejects and nothing is cancelled.
   */
  cancelScheduled(id: string, record: NewAuditEntry): Promise<ApprovalRequest | null>;
  /**
   * Records a Slack trigger_id as handled at `at`: true for the first caller only, on any connection
   * or instance (one atomic insert), false for a replay. Triggers handled more than a day before `at`
   * are forgotten (Slack refuses requests older than five minutes anyway).
   */
  claimTrigger(triggerId: string, at: Date): Promise<boolean>;
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  listAudit(query?: AuditQuery): Promise<AuditEntry[]>;
  /**
   * Removes the audit entries older than `before` (strictly) in one transaction and says how many; with
   * `dryRun`, only counts them. Nothing is ever pruned unless an operator asks.
   */
  pruneAudit(before: Date, dryRun?: boolean): Promise<number>;
  /**
   * The database server's time now, when the store takes its times from the server (PostgreSQL opened
   * with `clock: 'database'`, as several replicas use it); null when it keeps no clock of its own
   * (SQLite: one machine, one clock). Replicas follow it (see src/store/database-clock.ts).
   */
  databaseTime(): Promise<Date | null>;
  close(): Promise<void>;
}
