import { assertStorable, isStorable } from '../storable-text';
import * as GrantRows from './grant-rows';
import type { DueGrantNotice, Grant, GrantEnd, GrantQuery, GrantStore, NewGrant } from './grants';
import { auditParams, withAuditRow } from './postgres-audit';
import { auditTexts, type RowDecoder } from './rows';
import type { NewAuditEntry } from './types';

type GrantRow = GrantRows.GrantRow<Date>;
type NoticeRow = GrantRows.GrantNoticeRow<Date>;

/** What the grants half needs of PostgresStore: one statement at a time, and its clock. */
export interface PostgresStatements {
  rows<R extends object>(sql: string, params?: unknown[]): Promise<R[]>;
  /** A time the caller passed, or null for the database's now() (see PostgresStoreOptions.clock). */
  when(date: Date): string | null;
}

const iso = (date: Date): string => date.toISOString();
const decode: RowDecoder<Date, Record<string, unknown>> = { time: (date) => date, json: (value) => value };
const toGrant = (row: GrantRow): Grant => GrantRows.grantFromRow(row, decode);

const GRANT_COLUMN_NAMES = [
  'id',
  'request_id',
  'user_id',
  'target',
  'slack_user_id',
  'group_id',
  'group_name',
  'granted_by',
  'granted_at',
  'ends_at',
  'channel_id',
  'thread_ts',
  'ended_at',
  'ended_by',
  'end_reason',
  'claimed_by',
  'end_attempts',
];
/** What toGrant reads: every column but the lease's end, which is the store's business alone. */
const grantColumns = (table?: string): string =>
  GRANT_COLUMN_NAMES.map((c) => (table ? `${table}.${c}` : c)).join(', ');
const GRANT_COLUMNS = grantColumns();

/**
 * The grants half of PostgresStore (docs/GROUPS.md). Every state change is one statement (a grant and
 * its notices together through data-modifying CTEs), so it is atomic and exactly-once across pools and
 * instances; claims lock their rows with SKIP LOCKED, so concurrent sweeps take different rows.
 */
export class PostgresGrants implements GrantStore {
  constructor(private readonly db: PostgresStatements) {}

  private async one(sql: string, params: unknown[]): Promise<Grant | null> {
    const [row] = await this.db.rows<GrantRow>(sql, params);
    return row ? toGrant(row) : null;
  }

