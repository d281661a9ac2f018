/**
 * Group (product) access given through the bot, and when it ends (docs/GROUPS.md). A grant is stored
 * once its member was added; a time-bound grant is ended by whichever instance claims it first, exactly
 * once, and its holder is told before the end (pre-expiry notices, each sent once).
 */
import type { NewAuditEntry } from './types';

export type GrantEndReason = 'expired' | 'revoked' | 'done';

export interface Grant {
  id: string;
  /** The approval request that granted it; null when an operator added the member directly. */
  requestId: string | null;
  /** The Atlassian user id of the member, and the user as people read it (email or username). */
  userId: string;
  target: string;
  /** The Slack user who got access, when known: the one told by DM (notices, Extend / I'm done). */
  slackUserId: string | null;
  groupId: string;
  groupName: string;
  grantedBy: string;
  grantedAt: Date;
  /** null: until revoked. */
  endsAt: Date | null;
  /** The thread where the grant's events (result, notices, extension, revocation) are posted. */
  channelId: string | null;
  threadTs: string | null;
  endedAt: Date | null;
  endedBy: string | null;
  endReason: GrantEndReason | null;
  /** Who last claimed its end (claimDueGrantEnds); null when never claimed. */
  claimedBy: string | null;
  /**
   * How many times its end was claimed (claimDueGrantEnds); more than 1: an earlier attempt was cut
   * short (a crash, a kill, a failure), and may have removed the member before it could end the grant.
   */
  endAttempts: number;
}

/** A grant as stored when its member was added: not ended, never claimed, with its notices. */
export interface NewGrant extends Omit<
  Grant,
  'endedAt' | 'endedBy' | 'endReason' | 'claimedBy' | 'endAttempts'
> {
  /** When its holder is told the end is near (the policy's notifyBefore, before `endsAt`); each sent once. */
  noticesAt: readonly Date[];
}

/** How a grant ends (see GrantStore.endGrant): by whom, when, and why. */
export interface GrantEnd {
  by: string;
  at: Date;
  reason: GrantEndReason;
}

export interface GrantQuery {
  slackUserId?: string;
  userId?: string;
  groupId?: string;
  /** true: not ended yet; false: ended. */
  active?: boolean;
  /** Only grants ending strictly before this time (time-bound ones). */
  endingBefore?: Date;
}

export interface DueGrantNotice {
  grant: Grant;
  /** The notice's time, as given in `noticesAt`. */
  dueAt: Date;
}

/** Implemented by both stores and checked by the store contract (test/store/contract.ts). */
export interface GrantStore {
  createGrant(grant: NewGrant): Promise<Grant>;
  getGrant(id: string): Promise<Grant | null>;
  /** Soonest end first; grants without an end last. */
  listGrants(query?: GrantQuery): Promise<Grant[]>;
  /**
   * Claims, for `leaseMs`, up to `limit` active grants whose end is at or before `now` and whose lease is
   * free, in one atomic statement: each returned to exactly one caller across connections and instances,
   * with one more of its `endAttempts` counted.
   */
  claimDueGrantEnds(now: Date, leaseMs: number, owner: string, limit: number): Promise<Grant[]>;
  /**
   * Active → ended (`endedAt`, `endedBy`, `endReason` from `end`): returns the grant to the one caller that ended it,
   * null for every other (already ended, unknown id). `record`, the end's audit row, is written in the
   * same transaction, only by the caller that ends it: if it cannot be written the call rejects and the
   * grant is not ended (no end without its audit row, and a kill cannot come between them).
   */
  endGrant(id: string, end: GrantEnd, record: NewAuditEntry): Promise<Grant | null>;
  /** A new end (an approved Extend) with its own notices; false when the grant has ended meanwhile. */
  extendGrant(id: string, endsAt: Date, noticesAt: readonly Date[]): Promise<boolean>;
  /** Notices of active grants due at or before `now`, each returned once across instances, marked sent. */
  claimDueGrantNotices(now: Date, limit: number): Promise<DueGrantNotice[]>;
}
