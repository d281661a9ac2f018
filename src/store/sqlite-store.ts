import { assertStorable, isStorable } from '../storable-text';
import {
  byDue,
  type ClaimedFollowUp,
  claimedFromRow,
  followUpTexts,
  type FollowUpRow as FollowUpRowOf,
  type NewApprovalFollowUp,
} from './approval-follow-ups';
import { GrantsDelegated } from './grants-delegated';
import { AlreadyOpenError, openRequestKey } from './one-open-request';
import * as Rows from './rows';
import { type SqliteDatabase, writeWhenFree } from './sqlite';
import { SqliteGrants } from './sqlite-grants';
import type {
  ApprovalRequest,
  ApprovalVote,
  ApprovalStatus,
  AuditEntry,
  AuditQuery,
  NewApproval,
  NewAuditEntry,
  Store,
} from './types';

/**
 * Schema migrations, in order: version N is `MIGRATIONS[N - 1]`. Append only; never edit one that has
 * shipped. Dates are ISO-8601 UTC text from `Date.toISOString()` (fixed width, so text order is time
 * order, and millisecond-exact like `Date` itself); JSON columns hold `JSON.stringify` text.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    requester_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    message_ts TEXT,
    profile TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'completed')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    result TEXT
  );
  CREATE INDEX approvals_status_expires ON approvals (status, expires_at);
  CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    command TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    request_id TEXT,
    detail TEXT
  );
  CREATE INDEX audit_log_at ON audit_log (at);
  CREATE INDEX audit_log_target ON audit_log (lower(target));
  `,
  // The lease of the instance carrying out an approved disable (see Store.claimApproval).
  `ALTER TABLE approvals ADD COLUMN claimed_until TEXT;`,
  // Who holds that lease, so a restart can take over a claim whose holder is known to be dead.
  `ALTER TABLE approvals ADD COLUMN claimed_by TEXT;`,
  // 4: what the request carries out (requests stored before are disables), and the status `failed`.
  // SQLite cannot change a CHECK constraint in place, so the table is rebuilt with every column kept.
  `
  CREATE TABLE approvals_v4 (
    id TEXT PRIMARY KEY,
    requester_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    message_ts TEXT,
    action TEXT NOT NULL DEFAULT 'disable' CHECK (action IN ('disable', 'enable', 'update')),
    profile TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL
      CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'completed', 'failed')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    result TEXT,
    claimed_until TEXT,
    claimed_by TEXT
  );
  INSERT INTO approvals_v4 (id, requester_id, channel_id, message_ts, profile, target, reason, status,
    created_at, expires_at, decided_by, decided_at, result, claimed_until, claimed_by)
  SELECT id, requester_id, channel_id, message_ts, profile, target, reason, status,
    created_at, expires_at, decided_by, decided_at, result, claimed_until, claimed_by FROM approvals;
  DROP TABLE approvals;
  ALTER TABLE approvals_v4 RENAME TO approvals;
  CREATE INDEX approvals_status_expires ON approvals (status, expires_at);
  `,
  // Where a request was made, so decisions count only from there; and the Slack trigger_ids already
  // handled, so a replayed command or click does nothing twice (see Store.claimTrigger).
  `
  ALTER TABLE approvals ADD COLUMN team_id TEXT;
  ALTER TABLE approvals ADD COLUMN enterprise_id TEXT;
  CREATE TABLE slack_triggers (trigger_id TEXT PRIMARY KEY, handled_at TEXT NOT NULL);
  CREATE INDEX slack_triggers_handled_at ON slack_triggers (handled_at);
  `,
  // 6: scheduled requests (when, and the zone it was given in) and the status `cancelled`; the table is
  // rebuilt for the CHECK constraint, every column kept.
  `
  CREATE TABLE approvals_v6 (
    id TEXT PRIMARY KEY,
    requester_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    message_ts TEXT,
    action TEXT NOT NULL DEFAULT 'disable' CHECK (action IN ('disable', 'enable', 'update')),
    profile TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL
      CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'completed', 'failed', 'cancelled')),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    result TEXT,
    claimed_until TEXT,
    claimed_by TEXT,
    team_id TEXT,
    enterprise_id TEXT,
    scheduled_at TEXT,
    schedule_zone TEXT
  );
  INSERT INTO approvals_v6 (id, requester_id, channel_id, message_ts, action, profile, target, reason, status,
    created_at, expires_at, decided_by, decided_at, result, claimed_until, claimed_by, team_id, enterprise_id)
  SELECT id, requester_id, channel_id, message_ts, action, profile, target, reason, status,
    created_at, expires_at, decided_by, decided_at, result, claimed_until, claimed_by, team_id, enterprise_id
  FROM approvals;
  DROP TABLE approvals;
  ALTER TABLE approvals_v6 RENAME TO approvals;
  CREATE INDEX approvals_status_expires ON approvals (status, expires_at);
  CREATE INDEX approvals_status_scheduled ON approvals (status, scheduled_at);
  `,
  // 7: approved work retried after a transient Atlassian failure (see Store.deferApproval): how many
  // times it was claimed (a request claimed before this version counts once), when to try next, why.
  `
  ALTER TABLE approvals ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE approvals ADD COLUMN next_attempt_at TEXT;
  ALTER TABLE approvals ADD COLUMN last_error TEXT;
  UPDATE approvals SET attempts = 1 WHERE claimed_by IS NOT NULL;
  `,
  // Reminders and escalations of pending requests, each sent once (see Store.claimDueFollowUps).
  `
  CREATE TABLE approval_follow_ups (
    request_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('remind', 'escalate')),
    n INTEGER NOT NULL,
    due_at TEXT NOT NULL,
    notify TEXT NOT NULL,
    sent_at TEXT,
    sent_by TEXT,
    PRIMARY KEY (request_id, kind, n)
  );
  CREATE INDEX approval_follow_ups_due ON approval_follow_ups (due_at) WHERE sent_at IS NULL;
  `,
  // Grants of group access (src/store/grants.ts) with their pre-expiry notices, and the action `grant`.
  // The action column is replaced (renamed, added again with the new CHECK, copied, dropped) instead of
  // the table being rebuilt, so this step names no other column and keeps whatever columns exist.
  `
  ALTER TABLE approvals RENAME COLUMN action TO action_before_grants;
  ALTER TABLE approvals ADD COLUMN action TEXT NOT NULL DEFAULT 'disable'
    CHECK (action IN ('disable', 'enable', 'update', 'grant'));
  UPDATE approvals SET action = action_before_grants;
  ALTER TABLE approvals DROP COLUMN action_before_grants;
  CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    request_id TEXT,
    user_id TEXT NOT NULL,
    target TEXT NOT NULL,
    slack_user_id TEXT,
    group_id TEXT NOT NULL,
    group_name TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    ends_at TEXT,
    channel_id TEXT,
    thread_ts TEXT,
    ended_at TEXT,
    ended_by TEXT,
    end_reason TEXT CHECK (end_reason IN ('expired', 'revoked', 'done')),
    claimed_until TEXT,
    claimed_by TEXT
  );
  CREATE INDEX grants_active_ends ON grants (ended_at, ends_at);
  CREATE INDEX grants_slack_user ON grants (slack_user_id);
  CREATE TABLE grant_notices (
    grant_id TEXT NOT NULL REFERENCES grants (id),
    due_at TEXT NOT NULL,
    sent_at TEXT
  );
  CREATE INDEX grant_notices_grant ON grant_notices (grant_id);
  CREATE INDEX grant_notices_unsent ON grant_notices (sent_at, due_at);
  `,
  // The approval rule each request was made under (null: stored before, the built-in one-approver
  // rule), and each approver's vote, one row per voter (see Store.voteApproval).
  `
  ALTER TABLE approvals ADD COLUMN policy_rule TEXT;
  CREATE TABLE approval_votes (
    request_id TEXT NOT NULL,
    voter_id TEXT NOT NULL,
    voted_at TEXT NOT NULL,
    PRIMARY KEY (request_id, voter_id)
  );
  `,
  // 11: a completed request whose announcement (card, thread, requester) is still to be made, so a restart
  // finds what a crash completed but never told (see Store.listUnannounced); 1 from completion to markAnnounced.
  `
  ALTER TABLE approvals ADD COLUMN unannounced INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX approvals_unannounced ON approvals (created_at) WHERE unannounced = 1;
  `,
  // The action `create` (src/iam/approval-plan.ts): the action column replaced as for `grant` above.
  `
  ALTER TABLE approvals RENAME COLUMN action TO action_before_create;
  ALTER TABLE approvals ADD COLUMN action TEXT NOT NULL DEFAULT 'disable'
    CHECK (action IN ('disable', 'enable', 'update', 'grant', 'create'));
  UPDATE approvals SET action = action_before_create;
  ALTER TABLE approvals DROP COLUMN action_before_create;
  `,
  // How many times a grant's end was claimed (see GrantStore.claimDueGrantEnds), so a sweep that finds
  // the member gone after our own cut-short attempt reports the removal; a grant claimed before counts once.
  `
  ALTER TABLE grants ADD COLUMN end_attempts INTEGER NOT NULL DEFAULT 0;
  UPDATE grants SET end_attempts = 1 WHERE claimed_by IS NOT NULL;
  `,
  // 14: one open (pending or approved) schedule per user and one Extend per grant (one-open-request.ts):
  // the key under a partial unique index. Of requests stored before with one key, only the oldest open
  // one keeps it (the others still run as before), so a database holding two still migrates.
  `
  ALTER TABLE approvals ADD COLUMN open_key TEXT;
  UPDATE approvals SET open_key = CASE
      WHEN scheduled_at IS NOT NULL THEN 'schedule:' || json_extract(profile, '$.id')
      WHEN action = 'grant' THEN 'extend:' || json_extract(profile, '$.extends')
    END
  WHERE status IN ('pending', 'approved') AND json_valid(profile);
  UPDATE approvals SET open_key = NULL WHERE open_key IS NOT NULL AND EXISTS (
    SELECT 1 FROM approvals AS older WHERE older.open_key = approvals.open_key
      AND (older.created_at < approvals.created_at
        OR (older.created_at = approvals.created_at AND older.id < approvals.id)));
  CREATE UNIQUE INDEX approvals_open_key ON approvals (open_key) WHERE status IN ('pending', 'approved');
  `,
];

const DEFAULT_AUDIT_LIMIT = 100;

type ApprovalRow = Rows.ApprovalRow<string, string>;
type AuditRow = Rows.AuditRow<string, string, number>;
type FollowUpRow = FollowUpRowOf<string, string>;

const iso = (date: Date): string => date.toISOString();
/** SQLite keeps times as ISO-8601 text and JSON as text. */
const decode: Rows.RowDecoder<string, string> = {
  time: (text) => new Date(text),
  json: (text) => JSON.parse(text) as Record<string, unknown>,
};
const toApproval = (row: ApprovalRow): ApprovalRequest => Rows.approvalFromRow(row, decode);
const toAudit = (row: AuditRow): AuditEntry => Rows.auditFromRow(row, decode);
const byCreation = Rows.byCreation;