  async createGrant(grant: NewGrant): Promise<Grant> {
    assertStorable(GrantRows.grantTexts(grant));
    let created: Grant | null;
    try {
      created = await this.one(
        `WITH g AS (
           INSERT INTO grants (id, request_id, user_id, target, slack_user_id, group_id, group_name, granted_by,
             granted_at, ends_at, channel_id, thread_ts)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz, $10::timestamptz, $11, $12)
           RETURNING ${GRANT_COLUMNS}
         ),
         notices AS (
           INSERT INTO grant_notices (grant_id, due_at) SELECT g.id, due FROM g, unnest($13::timestamptz[]) due
         )
         SELECT * FROM g`,
        [
          grant.id,
          grant.requestId,
          grant.userId,
          grant.target,
          grant.slackUserId,
          grant.groupId,
          grant.groupName,
          grant.grantedBy,
          iso(grant.grantedAt),
          grant.endsAt ? iso(grant.endsAt) : null,
          grant.channelId,
          grant.threadTs,
          grant.noticesAt.map(iso),
        ],
      );
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw new Error(`A grant with id ${grant.id} already exists.`);
      }
      throw error;
    }
    if (!created) throw new Error(`The grant ${grant.id} was not stored.`);
    return created;
  }

  async getGrant(id: string): Promise<Grant | null> {
    if (!isStorable(id)) return null;
    return this.one(`SELECT ${GRANT_COLUMNS} FROM grants WHERE id = $1`, [id]);
  }

  async listGrants(query: GrantQuery = {}): Promise<Grant[]> {
    if (!GrantRows.queryTexts(query).every(isStorable)) return [];
    const where: string[] = [];
    const params: string[] = [];
    const compare = (condition: (placeholder: string) => string, value: string | undefined): void => {
      if (value === undefined) return;
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    compare((p) => `slack_user_id = ${p}`, query.slackUserId);
    compare((p) => `user_id = ${p}`, query.userId);
    compare((p) => `group_id = ${p}`, query.groupId);
    if (query.active !== undefined) where.push(query.active ? 'ended_at IS NULL' : 'ended_at IS NOT NULL');
    compare((p) => `ends_at < ${p}::timestamptz`, query.endingBefore && iso(query.endingBefore));
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.db.rows<GrantRow>(`SELECT ${GRANT_COLUMNS} FROM grants ${filter}`, params);
    return rows.map(toGrant).sort(GrantRows.byEnd);
  }

  async claimDueGrantEnds(now: Date, leaseMs: number, owner: string, limit: number): Promise<Grant[]> {
    assertStorable({ owner });
    const rows = await this.db.rows<GrantRow>(
      `WITH due AS (
         SELECT id FROM grants
         WHERE ended_at IS NULL AND ends_at <= COALESCE($1::timestamptz, now())
           AND (claimed_until IS NULL OR claimed_until <= COALESCE($1::timestamptz, now()))
         ORDER BY ends_at, id COLLATE "C" LIMIT $4 FOR UPDATE SKIP LOCKED
       )
       UPDATE grants
       SET claimed_until = COALESCE($1::timestamptz, now()) + $2 * interval '1 millisecond', claimed_by = $3,
         end_attempts = grants.end_attempts + 1
       FROM due WHERE grants.id = due.id
       RETURNING ${grantColumns('grants')}`,
      [this.db.when(now), leaseMs, owner, limit],
    );
    return rows.map(toGrant).sort(GrantRows.byEnd);
  }

  async endGrant(id: string, { by, at, reason }: GrantEnd, record: NewAuditEntry): Promise<Grant | null> {
    assertStorable({ by, ...auditTexts(record) });
    if (!isStorable(id)) return null;
    // One statement: the audit row is inserted by it, so a row that cannot be written undoes the end.
    return this.one(
      withAuditRow(
        `UPDATE grants SET ended_at = COALESCE($1::timestamptz, now()), ended_by = $2, end_reason = $3,
           claimed_until = NULL
         WHERE id = $4 AND ended_at IS NULL RETURNING ${GRANT_COLUMNS}`,
        5,
      ),
      [this.db.when(at), by, reason, id, ...auditParams(record, this.db.when(record.at))],
    );
  }

  async extendGrant(id: string, endsAt: Date, noticesAt: readonly Date[]): Promise<boolean> {
    if (!isStorable(id)) return false;
    // Once an instance has claimed its end, the grant is being ended: too late to extend it.
    const rows = await this.db.rows<{ id: string }>(
      `WITH g AS (
         UPDATE grants SET ends_at = $2::timestamptz
         WHERE id = $1 AND ended_at IS NULL AND claimed_until IS NULL RETURNING id
       ),
       dropped AS (DELETE FROM grant_notices WHERE grant_id IN (SELECT id FROM g) AND sent_at IS NULL),
       added AS (
         INSERT INTO grant_notices (grant_id, due_at) SELECT g.id, due FROM g, unnest($3::timestamptz[]) due
       )
       SELECT id FROM g`,
      [id, iso(endsAt), noticesAt.map(iso)],
    );
    return rows.length === 1;
  }

  async claimDueGrantNotices(now: Date, limit: number): Promise<DueGrantNotice[]> {
    // A notice of a grant that has ended, or whose end has come, is never sent.
    const rows = await this.db.rows<NoticeRow>(
      `WITH due AS (
         SELECT n.id FROM grant_notices n JOIN grants g ON g.id = n.grant_id
         WHERE n.sent_at IS NULL AND n.due_at <= COALESCE($1::timestamptz, now())
           AND g.ended_at IS NULL AND g.ends_at > COALESCE($1::timestamptz, now())
         ORDER BY n.due_at, n.id LIMIT $2 FOR UPDATE OF n SKIP LOCKED
       ),
       sent AS (
         UPDATE grant_notices n SET sent_at = COALESCE($1::timestamptz, now())
         FROM due WHERE n.id = due.id AND n.sent_at IS NULL
         RETURNING n.grant_id, n.due_at
       )
       SELECT ${grantColumns('g')}, sent.due_at AS notice_due_at FROM sent JOIN grants g ON g.id = sent.grant_id`,
      [this.db.when(now), limit],
    );
    return rows.map((row) => GrantRows.noticeFromRow(row, decode)).sort(GrantRows.byNotice);
  }
}
