import { Client, type ClientBase, Pool, type PoolClient, type PoolConfig, type QueryResult } from 'pg';
import { assertStorable, isStorable } from '../storable-text';
import { redact } from '../log';
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
import { auditParams, insertAudit, withAuditRow } from './postgres-audit';
import { PostgresGrants } from './postgres-grants';
import * as Rows from './rows';
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
 * shipped. Times are `timestamptz` (microsecond precision, so a `Date` round-trips to the millisecond);
 * JSON columns are `json`, which keeps the text as written (jsonb would refuse `\u0000`, which
 * `JSON.stringify` produces for a NUL in a profile value). The versions are this backend's own: the
 * SQLite schema reached the same shape in two steps.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE approvals (
    id text PRIMARY KEY,
    requester_id text NOT NULL,
    channel_id text NOT NULL,
    message_ts text,
    profile json NOT NULL,
    target text NOT NULL,
    reason text,
    status text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'completed')),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    decided_by text,
    decided_at timestamptz,
    result json,
    claimed_until timestamptz
  );
  CREATE INDEX approvals_status_expires ON approvals (status, expires_at);
  CREATE TABLE audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    source text NOT NULL,
    kind text NOT NULL,
    command text NOT NULL,
    target text,
    outcome text NOT NULL,
    request_id text,
    detail json
  );
  CREATE INDEX audit_log_at ON audit_log (at);
  CREATE INDEX audit_log_target ON audit_log (lower(target));
  CREATE INDEX audit_log_request ON audit_log (request_id);
  `,
  // Who holds the lease, so a restart can take over a claim whose holder is known to be dead.
  `ALTER TABLE approvals ADD COLUMN claimed_by text;`,
  // 3: what the request carries out (requests stored before are disables), and the status `failed`.
  `
  ALTER TABLE approvals ADD COLUMN action text NOT NULL DEFAULT 'disable'
    CHECK (action IN ('disable', 'enable', 'update'));
  ALTER TABLE approvals DROP CONSTRAINT approvals_status_check;
  ALTER TABLE approvals ADD CONSTRAINT approvals_status_check
    CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'completed', 'failed'));
  `,
  // Where a request was made, so decisions count only from there; and the Slack trigger_ids already
  // handled, so a replayed command or click does nothing twice (see Store.claimTrigger).
  `
  ALTER TABLE approvals ADD COLUMN team_id text;
  ALTER TABLE approvals ADD COLUMN enterprise_id text;
  CREATE TABLE slack_triggers (trigger_id text PRIMARY KEY, handled_at timestamptz NOT NULL);
  CREATE INDEX slack_triggers_handled_at ON slack_triggers (handled_at);
  `,
  // 5: scheduled requests (when, and the zone it was given in) and the status `cancelled`.
  `
  ALTER TABLE approvals ADD COLUMN scheduled_at timestamptz;
  ALTER TABLE approvals ADD COLUMN schedule_zone text;
  ALTER TABLE approvals DROP CONSTRAINT approvals_status_check;
  ALTER TABLE approvals ADD CONSTRAINT approvals_status_check
    CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'completed', 'failed', 'cancelled'));
  CREATE INDEX approvals_status_scheduled ON approvals (status, scheduled_at);
  `,
  // 6: approved work retried after a transient Atlassian failure (see Store.deferApproval): how many
  // times it was claimed (a request claimed before this version counts once), when to try next, why.
  `
  ALTER TABLE approvals ADD COLUMN attempts integer NOT NULL DEFAULT 0;
  ALTER TABLE approvals ADD COLUMN next_attempt_at timestamptz;
  ALTER TABLE approvals ADD COLUMN last_error text;
  UPDATE approvals SET attempts = 1 WHERE claimed_by IS NOT NULL;
  `,
  // Reminders and escalations of pending requests, each sent once (see Store.claimDueFollowUps).
  `
  CREATE TABLE approval_follow_ups (
    request_id text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('remind', 'escalate')),
    n integer NOT NULL,
    due_at timestamptz NOT NULL,
    notify json NOT NULL,
    sent_at timestamptz,
    sent_by text,
    PRIMARY KEY (request_id, kind, n)
  );
  CREATE INDEX approval_follow_ups_due ON approval_follow_ups (due_at) WHERE sent_at IS NULL;
  `,
  // Grants of group access (src/store/grants.ts) with their pre-expiry notices, and the action `grant`.
  `
  ALTER TABLE approvals DROP CONSTRAINT approvals_action_check;
  ALTER TABLE approvals ADD CONSTRAINT approvals_action_check
    CHECK (action IN ('disable', 'enable', 'update', 'grant'));
  CREATE TABLE grants (
    id text PRIMARY KEY,
    request_id text,
    user_id text NOT NULL,
    target text NOT NULL,
    slack_user_id text,
    group_id text NOT NULL,
    group_name text NOT NULL,
    granted_by text NOT NULL,
    granted_at timestamptz NOT NULL,
    ends_at timestamptz,
    channel_id text,
    thread_ts text,
    ended_at timestamptz,
    ended_by text,
    end_reason text CHECK (end_reason IN ('expired', 'revoked', 'done')),
    claimed_until timestamptz,
    claimed_by text
  );
  CREATE INDEX grants_active_ends ON grants (ends_at) WHERE ended_at IS NULL;
  CREATE INDEX grants_slack_user ON grants (slack_user_id);
  CREATE TABLE grant_notices (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    grant_id text NOT NULL REFERENCES grants (id),
    due_at timestamptz NOT NULL,
    sent_at timestamptz
  );
  CREATE INDEX grant_notices_grant ON grant_notices (grant_id);
  CREATE INDEX grant_notices_unsent ON grant_notices (due_at) WHERE sent_at IS NULL;
  `,
  // The approval rule each request was made under (null: stored before, the built-in one-approver
  // rule), and each approver's vote, one row per voter (see Store.voteApproval).
  `
  ALTER TABLE approvals ADD COLUMN policy_rule json;
  CREATE TABLE approval_votes (
    request_id text NOT NULL,
    voter_id text NOT NULL,
    voted_at timestamptz NOT NULL,
    PRIMARY KEY (request_id, voter_id)
  );
  `,
  // 10: a completed request whose announcement (card, thread, requester) is still to be made, so a restart
  // finds what a crash completed but never told (see Store.listUnannounced); true from completion to markAnnounced.
  `
  ALTER TABLE approvals ADD COLUMN unannounced boolean NOT NULL DEFAULT false;
  CREATE INDEX approvals_unannounced ON approvals (created_at) WHERE unannounced;
  `,
  // The action `create` (src/iam/approval-plan.ts).
  `
  ALTER TABLE approvals DROP CONSTRAINT approvals_action_check;
  ALTER TABLE approvals ADD CONSTRAINT approvals_action_check
    CHECK (action IN ('disable', 'enable', 'update', 'grant', 'create'));
  `,
  // How many times a grant's end was claimed (see GrantStore.claimDueGrantEnds), so a sweep that finds
  // the member gone after our own cut-short attempt reports the removal; a grant claimed before counts once.
  `
  ALTER TABLE grants ADD COLUMN end_attempts integer NOT NULL DEFAULT 0;
  UPDATE grants SET end_attempts = 1 WHERE claimed_by IS NOT NULL;
  `,
  // 13: one open (pending or approved) schedule per user and one Extend per grant (one-open-request.ts):
  // the key under a partial unique index. Of requests stored before with one key, only the oldest open
  // one keeps it (the others still run as before), so a database holding two still migrates.
  `
  ALTER TABLE approvals ADD COLUMN open_key text;
  UPDATE approvals SET open_key = CASE
      WHEN scheduled_at IS NOT NULL THEN 'schedule:' || (profile->>'id')
      WHEN action = 'grant' THEN 'extend:' || (profile->>'extends')
    END
  WHERE status IN ('pending', 'approved');
  UPDATE approvals SET open_key = NULL WHERE open_key IS NOT NULL AND EXISTS (
    SELECT 1 FROM approvals AS older WHERE older.open_key = approvals.open_key
      AND (older.created_at < approvals.created_at
        OR (older.created_at = approvals.created_at AND older.id < approvals.id)));
  CREATE UNIQUE INDEX approvals_open_key ON approvals (open_key) WHERE status IN ('pending', 'approved');
  `,
];

/**
 * The key of the transaction-level advisory lock that serialises migrations: every instance starting
 * against the same database waits for the one migrating (whatever schema each works in).
 */
export const MIGRATION_LOCK_KEY = 7_135_064_218_530_171n;

const DEFAULT_AUDIT_LIMIT = 100;

/** A request's voters in the order they voted (ties, on one database clock tick, by id). */
const VOTERS =
  'SELECT voter_id FROM approval_votes WHERE request_id = $1 ORDER BY voted_at, voter_id COLLATE "C"';

/** What `toApproval` reads: every column but the lease's end, which is the store's business alone. */
const APPROVAL_COLUMN_NAMES = [
  'id',
  'requester_id',
  'channel_id',
  'team_id',
  'enterprise_id',
  'message_ts',
  'action',
  'profile',
  'target',
  'reason',
  'status',
  'created_at',
  'expires_at',
  'decided_by',
  'decided_at',
  'result',
  'claimed_by',
  'attempts',
  'next_attempt_at',
  'last_error',
  'scheduled_at',
  'schedule_zone',
  'policy_rule',
];
const approvalColumns = (table?: string): string =>
  APPROVAL_COLUMN_NAMES.map((c) => (table ? `${table}.${c}` : c)).join(', ');
const APPROVAL_COLUMNS = approvalColumns();

/** How often createApproval tries again when the open request that held its key ended meanwhile. */
const OPEN_KEY_TRIES = 3;

/** node-postgres hands back `timestamptz` as Date, `json` parsed, and `bigint` as text (no precision lost). */
type ApprovalRow = Rows.ApprovalRow<Date, Record<string, unknown>>;
type AuditRow = Rows.AuditRow<Date, Record<string, unknown>, string>;
type FollowUpRow = FollowUpRowOf<Date, Record<string, unknown>>;

const iso = (date: Date): string => date.toISOString();

const decode: Rows.RowDecoder<Date, Record<string, unknown>> = {
  time: (date) => date,
  json: (value) => value,
};
const toApproval = (row: ApprovalRow): ApprovalRequest => Rows.approvalFromRow(row, decode);
const toAudit = (row: AuditRow): AuditEntry => Rows.auditFromRow(row, decode);
const byCreation = Rows.byCreation;

/** SQLSTATEs of a backend the server ended under a statement (admin_shutdown, crash_shutdown). */
const TERMINATED = new Set(['57P01', '57P02']);
/**
 * How often a read, or a write transaction that committed nothing, is run again after its backend was
 * terminated, before its failure is reported: after 20, 40, 80, 160, 320, 640 ms (1.3 s in all: a
 * storm of terminations can end the next connections too).
 */
const TERMINATED_RETRIES = 6;
const TERMINATED_FIRST_WAIT_MS = 20;
/** How often the outcome of a COMMIT whose connection was lost is asked while still in progress (over 0.6 s). */
const COMMIT_STATUS_CHECKS = 6;
const backOff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, TERMINATED_FIRST_WAIT_MS * 2 ** attempt));
/** Statements that only read, sent again as they are after a termination; any other is a write. */
const READ_ONLY = /^\s*SELECT\b/i;
const sqlState = (error: unknown): string => String((error as { code?: unknown }).code);
/** An error code that is a SQLSTATE (the server's), not Node's (ECONNRESET) or none. */
const SQLSTATE = /^[0-9A-Z]{5}$/;

/** How one run of a write transaction ended: its value, or its error and whether it may run again. */
type Run<T> = { value: T } | { error: unknown; again: boolean };

/** A schema name the store may put in `search_path` unquoted: letters, digits and `_` only. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Network failures, said without the host (it is part of DATABASE_URL). */
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'the database server refused the connection',
  ENOTFOUND: 'the database server name cannot be resolved',
  EAI_AGAIN: 'the database server name cannot be resolved just now',
  ETIMEDOUT: 'the connection to the database server timed out',
  EHOSTUNREACH: 'the database server cannot be reached',
  ENETUNREACH: 'the database server cannot be reached',
  ECONNRESET: 'the database server closed the connection',
};

/**
 * Says what went wrong without DATABASE_URL or its password: network errors become a fixed sentence
 * (theirs name the host and port), and any other message has the URL and the password cut out.
 */
export function describePostgresError(error: unknown, url: string): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code in NETWORK_ERRORS) return `${NETWORK_ERRORS[code]} (${code})`;
  let message = error instanceof Error ? error.message : String(error);
  const secrets = [url];
  try {
    const parsed = new URL(url);
    if (parsed.password) secrets.push(parsed.password, decodeURIComponent(parsed.password));
  } catch {
    // not a URL: only the whole text is cut out
  }
  message = redact(message, secrets);
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

/** A failed statement, said without secrets; `code` is PostgreSQL's SQLSTATE (or Node's network code). */
export class PostgresError extends Error {
  readonly code: string | undefined;

  constructor(message: string, cause: unknown) {
    super(message);
    this.name = 'PostgresError';
    const code = (cause as { code?: unknown }).code;
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/** How long each statement of a migration may take, the wait for another instance's migration included. */
const MIGRATION_TIMEOUT_MS = 120_000;

/**
 * Migrates on a connection of its own whose bounds are MIGRATION_TIMEOUT_MS, not the pool's
 * per-command ones: waiting for another instance (or another schema's) migration, or an index built
 * over a large table, may take longer than a command may, and is still bounded.
 */
async function migrateOn(config: PoolConfig, schema: string | undefined): Promise<void> {
  const client = new Client({
    ...config,
    statement_timeout: MIGRATION_TIMEOUT_MS,
    query_timeout: MIGRATION_TIMEOUT_MS + 5_000,
    idle_in_transaction_session_timeout: MIGRATION_TIMEOUT_MS * 2,
  });
  // Unheard, a connection error would be an 'error' event that ends the process; the query fails anyway.
  client.on('error', () => undefined);
  await client.connect();
  try {
    await migrate(client, schema);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Applies the missing migrations in one transaction that first takes `pg_advisory_xact_lock`, so two
 * instances starting together cannot both apply a version: the second waits, then finds it applied.
 * Refuses a database whose schema is newer than this program knows. Returns the versions applied.
 */
export async function migrate(client: ClientBase, schema?: string): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)',
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    if (newest > MIGRATIONS.length) {
      throw new Error(
        `The database schema is version ${newest}, newer than this program supports (${MIGRATIONS.length}).`,
      );
    }
    const done: number[] = [];
    for (const [index, sql] of MIGRATIONS.entries()) {
      const version = index + 1;
      if (applied.has(version)) continue;
      await client.query(sql);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [version]);
      done.push(version);
    }
    await client.query('COMMIT');
    return done;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export interface PostgresStoreOptions {
  /**
   * Work in this schema (created if missing) instead of the connection's default `search_path`: tests
   * isolate themselves this way. Lower-case letters, digits and `_` only.
   */
  schema?: string;
  /** Connections in the pool; default 10. */
  maxConnections?: number;
  /** How long to wait for a connection before failing; default 10 s. */
  connectionTimeoutMs?: number;
  /**
   * How long one statement may take. The server cancels it after this (`statement_timeout`), and the
   * client gives up on its own 5 s later, for a server or network that has gone silent and can cancel
   * nothing; default 10 s. No call then waits without limit, and neither does a SIGTERM behind it.
   */
  statementTimeoutMs?: number;
  /**
   * `database` (what openStore uses): expiry, leases, decisions and audit rows are timed by the
   * server's now(), so replicas whose clocks differ agree; the times callers pass are ignored for these
   * (a request's expiry keeps its length, expiresAt − createdAt). `caller` (default): the times passed
   * are used, as on SQLite; tests use it for fixed times.
   */
  clock?: 'database' | 'caller';
  /**
   * Told when an idle pooled connection fails (the server restarted, a proxy dropped it): the pool
   * replaces it, so this is for logging. The message never holds DATABASE_URL or its password.
   */
  onBackgroundError?: (message: string) => void;
}

/**
 * The store on PostgreSQL, for several bot instances sharing one state. Every state change is one
 * conditional UPDATE … RETURNING, so it is atomic and exactly-once across connections, pools and
 * processes: a concurrent UPDATE of the same row waits for the first to commit, then re-checks its
 * WHERE clause against the committed row (READ COMMITTED), and no longer matches. Each write runs in
 * a transaction of its own whose COMMIT is a statement of its own, so no write is claimed that was not
 * stored (unlike SQLite's `.get()`), and one whose backend is terminated is carried out exactly once
 * or reported as failed, never twice (see `transaction`).
 */
export class PostgresStore extends GrantsDelegated implements Store {
  private closed: Promise<void> | null = null;
  protected readonly grants = new PostgresGrants({
    rows: (sql, params) => this.rows(sql, params),
    when: (date) => this.when(date),
  });

  private constructor(
    private readonly pool: Pool,
    private readonly url: string,
    private readonly databaseClock: boolean,
  ) {
    super();
  }

  /** A time the caller passed, as a parameter: null (so the SQL's COALESCE takes now()) on the database clock. */
  private when(date: Date): string | null {
    return this.databaseClock ? null : iso(date);
  }

  /** Connects, creates or migrates the schema, and returns the store; nothing is left open on failure. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const { schema, statementTimeoutMs = 10_000 } = options;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new Error(`The PostgreSQL schema name "${schema}" must be lower-case letters, digits and _.`);
    }
    const config: PoolConfig = {
      connectionString: url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      statement_timeout: statementTimeoutMs,
      query_timeout: statementTimeoutMs + 5_000,
      idle_in_transaction_session_timeout: statementTimeoutMs * 3,
      application_name: 'atlassian-iam',
      ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
    };
    let pool: Pool;
    try {
      pool = new Pool(config);
    } catch (error) {
      throw new PostgresError(`PostgreSQL (DATABASE_URL): ${describePostgresError(error, url)}`, error);
    }
    // An idle client's error would otherwise be an unhandled 'error' event, which ends the process.
    pool.on('error', (error) => options.onBackgroundError?.(describePostgresError(error, url)));
    try {
      await migrateOn(config, schema);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new PostgresError(`PostgreSQL (DATABASE_URL): ${describePostgresError(error, url)}`, error);
    }
    return new PostgresStore(pool, url, options.clock === 'database');
  }

  /**
   * Runs one statement; a failure is rethrown without DATABASE_URL, its password or the host. A read
   * whose backend the server terminated (pg_terminate_backend, a crash of another backend) is sent
   * again on another connection; a write runs in its own transaction, exactly once (see `transaction`).
   */
  private async query<R extends object>(sql: string, params: unknown[] = []): Promise<QueryResult<R>> {
    if (!READ_ONLY.test(sql)) {
      return this.transaction((client) => client.query<R>(sql, params)).catch((error: unknown) => {
        throw error instanceof PostgresError ? error : this.failure(error);
      });
    }
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.pool.query<R>(sql, params);
      } catch (error) {
        if (attempt < TERMINATED_RETRIES && TERMINATED.has(sqlState(error))) {
          await backOff(attempt);
          continue;
        }
        throw this.failure(error);
      }
    }
  }

  private failure(error: unknown): PostgresError {
    return new PostgresError(`PostgreSQL: ${describePostgresError(error, this.url)}`, error);
  }

  /**
   * Runs `work` in one transaction on one pooled connection, exactly once, or rejects (the driver's
   * errors without secrets) having stored nothing. Its connection terminated or lost before COMMIT was
   * sent: nothing committed, so the whole transaction runs again on another connection (at most 6
   * times, as a read). Lost during COMMIT: whether it committed is asked (`commitStatus`), and a commit
   * returns what `work` returned; one that cannot be told is reported as a failure.
   */
  private async transaction<T>(work: (client: ClientBase) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      const run = await this.runOnce(work);
      if ('value' in run) return run.value;
      const { error } = run;
      if (!run.again || attempt >= TERMINATED_RETRIES) {
        throw error instanceof PostgresError || !(error as { code?: unknown }).code
          ? error
          : this.failure(error);
      }
      await backOff(attempt);
    }
  }

  /** One run of `transaction` on a connection of its own, closed (not pooled again) if the run failed. */
  private async runOnce<T>(work: (client: ClientBase) => Promise<T>): Promise<Run<T>> {
    let lost = false;
    const onLost = () => {
      lost = true;
    };
    let client: PoolClient;
    try {
      client = await this.connect(onLost);
    } catch (error) {
      return { error: this.failure(error), again: TERMINATED.has(sqlState(error)) };
    }
    let run: Run<T> | undefined;
    try {
      run = await this.inTransaction(client, work, () => lost);
      return run;
    } finally {
      client.removeListener('error', onLost);
      client.release(!run || 'error' in run);
    }
  }

  /**
   * A pooled connection whose loss, while it is held, is told to `onLost` (unheard, the 'error' event
   * would end the process). Listening starts in the callback: the promise form of `connect` leaves a
   * gap in which a backend terminated just after connecting is such an unheard event.
   */
  private connect(onLost: () => void): Promise<PoolClient> {
    return new Promise((resolve, reject) => {
      this.pool.connect((error, client) => {
        if (error || !client) return reject(error);
        client.on('error', onLost);
        resolve(client);
      });
    });
  }

  /** BEGIN (learning the transaction's id), `work`, COMMIT on `client`, and what came of them. */
  private async inTransaction<T>(
    client: ClientBase,
    work: (client: ClientBase) => Promise<T>,
    connectionLost: () => boolean,
  ): Promise<Run<T>> {
    let xid: string | undefined;
    let value: T;
    try {
      // One round trip (a termination storm ends slower transactions): node-postgres returns the
      // results of a simple query of two statements as a list, which its types do not say.
      const [, begun] = (await client.query('BEGIN; SELECT txid_current() AS xid')) as unknown as [
        QueryResult,
        QueryResult<{ xid: string }>,
      ];
      xid = begun.rows[0]?.xid;
      value = await work(client);
    } catch (error) {
      return { error, again: TERMINATED.has(sqlState(error)) || connectionLost() };
    }
    try {
      await client.query('COMMIT');
      return { value };
    } catch (error) {
      // The server, its connection still open, said why it did not commit: nothing was stored.
      const refused = SQLSTATE.test(sqlState(error)) && !TERMINATED.has(sqlState(error)) && !connectionLost();
      if (refused) return { error, again: false };
      const status = await this.commitStatus(xid, error);
      return status === 'committed' ? { value } : { error, again: true };
    }
  }

  /**
   * Whether the transaction `xid` committed, asked on another connection after its own was lost during
   * its COMMIT (txid_status, PostgreSQL 10 and later). In progress (its backend still ending): asked
   * again. Throws when it cannot be told, so the write is reported as failed and never as done.
   */
  private async commitStatus(xid: string | undefined, cause: unknown): Promise<'committed' | 'aborted'> {
    let status: string | null | undefined;
    for (let attempt = 0; xid !== undefined && attempt < COMMIT_STATUS_CHECKS; attempt += 1) {
      if (attempt > 0) await backOff(attempt - 1);
      try {
        [{ status } = { status: null }] = await this.rows<{ status: string | null }>(
          'SELECT txid_status($1::bigint) AS status',
          [xid],
        );
      } catch {
        break; // the database cannot be asked either
      }
      if (status === 'committed' || status === 'aborted') return status;
      if (status !== 'in progress') break;
    }
    throw new PostgresError(
      `PostgreSQL: the connection was lost during COMMIT (${describePostgresError(cause, this.url)}) and ` +
        `whether the change was stored cannot be told (${status ?? 'unknown'}); look before doing it again.`,
      cause,
    );
  }

  private async rows<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.query<R>(sql, params)).rows;
  }

  private async approvalRow(sql: string, params: unknown[]): Promise<ApprovalRequest | null> {
    const [row] = await this.rows<ApprovalRow>(sql, params);
    return row ? toApproval(row) : null;
  }

  async createApproval(request: NewApproval): Promise<ApprovalRequest> {
    assertStorable(Rows.approvalTexts(request));
    const openKey = openRequestKey(request);
    // An open request holding the key makes the insert do nothing; one that ends meanwhile lets it try again.
    for (let attempt = 0; attempt < OPEN_KEY_TRIES; attempt += 1) {
      const row = await this.insertApproval(request, openKey);
      if (row) return toApproval(row);
      const open = await this.approvalRow(
        `SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE open_key = $1 AND status IN ('pending', 'approved')`,
        [openKey],
      );
      if (open) throw new AlreadyOpenError(open);
    }
    throw new Error(`The approval request ${request.id} was not stored.`);
  }

  /** The new row, or undefined when an open request holds its key (the unique index decides, atomically). */
  private async insertApproval(
    request: NewApproval,
    openKey: string | null,
  ): Promise<ApprovalRow | undefined> {
    try {
      const [row] = await this.rows<ApprovalRow>(
        `INSERT INTO approvals (id, requester_id, channel_id, profile, target, reason, status, created_at, expires_at,
           action, team_id, enterprise_id, scheduled_at, schedule_zone, decided_by, decided_at, policy_rule, open_key)
         VALUES ($1, $2, $3, $4::json, $5, $6, $12, COALESCE($7::timestamptz, now()),
           COALESCE($8::timestamptz, now() + $17 * interval '1 millisecond'), $9, $10, $11,
           $13::timestamptz, $14, $15, $16::timestamptz, $18::json, $19)
         ON CONFLICT (open_key) WHERE status IN ('pending', 'approved') DO NOTHING
         RETURNING ${APPROVAL_COLUMNS}`,
        [
          request.id,
          request.requesterId,
          request.channelId,
          JSON.stringify(request.profile),
          request.target,
          request.reason,
          this.when(request.createdAt),
          this.when(request.expiresAt),
          request.action,
          request.teamId,
          request.enterpriseId,
          ...Object.values(Rows.scheduleColumns(request)),
          request.expiresAt.getTime() - request.createdAt.getTime(),
          request.rule ? JSON.stringify(request.rule) : null,
          openKey,
        ],
      );
      return row;
    } catch (error) {
      // Rethrown as our own Error: callers (and tests) should not depend on the driver's error class.
      if ((error as { code?: string }).code === '23505') {
        throw new Error(`An approval request with id ${request.id} already exists.`);
      }
      throw error;
    }
  }

  async getApproval(id: string): Promise<ApprovalRequest | null> {
    if (!isStorable(id)) return null; // no row can hold such an id
    return this.approvalRow(`SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE id = $1`, [id]);
  }

  async setApprovalMessage(id: string, channelId: string, messageTs: string): Promise<void> {
    assertStorable({ channelId, messageTs });
    if (!isStorable(id)) return;
    await this.query('UPDATE approvals SET channel_id = $1, message_ts = $2 WHERE id = $3', [
      channelId,
      messageTs,
      id,
    ]);
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
    const decide = `UPDATE approvals SET status = $1, decided_by = $2, decided_at = COALESCE($3::timestamptz, now())
       WHERE id = $4 AND status = 'pending' AND expires_at > COALESCE($3::timestamptz, now())
       RETURNING ${APPROVAL_COLUMNS}`;
    const params = [decision, deciderId, this.when(at), id];
    // One statement: only the caller whose UPDATE changed the row gets it back, and its audit row is
    // inserted by the same statement, so a row that cannot be written undoes the decision.
    if (!record) return this.approvalRow(decide, params);
    return this.approvalRow(withAuditRow(decide, 5), [
      ...params,
      ...auditParams(record, this.when(record.at)),
    ]);
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
    const when = this.when(at);
    const left = Rows.lapsedOf(lapsed, voterId);
    // The request's row is locked first: voters racing for the last approval take turns, and each
    // counts the votes committed before it.
    return this.transaction(async (client) => {
      const [row] = (
        await client.query<ApprovalRow>(
          `SELECT ${APPROVAL_COLUMNS} FROM approvals
           WHERE id = $1 AND status = 'pending' AND expires_at > COALESCE($2::timestamptz, now()) FOR UPDATE`,
          [id, when],
        )
      ).rows;
      if (!row) return null;
      const vote = await this.addVote(client, toApproval(row), { voterId, when, lapsed: left });
      if (!vote.counted) return vote;
      if (vote.decided) vote.request = await this.approveVoted(client, id, voterId, when);
      if (record) {
        const { request: _request, ...tally } = vote;
        const entry = record(tally);
        assertStorable(Rows.auditTexts(entry));
        await client.query(insertAudit(1), auditParams(entry, this.when(entry.at)));
      }
      return vote;
    });
  }

  /**
   * Inserts the vote unless this voter has one (a new one drops the lapsed voters' votes), and tallies
   * (inside voteApproval's transaction).
   */
  private async addVote(
    client: ClientBase,
    request: ApprovalRequest,
    vote: { voterId: string; when: string | null; lapsed: string[] },
  ): Promise<ApprovalVote> {
    const inserted = await client.query(
      `INSERT INTO approval_votes (request_id, voter_id, voted_at)
       VALUES ($1, $2, COALESCE($3::timestamptz, now())) ON CONFLICT DO NOTHING`,
      [request.id, vote.voterId, vote.when],
    );
    const counted = inserted.rowCount === 1;
    if (counted && vote.lapsed.length > 0) {
      await client.query('DELETE FROM approval_votes WHERE request_id = $1 AND voter_id = ANY($2::text[])', [
        request.id,
        vote.lapsed,
      ]);
    }
    const voters = await client.query<{ voter_id: string }>(VOTERS, [request.id]);
    const ids = voters.rows.map((v) => v.voter_id);
    return { ...Rows.tallyVote(request, ids, counted, vote.lapsed), request };
  }

  async listVoters(id: string): Promise<string[]> {
    if (!isStorable(id)) return [];
    return (await this.rows<{ voter_id: string }>(VOTERS, [id])).map((v) => v.voter_id);
  }

  /** The vote that reached N approves the request (inside voteApproval's transaction, the row locked). */
  private async approveVoted(
    client: ClientBase,
    id: string,
    voterId: string,
    when: string | null,
  ): Promise<ApprovalRequest> {
    const { rows } = await client.query<ApprovalRow>(
      `UPDATE approvals SET status = 'approved', decided_by = $1, decided_at = COALESCE($2::timestamptz, now())
       WHERE id = $3 RETURNING ${APPROVAL_COLUMNS}`,
      [voterId, when, id],
    );
    if (!rows[0]) throw new Error(`The approval request ${id} could not be approved.`);
    return toApproval(rows[0]);
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
    return this.approvalRow(
      `UPDATE approvals
       SET claimed_until = COALESCE($3::timestamptz, now()) + $1 * interval '1 millisecond',
         claimed_by = $4, attempts = attempts + 1
       WHERE id = $2 AND status = 'approved'
         AND (scheduled_at IS NULL OR scheduled_at <= COALESCE($3::timestamptz, now()))
         AND (claimed_until IS NULL OR claimed_until <= COALESCE($3::timestamptz, now()) OR claimed_by = $5)
         AND (next_attempt_at IS NULL OR next_attempt_at <= COALESCE($3::timestamptz, now()))
       RETURNING ${APPROVAL_COLUMNS}`,
      [leaseMs, id, this.when(at), owner ?? null, takeOverFrom ?? null],
    );
  }

  async renewClaim(id: string, owner: string, at: Date, leaseMs: number): Promise<boolean> {
    if (!isStorable(id) || !isStorable(owner)) return false;
    const { rowCount } = await this.query(
      `UPDATE approvals SET claimed_until = COALESCE($1::timestamptz, now()) + $4 * interval '1 millisecond'
       WHERE id = $2 AND (status = 'approved' OR unannounced) AND claimed_by = $3`,
      [this.when(at), id, owner, leaseMs],
    );
    return rowCount === 1;
  }

  async deferApproval(
    id: string,
    owner: string,
    nextAttemptAt: Date,
    lastError: string,
  ): Promise<ApprovalRequest | null> {
    const texts = Rows.deferralTexts(id, owner, lastError);
    if (texts === null) return null;
    return this.approvalRow(
      `UPDATE approvals SET next_attempt_at = $1::timestamptz, last_error = $2, claimed_until = NULL
       WHERE id = $3 AND status = 'approved' AND claimed_by = $4 RETURNING ${APPROVAL_COLUMNS}`,
      [iso(nextAttemptAt), texts.error, id, owner],
    );
  }

  async completeApproval(
    id: string,
    result: Record<string, unknown>,
    record: NewAuditEntry,
  ): Promise<boolean> {
    assertStorable(Rows.auditTexts(record));
    if (!isStorable(id)) return false;
    // One statement: the audit row is inserted by it, so a row that cannot be written undoes the completion.
    const rows = await this.rows(
      withAuditRow(
        `UPDATE approvals SET status = 'completed', result = $1::json, unannounced = true
         WHERE id = $2 AND status = 'approved' RETURNING id`,
        3,
      ),
      [JSON.stringify(result), id, ...auditParams(record, this.when(record.at))],
    );
    return rows.length === 1;
  }

  async listUnannounced(): Promise<ApprovalRequest[]> {
    const rows = await this.rows<ApprovalRow>(
      `SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE unannounced ORDER BY created_at, id COLLATE "C"`,
    );
    return rows.map(toApproval);
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
    return this.approvalRow(
      `UPDATE approvals
       SET claimed_until = COALESCE($3::timestamptz, now()) + $1 * interval '1 millisecond', claimed_by = $4
       WHERE id = $2 AND unannounced
         AND (claimed_until IS NULL OR claimed_until <= COALESCE($3::timestamptz, now()) OR claimed_by = $5)
       RETURNING ${APPROVAL_COLUMNS}`,
      [leaseMs, id, this.when(at), owner, takeOverFrom ?? null],
    );
  }

  async markAnnounced(id: string): Promise<void> {
    if (!isStorable(id)) return;
    await this.query('UPDATE approvals SET unannounced = false WHERE id = $1', [id]);
  }

  async failApproval(id: string, reason: string, record?: NewAuditEntry): Promise<ApprovalRequest | null> {
    if (record) assertStorable(Rows.auditTexts(record));
    if (!isStorable(id)) return null;
    const fail = `UPDATE approvals SET status = 'failed', result = $1::json
       WHERE id = $2 AND status IN ('pending', 'approved') RETURNING ${APPROVAL_COLUMNS}`;
    const params = [JSON.stringify({ reason }), id];
    // One statement, as decideApproval: only the caller that ended it writes the row, or nothing is ended.
    if (!record) return this.approvalRow(fail, params);
    return this.approvalRow(withAuditRow(fail, 3), [...params, ...auditParams(record, this.when(record.at))]);
  }

  async expireApprovals(now: Date): Promise<ApprovalRequest[]> {
    // One statement. The due rows are locked in id order, so two instances sweeping at once never
    // deadlock; a row another transaction changed meanwhile is re-checked (and skipped) when locked.
    const rows = await this.rows<ApprovalRow>(
      `WITH due AS (
         SELECT id FROM approvals WHERE status = 'pending' AND expires_at <= COALESCE($1::timestamptz, now())
         ORDER BY id COLLATE "C" FOR UPDATE
       )
       UPDATE approvals SET status = 'expired' FROM due
       WHERE approvals.id = due.id AND approvals.status = 'pending'
       RETURNING ${approvalColumns('approvals')}`,
      [this.when(now)],
    );
    return rows.map(toApproval).sort(byCreation);
  }

  private async listByStatus(status: ApprovalStatus): Promise<ApprovalRequest[]> {
    // COLLATE "C": ties broken by code point, as SQLite and the JavaScript sort in expireApprovals do.
    const rows = await this.rows<ApprovalRow>(
      `SELECT ${APPROVAL_COLUMNS} FROM approvals WHERE status = $1 ORDER BY created_at, id COLLATE "C"`,
      [status],
    );
    return rows.map(toApproval);
  }

  async listPendingApprovals(): Promise<ApprovalRequest[]> {
    return this.listByStatus('pending');
  }

  async listApprovedIncomplete(): Promise<ApprovalRequest[]> {
    return this.listByStatus('approved');
  }

  async claimDueScheduled(
    now: Date,
    leaseMs: number,
    owner: string,
    limit: number,
  ): Promise<ApprovalRequest[]> {
    assertStorable({ owner });
    // One statement. SKIP LOCKED: an instance claiming at the same moment takes other rows instead of
    // waiting; a row is re-checked when locked, so none is claimed twice while its lease runs.
    const rows = await this.rows<ApprovalRow>(
      `WITH due AS (
         SELECT id FROM approvals
         WHERE status = 'approved' AND scheduled_at IS NOT NULL
           AND scheduled_at <= COALESCE($1::timestamptz, now())
           AND (claimed_until IS NULL OR claimed_until <= COALESCE($1::timestamptz, now()))
           AND (next_attempt_at IS NULL OR next_attempt_at <= COALESCE($1::timestamptz, now()))
         ORDER BY scheduled_at, id COLLATE "C" LIMIT $4 FOR UPDATE SKIP LOCKED
       )
       UPDATE approvals
       SET claimed_until = COALESCE($1::timestamptz, now()) + $2 * interval '1 millisecond', claimed_by = $3,
         attempts = approvals.attempts + 1
       FROM due
       WHERE approvals.id = due.id
       RETURNING ${approvalColumns('approvals')}`,
      [this.when(now), leaseMs, owner, limit],
    );
    return rows.map(toApproval).sort(Rows.bySchedule);
  }

  async listScheduled(): Promise<ApprovalRequest[]> {
    const rows = await this.rows<ApprovalRow>(
      `SELECT ${APPROVAL_COLUMNS} FROM approvals
       WHERE status IN ('pending', 'approved') AND scheduled_at IS NOT NULL
       ORDER BY scheduled_at, id COLLATE "C"`,
    );
    return rows.map(toApproval);
  }

  async cancelScheduled(id: string, record: NewAuditEntry): Promise<ApprovalRequest | null> {
    assertStorable(Rows.auditTexts(record));
    if (!isStorable(id)) return null;
    const cancel = `UPDATE approvals SET status = 'cancelled', result = $1::json
       WHERE id = $2 AND status IN ('pending', 'approved') AND scheduled_at > $3::timestamptz
         AND (claimed_until IS NULL OR claimed_until <= $3::timestamptz)
       RETURNING ${APPROVAL_COLUMNS}`;
    // One statement, as decideApproval: only the caller that cancelled it writes the row, or nothing is cancelled.
    return this.approvalRow(withAuditRow(cancel, 4), [
      JSON.stringify({ cancelledBy: record.actor, cancelledAt: iso(record.at) }),
      id,
      iso(record.at),
      ...auditParams(record, this.when(record.at)),
    ]);
  }

  async addFollowUps(followUps: readonly NewApprovalFollowUp[]): Promise<void> {
    if (followUps.length === 0) return;
    for (const followUp of followUps) assertStorable(followUpTexts(followUp));
    // One statement: all of a request's follow-ups are stored, or none.
    const values = followUps.map((_, i) => {
      const p = 5 * i;
      return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}::timestamptz, $${p + 5}::json)`;
    });
    await this.query(
      `INSERT INTO approval_follow_ups (request_id, kind, n, due_at, notify) VALUES ${values.join(', ')}
       ON CONFLICT DO NOTHING`,
      followUps.flatMap((f) => [f.requestId, f.kind, f.n, iso(f.dueAt), JSON.stringify(f.notify)]),
    );
  }

  async claimDueFollowUps(now: Date, owner: string, limit: number): Promise<ClaimedFollowUp[]> {
    assertStorable({ owner });
    // One statement. SKIP LOCKED: a concurrent claimant takes other follow-ups instead of waiting; a
    // locked row is re-checked, so none is sent twice. FOR SHARE on the request: a decision or expiry
    // committing meanwhile is seen (the request no longer pending), one still running is waited for.
    const rows = await this.rows<FollowUpRow & ApprovalRow>(
      `WITH due AS (
         SELECT f.request_id, f.kind, f.n FROM approval_follow_ups f JOIN approvals a ON a.id = f.request_id
         WHERE f.sent_at IS NULL AND f.due_at <= COALESCE($1::timestamptz, now())
           AND a.status = 'pending' AND a.expires_at > COALESCE($1::timestamptz, now())
         ORDER BY f.due_at, f.request_id COLLATE "C", f.kind, f.n LIMIT $3
         FOR UPDATE OF f SKIP LOCKED FOR SHARE OF a
       ), sent AS (
         UPDATE approval_follow_ups f SET sent_at = COALESCE($1::timestamptz, now()), sent_by = $2
         FROM due WHERE f.request_id = due.request_id AND f.kind = due.kind AND f.n = due.n
           AND f.sent_at IS NULL
         RETURNING f.request_id, f.kind, f.n, f.due_at, f.notify, f.sent_at, f.sent_by
       )
       SELECT sent.*, ${approvalColumns('approvals')} FROM sent JOIN approvals ON approvals.id = sent.request_id`,
      [this.when(now), owner, limit],
    );
    return rows.map((row) => claimedFromRow(row, decode, toApproval(row))).sort(byDue);
  }

  async claimTrigger(triggerId: string, at: Date): Promise<boolean> {
    assertStorable({ triggerId });
    // Forgetting old triggers is its own write: two instances deleting the same rows in one transaction
    // each could deadlock. Of callers racing with the same id, exactly one inserts the row.
    await this.query('DELETE FROM slack_triggers WHERE handled_at < $1::timestamptz', [
      iso(new Date(at.getTime() - Rows.TRIGGER_MEMORY_MS)),
    ]);
    const { rowCount } = await this.query(
      'INSERT INTO slack_triggers (trigger_id, handled_at) VALUES ($1, $2::timestamptz) ON CONFLICT DO NOTHING',
      [triggerId, iso(at)],
    );
    return rowCount === 1;
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    assertStorable(Rows.auditTexts(entry));
    const [row] = await this.rows<AuditRow>(
      `${insertAudit(1)} RETURNING *`,
      auditParams(entry, this.when(entry.at)),
    );
    if (!row) throw new Error('The audit entry was not stored.');
    return toAudit(row);
  }

  async listAudit(query: AuditQuery = {}): Promise<AuditEntry[]> {
    const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`The audit limit must be a whole number of at least 0, not ${limit}.`);
    }
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.since !== undefined) {
      params.push(iso(query.since));
      where.push(`at >= $${params.length}::timestamptz`);
    }
    if (query.before !== undefined) {
      params.push(iso(query.before));
      where.push(`at < $${params.length}::timestamptz`);
    }
    if (query.target !== undefined) {
      if (!isStorable(query.target)) return []; // no row can hold such a target
      // The same lower() on both sides, so the audit_log_target index applies.
      params.push(query.target);
      where.push(`lower(target) = lower($${params.length})`);
    }
    if (query.group !== undefined) {
      if (!isStorable(query.group)) return [];
      params.push(query.group);
      where.push(`lower(detail->>'group') = lower($${params.length})`);
    }
    if (typeof query.writtenBefore === 'number') {
      params.push(query.writtenBefore);
      where.push(`id < $${params.length}`);
    }
    params.push(limit);
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const order = query.writtenBefore === undefined ? 'at DESC, id DESC' : 'id DESC';
    const rows = await this.rows<AuditRow>(
      `SELECT * FROM audit_log ${filter} ORDER BY ${order} LIMIT $${params.length}`,
      params,
    );
    return rows.map(toAudit);
  }

  async pruneAudit(before: Date, dryRun = false): Promise<number> {
    if (dryRun) {
      const [row] = await this.rows<{ n: string }>(
        'SELECT count(*) AS n FROM audit_log WHERE at < $1::timestamptz',
        [iso(before)],
      );
      return Number(row?.n ?? 0);
    }
    return (
      (await this.query('DELETE FROM audit_log WHERE at < $1::timestamptz', [iso(before)])).rowCount ?? 0
    );
  }

  async databaseTime(): Promise<Date | null> {
    if (!this.databaseClock) return null;
    const [row] = await this.rows<{ now: Date }>('SELECT now() AS now');
    return row?.now ?? null;
  }

  /** Ends the pool once its queries have finished; a second call waits for the first. */
  async close(): Promise<void> {
    this.closed ??= this.pool.end();
    await this.closed;
  }
}