const checkedAudit = (entry: NewAuditEntry): NewAuditEntry => {
  assertStorable(Rows.auditTexts(entry));
  return entry;
};

/**
 * Applies the missing migrations in one write-locked (BEGIN IMMEDIATE) transaction, so two processes
 * opening a new file at once cannot both apply the same version. Refuses a database whose schema is
 * newer than this program knows.
 */
export function migrate(db: SqliteDatabase): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)');
    const applied = new Set(
      db
        .prepare<[], { version: number }>('SELECT version FROM schema_migrations')
        .all()
        .map((r) => r.version),
    );
    const newest = Math.max(0, ...applied);
    if (newest > MIGRATIONS.length) {
      throw new Error(
        `The database schema is version ${newest}, newer than this program supports (${MIGRATIONS.length}).`,
      );
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
    MIGRATIONS.forEach((sql, index) => {
      const version = index + 1;
      if (applied.has(version)) return;
      db.exec(sql);
      record.run(version, iso(new Date()));
    });
  }).immediate();
}

/**
 * The store on SQLite. Every state change is one conditional UPDATE (… RETURNING), so it is atomic and
 * exactly-once across connections and processes sharing the file; there is never a read-then-write.
 * Every write runs in its own transaction (see `write`), so a failing COMMIT is an error, never a row
 * claimed but not stored. Methods are async to honour the `Store` contract, though better-sqlite3 runs
 * them synchronously.
 */
export class SqliteStore extends GrantsDelegated implements Store {
  private readonly sql;
  protected readonly grants: SqliteGrants;

  /**
   * Takes ownership of `db` (from `openSqlite`): creates or migrates the schema; close() closes it.
   * Longer than 50 lines: one prepared statement per store operation, so the SQL reads as one table.
   */
  constructor(private readonly db: SqliteDatabase) {
    super();
    migrate(db);
    this.grants = new SqliteGrants(db, {
      write: (work) => this.write(work),
      insertAudit: (entry) => this.insertAudit(entry),
    });
    this.sql = {
      insertApproval: db.prepare<Record<string, string | null>, ApprovalRow>(
        `INSERT INTO approvals (id, action, requester_id, channel_id, team_id, enterprise_id, profile, target,
           reason, status, created_at, expires_at, scheduled_at, schedule_zone, decided_by, decided_at, policy_rule,
           open_key)
         VALUES (@id, @action, @requesterId, @channelId, @teamId, @enterpriseId, @profile, @target, @reason,
           @status, @createdAt, @expiresAt, @scheduledAt, @scheduleZone, @decidedBy, @decidedAt, @policyRule,
           @openKey)
         RETURNING *`,
      ),
      openWithKey: db.prepare<[string], ApprovalRow>(
        `SELECT * FROM approvals WHERE open_key = ? AND status IN ('pending', 'approved')`,
      ),
      getApproval: db.prepare<[string], ApprovalRow>('SELECT * FROM approvals WHERE id = ?'),
      setMessage: db.prepare<[string, string, string]>(
        'UPDATE approvals SET channel_id = ?, message_ts = ? WHERE id = ?',
      ),
      decide: db.prepare<[string, string, string, string, string], ApprovalRow>(
        `UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?
         WHERE id = ? AND status = 'pending' AND expires_at > ? RETURNING *`,
      ),
      pendingApproval: db.prepare<[string, string], ApprovalRow>(
        "SELECT * FROM approvals WHERE id = ? AND status = 'pending' AND expires_at > ?",
      ),
      insertVote: db.prepare<[string, string, string]>(
        `INSERT INTO approval_votes (request_id, voter_id, voted_at) VALUES (?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      dropVote: db.prepare<[string, string]>(
        'DELETE FROM approval_votes WHERE request_id = ? AND voter_id = ?',
      ),
      voters: db.prepare<[string], { voter_id: string }>(
        'SELECT voter_id FROM approval_votes WHERE request_id = ? ORDER BY voted_at, rowid',
      ),
      // A scheduled request is not claimed before its time, nor a deferred one before its next attempt.
      claim: db.prepare<[string, string | null, string, string, string, string | null, string], ApprovalRow>(
        `UPDATE approvals SET claimed_until = ?, claimed_by = ?, attempts = attempts + 1
         WHERE id = ? AND status = 'approved' AND (scheduled_at IS NULL OR scheduled_at <= ?)
           AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?)
           AND (next_attempt_at IS NULL OR next_attempt_at <= ?) RETURNING *`,
      ),
      renew: db.prepare<[string, string, string]>(
        `UPDATE approvals SET claimed_until = ?
         WHERE id = ? AND (status = 'approved' OR unannounced = 1) AND claimed_by = ?`,
      ),
      defer: db.prepare<[string, string, string, string], ApprovalRow>(
        `UPDATE approvals SET next_attempt_at = ?, last_error = ?, claimed_until = NULL
         WHERE id = ? AND status = 'approved' AND claimed_by = ? RETURNING *`,
      ),
      complete: db.prepare<[string, string]>(
        `UPDATE approvals SET status = 'completed', result = ?, unannounced = 1
         WHERE id = ? AND status = 'approved'`,
      ),
      listUnannounced: db.prepare<[], ApprovalRow>(
        'SELECT * FROM approvals WHERE unannounced = 1 ORDER BY created_at, id',
      ),
      claimAnnouncement: db.prepare<[string, string, string, string, string | null], ApprovalRow>(
        `UPDATE approvals SET claimed_until = ?, claimed_by = ?
         WHERE id = ? AND unannounced = 1 AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?)
         RETURNING *`,
      ),
      markAnnounced: db.prepare<[string]>('UPDATE approvals SET unannounced = 0 WHERE id = ?'),
      fail: db.prepare<[string, string], ApprovalRow>(
        `UPDATE approvals SET status = 'failed', result = ?
         WHERE id = ? AND status IN ('pending', 'approved') RETURNING *`,
      ),
      expire: db.prepare<[string], ApprovalRow>(
        "UPDATE approvals SET status = 'expired' WHERE status = 'pending' AND expires_at <= ? RETURNING *",
      ),
      listByStatus: db.prepare<[ApprovalStatus], ApprovalRow>(
        'SELECT * FROM approvals WHERE status = ? ORDER BY created_at, id',
      ),
      claimDue: db.prepare<[string, string, string, string, string, number], ApprovalRow>(
        `UPDATE approvals SET claimed_until = ?, claimed_by = ?, attempts = attempts + 1
         WHERE id IN (
           SELECT id FROM approvals
           WHERE status = 'approved' AND scheduled_at IS NOT NULL AND scheduled_at <= ?
             AND (claimed_until IS NULL OR claimed_until <= ?)
             AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
           ORDER BY scheduled_at, id LIMIT ?)
         RETURNING *`,
      ),
      listScheduled: db.prepare<[], ApprovalRow>(
        `SELECT * FROM approvals WHERE status IN ('pending', 'approved') AND scheduled_at IS NOT NULL
         ORDER BY scheduled_at, id`,
      ),
      cancel: db.prepare<[string, string, string, string], ApprovalRow>(
        `UPDATE approvals SET status = 'cancelled', result = ?
         WHERE id = ? AND status IN ('pending', 'approved') AND scheduled_at > ?
           AND (claimed_until IS NULL OR claimed_until <= ?) RETURNING *`,
      ),
      forgetTriggers: db.prepare<[string]>('DELETE FROM slack_triggers WHERE handled_at < ?'),
      insertTrigger: db.prepare<[string, string]>(
        'INSERT INTO slack_triggers (trigger_id, handled_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
      ),
      insertFollowUp: db.prepare<[string, string, number, string, string]>(
        `INSERT INTO approval_follow_ups (request_id, kind, n, due_at, notify) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      // Of requests pending and unexpired at `now`; the write lock keeps other connections out meanwhile.
      claimFollowUps: db.prepare<[string, string, string, string, number], FollowUpRow>(
        `UPDATE approval_follow_ups SET sent_at = ?, sent_by = ?
         WHERE sent_at IS NULL AND (request_id, kind, n) IN (
           SELECT f.request_id, f.kind, f.n FROM approval_follow_ups f JOIN approvals a ON a.id = f.request_id
           WHERE f.sent_at IS NULL AND f.due_at <= ? AND a.status = 'pending' AND a.expires_at > ?
           ORDER BY f.due_at, f.request_id, f.kind, f.n LIMIT ?)
         RETURNING *`,
      ),
      insertAudit: db.prepare<Record<string, string | null>, AuditRow>(
        `INSERT INTO audit_log (at, actor, source, kind, command, target, outcome, request_id, detail)
         VALUES (@at, @actor, @source, @kind, @command, @target, @outcome, @requestId, @detail)
         RETURNING *`,
      ),
    };
  }

  /**
   * Runs a write in a write-locked transaction. Outside one, `.get()` on `… RETURNING` hands back the
   * row and better-sqlite3 drops the error of the implicit COMMIT that follows (a full disk: the row is
   * not stored and nobody is told); here COMMIT is a statement of its own and its failure throws.
   * Another process's lock is waited for without holding the event loop (writeWhenFree).
   */
  private write<T>(work: () => T): Promise<T> {
    return writeWhenFree(this.db, () => this.db.transaction(work).immediate());
  }

  async createApproval(request: NewApproval): Promise<ApprovalRequest> {
    assertStorable(Rows.approvalTexts(request));
    const openKey = openRequestKey(request);
    let stored: { row?: ApprovalRow; open?: ApprovalRow };
    try {
      // The write lock makes the look and the insert one step; the unique index backs it up.
      stored = await this.write(() => {
        const open = openKey === null ? undefined : this.sql.openWithKey.get(openKey);
        return open ? { open } : { row: this.sql.insertApproval.get(this.approvalParams(request, openKey)) };
      });
    } catch (error) {
      // Rethrown as our own Error: callers (and tests) should not depend on the driver's error class.
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new Error(`An approval request with id ${request.id} already exists.`);
      }
      throw error;
    }
    if (stored.open) throw new AlreadyOpenError(toApproval(stored.open));
    if (!stored.row) throw new Error(`The approval request ${request.id} was not stored.`);
    return toApproval(stored.row);
  }

  private approvalParams(request: NewApproval, openKey: string | null): Record<string, string | null> {
    return {
      id: request.id,
      action: request.action,
      requesterId: request.requesterId,
      channelId: request.channelId,
      teamId: request.teamId,
      enterpriseId: request.enterpriseId,
      profile: JSON.stringify(request.profile),
      target: request.target,
      reason: request.reason,
      createdAt: iso(request.createdAt),
      expiresAt: iso(request.expiresAt),
      policyRule: request.rule ? JSON.stringify(request.rule) : null,
      openKey,
      ...Rows.scheduleColumns(request),
    };
  }

  async getApproval(id: string): Promise<ApprovalRequest | null> {
    if (!isStorable(id)) return null; // no row can hold such an id
    const row = this.sql.getApproval.get(id);
    return row ? toApproval(row) : null;
  }

  async setApprovalMessage(id: string, channelId: string, messageTs: string): Promise<void> {
    assertStorable({ channelId, messageTs });
    if (!isStorable(id)) return;
    await this.write(() => this.sql.setMessage.run(channelId, messageTs, id));
  }

  async decideApproval(
    id: string,
    decision: 'approved' | 'denied',
    deciderId: string,
    at: Date,
    record?: NewAuditEntry,
  ): Promise<ApprovalRequest | null> {
    assertStorable({ deciderId });
    if (record) assertStorable(Rows.auditTexts(record));
    if (!isStorable(id)) return null;
    const when = iso(at);
    // One statement: only the caller whose UPDATE changed the row gets it back; its audit row in the
    // same transaction, so a row that cannot be written undoes the decision.
    const row = await this.write(() => {
      const decided = this.sql.decide.get(decision, deciderId, when, id, when);
      if (decided && record) this.insertAudit(record);
      return decided;
    });
    return row ? toApproval(row) : null;
  }

  async voteApproval(
    id: string,
    voterId: string,
    at: Date,
    record?: (vote: Omit<ApprovalVote, 'request'>) => NewAuditEntry,
    lapsed?: readonly string[],
  ): Promise<ApprovalVote | null> {
    assertStorable({ voterId });
    if (!isStorable(id)) return null;
    const when = iso(at);
    const left = Rows.lapsedOf(lapsed, voterId);
    // One write-locked transaction: the vote, the lapsed votes dropped, the tally, the decision and the
    // audit row, or none of them.
    return this.write(() => {
      const row = this.sql.pendingApproval.get(id, when);
      if (!row) return null;
      const counted = this.sql.insertVote.run(id, voterId, when).changes === 1;
      if (counted) for (const voter of left) this.sql.dropVote.run(id, voter);
      const voters = this.sql.voters.all(id).map((v) => v.voter_id);
      const vote = Rows.tallyVote(toApproval(row), voters, counted, left);
      if (!counted) return { ...vote, request: toApproval(row) };
      const decided = vote.decided ? this.sql.decide.get('approved', voterId, when, id, when) : row;
      if (!decided) throw new Error(`The approval request ${id} could not be approved.`);
      if (record) this.insertAudit(checkedAudit(record(vote)));
      return { ...vote, request: toApproval(decided) };
    });
  }

  async listVoters(id: string): Promise<string[]> {
    if (!isStorable(id)) return [];
    return this.sql.voters.all(id).map((v) => v.voter_id);
  }

  async claimApproval(
    id: string,
    at: Date,
    leaseMs: number,
    owner?: string,
    takeOverFrom?: string,
  ): Promise<ApprovalRequest | null> {
    assertStorable({ owner, takeOverFrom });
    if (!isStorable(id)) return null;
    const until = iso(new Date(at.getTime() + leaseMs));
    const now = iso(at);
    const row = await this.write(() =>
      this.sql.claim.get(until, owner ?? null, id, now, now, takeOverFrom ?? null, now),
    );
    return row ? toApproval(row) : null;
  }

  async renewClaim(id: string, owner: string, at: Date, leaseMs: number): Promise<boolean> {
    if (!isStorable(id) || !isStorable(owner)) return false;
    const until = iso(new Date(at.getTime() + leaseMs));
    return this.write(() => this.sql.renew.run(until, id, owner).changes === 1);
  }

  async deferApproval(
    id: string,
    owner: string,
    nextAttemptAt: Date,
    lastError: string,
  ): Promise<ApprovalRequest | null> {
    const texts = Rows.deferralTexts(id, owner, lastError);
    if (texts === null) return null;
    const row = await this.write(() => this.sql.defer.get(iso(nextAttemptAt), texts.error, id, owner));
    return row ? toApproval(row) : null;
  }

  async completeApproval(
    id: string,
    result: Record<string, unknown>,
    record: NewAuditEntry,
  ): Promise<boolean> {
    assertStorable(Rows.auditTexts(record));
    if (!isStorable(id)) return false;
    // One transaction: a row that cannot be written undoes the completion.
    return this.write(() => {
      const completed = this.sql.complete.run(JSON.stringify(result), id).changes === 1;
      if (completed) this.insertAudit(record);
      return completed;
    });
  }

  async listUnannounced(): Promise<ApprovalRequest[]> {
    return this.sql.listUnannounced.all().map(toApproval);
  }

  async claimAnnouncement(
    id: string,
    at: Date,
    leaseMs: number,
    owner: string,
    takeOverFrom?: string,
  ): Promise<ApprovalRequest | null> {
    assertStorable({ owner, takeOverFrom });
    if (!isStorable(id)) return null;
    const until = iso(new Date(at.getTime() + leaseMs));
    const row = await this.write(() =>
      this.sql.claimAnnouncement.get(until, owner, id, iso(at), takeOverFrom ?? null),
    );
    return row ? toApproval(row) : null;
  }

  async markAnnounced(id: string): Promise<void> {
    if (!isStorable(id)) return;
    await this.write(() => this.sql.markAnnounced.run(id));
  }

  async failApproval(id: string, reason: string, record?: NewAuditEntry): Promise<ApprovalRequest | null> {
    if (record) assertStorable(Rows.auditTexts(record));
    if (!isStorable(id)) return null;
    // One transaction, as decideApproval: only the caller that ended it writes the row, or nothing is ended.
    const row = await this.write(() => {
      const failed = this.sql.fail.get(JSON.stringify({ reason }), id);
      if (failed && record) this.insertAudit(record);
      return failed;
    });
    return row ? toApproval(row) : null;
  }

  async expireApprovals(now: Date): Promise<ApprovalRequest[]> {
    const rows = await this.write(() => this.sql.expire.all(iso(now)));
    return rows.map(toApproval).sort(byCreation);
  }

  async listPendingApprovals(): Promise<ApprovalRequest[]> {
    return this.sql.listByStatus.all('pending').map(toApproval);
  }

  async listApprovedIncomplete(): Promise<ApprovalRequest[]> {
    return this.sql.listByStatus.all('approved').map(toApproval);
  }

  async claimDueScheduled(
    now: Date,
    leaseMs: number,
    owner: string,
    limit: number,
  ): Promise<ApprovalRequest[]> {
    assertStorable({ owner });
    const until = iso(new Date(now.getTime() + leaseMs));
    // One statement, in a write-locked transaction: no other connection can claim the same rows.
    const rows = await this.write(() =>
      this.sql.claimDue.all(until, owner, iso(now), iso(now), iso(now), limit),
    );
    return rows.map(toApproval).sort(Rows.bySchedule);
  }

  async listScheduled(): Promise<ApprovalRequest[]> {
    return this.sql.listScheduled.all().map(toApproval);
  }

  async cancelScheduled(id: string, record: NewAuditEntry): Promise<ApprovalRequest | null> {
    assertStorable(Rows.auditTexts(record));
    if (!isStorable(id)) return null;
    const when = iso(record.at);
    const result = JSON.stringify({ cancelledBy: record.actor, cancelledAt: when });
    // One transaction, as decideApproval: only the caller that cancelled it writes the row, or nothing is cancelled.
    const row = await this.write(() => {
      const cancelled = this.sql.cancel.get(result, id, when, when);
      if (cancelled) this.insertAudit(record);
      return cancelled;
    });
    return row ? toApproval(row) : null;
  }

  async claimTrigger(triggerId: string, at: Date): Promise<boolean> {
    assertStorable({ triggerId });
    // One transaction (one commit to disk): forget the old triggers, then insert unless already there.
    return this.write(() => {
      this.sql.forgetTriggers.run(iso(new Date(at.getTime() - Rows.TRIGGER_MEMORY_MS)));
      return this.sql.insertTrigger.run(triggerId, iso(at)).changes === 1;
    });
  }

  async addFollowUps(followUps: readonly NewApprovalFollowUp[]): Promise<void> {
    for (const followUp of followUps) assertStorable(followUpTexts(followUp));
    await this.write(() => {
      for (const f of followUps) {
        this.sql.insertFollowUp.run(f.requestId, f.kind, f.n, iso(f.dueAt), JSON.stringify(f.notify));
      }
    });
  }

  async claimDueFollowUps(now: Date, owner: string, limit: number): Promise<ClaimedFollowUp[]> {
    assertStorable({ owner });
    const claimed = await this.write(() =>
      this.sql.claimFollowUps.all(iso(now), owner, iso(now), iso(now), limit).map((row) => {
        const request = this.sql.getApproval.get(row.request_id);
        if (!request) throw new Error(`The approval request ${row.request_id} is gone.`);
        return claimedFromRow(row, decode, toApproval(request));
      }),
    );
    return claimed.sort(byDue);
  }

  /** Inserts an audit row; call inside `write`. */
  private insertAudit(entry: NewAuditEntry): AuditRow {
    const row = this.sql.insertAudit.get({
      at: iso(entry.at),
      actor: entry.actor,
      source: entry.source,
      kind: entry.kind,
      command: entry.command,
      target: entry.target,
      outcome: entry.outcome,
      requestId: entry.requestId,
      detail: entry.detail === null ? null : JSON.stringify(entry.detail),
    });
    if (!row) throw new Error('The audit entry was not stored.');
    return row;
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    assertStorable(Rows.auditTexts(entry));
    return toAudit(await this.write(() => this.insertAudit(entry)));
  }

  async listAudit(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`The audit limit must be a whole number of at least 0, not ${limit}.`);
    }
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.since !== undefined) {
      where.push('at >= ?');
      params.push(iso(query.since));
    }
    if (query.before !== undefined) {
      where.push('at < ?');
      params.push(iso(query.before));
    }
    if (query.target !== undefined) {
      if (!isStorable(query.target)) return []; // no row can hold such a target
      // The same lower() on both sides, so the audit_log_target index applies (SQLite folds ASCII only).
      where.push('lower(target) = lower(?)');
      params.push(query.target);
    }
    if (query.group !== undefined) {
      if (!isStorable(query.group)) return [];
      // detail is always JSON text written by appendAudit (or NULL, which json_extract leaves NULL).
      where.push("lower(json_extract(detail, '$.group')) = lower(?)");
      params.push(query.group);
    }
    if (typeof query.writtenBefore === 'number') {
      where.push('id < ?');
      params.push(query.writtenBefore);
    }
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const order = query.writtenBefore === undefined ? 'at DESC, id DESC' : 'id DESC';
    return this.db
      .prepare<(string | number)[], AuditRow>(`SELECT * FROM audit_log ${filter} ORDER BY ${order} LIMIT ?`)
      .all(...params, limit)
      .map(toAudit);
  }

  async pruneAudit(before: Date, dryRun = false): Promise<number> {
    const cutoff = iso(before);
    if (dryRun) {
      return this.db
        .prepare<[string], { n: number }>('SELECT count(*) AS n FROM audit_log WHERE at < ?')
        .get(cutoff)!.n;
    }
    return this.write(
      () => this.db.prepare<[string]>('DELETE FROM audit_log WHERE at < ?').run(cutoff).changes,
    );
  }

  async databaseTime(): Promise<Date | null> {
    return null;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
