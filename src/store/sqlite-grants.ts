import { assertStorable, isStorable } from '../storable-text';
import * as GrantRows from './grant-rows';
import type {
  DueGrantNotice,
  Grant,
  GrantEnd,
  GrantEndReason,
  GrantQuery,
  GrantStore,
  NewGrant,
} from './grants';
import { auditTexts, type RowDecoder } from './rows';
import type { NewAuditEntry } from './types';
import type { SqliteDatabase } from './sqlite';

type GrantRow = GrantRows.GrantRow<string>;
type NoticeRow = GrantRows.GrantNoticeRow<string>;

const iso = (date: Date): string => date.toISOString();
const decode: RowDecoder<string, string> = {
  time: (text) => new Date(text),
  json: (text) => JSON.parse(text) as Record<string, unknown>,
};
const toGrant = (row: GrantRow): Grant => GrantRows.grantFromRow(row, decode);

/** The columns toGrant reads: every one but the lease's end, which is the store's business alone. */
const GRANT_COLUMNS = `id, request_id, user_id, target, slack_user_id, group_id, group_name, granted_by,
  granted_at, ends_at, channel_id, thread_ts, ended_at, ended_by, end_reason, claimed_by, end_attempts`;

/** What the grants half needs of SqliteStore: its write-locked transactions, and its audit row insert. */
export interface SqliteWrites {
  write<T>(work: () => T): Promise<T>;
  /** Inserts an audit row; only inside `write`. */
  insertAudit(entry: NewAuditEntry): void;
}

/**
 * The grants half of SqliteStore (docs/GROUPS.md). Every state change is one conditional UPDATE …
 * RETURNING inside the store's write-locked transaction (`write`), so it is exactly-once across
 * connections and processes sharing the file.
 */
export class SqliteGrants implements GrantStore {
  private readonly sql;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly store: SqliteWrites,
  ) {
    this.sql = {
      insert: db.prepare<Record<string, string | null>, GrantRow>(
        `INSERT INTO grants (id, request_id, user_id, target, slack_user_id, group_id, group_name, granted_by,
           granted_at, ends_at, channel_id, thread_ts)
         VALUES (@id, @requestId, @userId, @target, @slackUserId, @groupId, @groupName, @grantedBy,
           @grantedAt, @endsAt, @channelId, @threadTs)
         RETURNING ${GRANT_COLUMNS}`,
      ),
      insertNotice: db.prepare<[string, string]>(
        'INSERT INTO grant_notices (grant_id, due_at) VALUES (?, ?)',
      ),
      dropUnsent: db.prepare<[string]>('DELETE FROM grant_notices WHERE grant_id = ? AND sent_at IS NULL'),
      get: db.prepare<[string], GrantRow>(`SELECT ${GRANT_COLUMNS} FROM grants WHERE id = ?`),
      claimDue: db.prepare<[string, string, string, string, number], GrantRow>(
        `UPDATE grants SET claimed_until = ?, claimed_by = ?, end_attempts = end_attempts + 1
         WHERE id IN (
           SELECT id FROM grants
           WHERE ended_at IS NULL AND ends_at IS NOT NULL AND ends_at <= ?
             AND (claimed_until IS NULL OR claimed_until <= ?)
           ORDER BY ends_at, id LIMIT ?)
         RETURNING ${GRANT_COLUMNS}`,
      ),
      end: db.prepare<[string, string, GrantEndReason, string], GrantRow>(
        `UPDATE grants SET ended_at = ?, ended_by = ?, end_reason = ?, claimed_until = NULL
         WHERE id = ? AND ended_at IS NULL RETURNING ${GRANT_COLUMNS}`,
      ),
      // Once an instance has claimed its end, the grant is being ended: too late to extend it.
      extend: db.prepare<[string, string]>(
        'UPDATE grants SET ends_at = ? WHERE id = ? AND ended_at IS NULL AND claimed_until IS NULL',
      ),
      // A notice of a grant that has ended, or whose end has come, is never sent.
      claimNotices: db.prepare<[string, string, string, number], { grant_id: string; notice_due_at: string }>(
        `UPDATE grant_notices SET sent_at = ?
         WHERE rowid IN (
           SELECT n.rowid FROM grant_notices n JOIN grants g ON g.id = n.grant_id
           WHERE n.sent_at IS NULL AND n.due_at <= ? AND g.ended_at IS NULL AND g.ends_at > ?
           ORDER BY n.due_at, n.grant_id LIMIT ?)
         RETURNING grant_id, due_at AS notice_due_at`,
      ),
    };
  }

  async createGrant(grant: NewGrant): Promise<Grant> {
    assertStorable(GrantRows.grantTexts(grant));
    try {
      return toGrant(
        await this.store.write(() => {
          const row = this.sql.insert.get({
            ...GrantRows.grantTexts(grant),
            grantedAt: iso(grant.grantedAt),
            endsAt: grant.endsAt ? iso(grant.endsAt) : null,
          });
          if (!row) throw new Error(`The grant ${grant.id} was not stored.`);
          for (const due of grant.noticesAt) this.sql.insertNotice.run(grant.id, iso(due));
          return row;
        }),
      );
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new Error(`A grant with id ${grant.id} already exists.`);
      }
      throw error;
    }
  }

  async getGrant(id: string): Promise<Grant | null> {
    if (!isStorable(id)) return null;
    const row = this.sql.get.get(id);
    return row ? toGrant(row) : null;
  }

  async listGrants(query: GrantQuery = {}): Promise<Grant[]> {
    if (!GrantRows.queryTexts(query).every(isStorable)) return [];
    const where: string[] = [];
    const params: string[] = [];
    const equal = (column: string, value: string | undefined): void => {
      if (value === undefined) return;
      where.push(`${column} = ?`);
      params.push(value);
    };
    equal('slack_user_id', query.slackUserId);
    equal('user_id', query.userId);
    equal('group_id', query.groupId);
    if (query.active !== undefined) where.push(query.active ? 'ended_at IS NULL' : 'ended_at IS NOT NULL');
    if (query.endingBefore !== undefined) {
      where.push('ends_at IS NOT NULL AND ends_at < ?');
      params.push(iso(query.endingBefore));
    }
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    return this.db
      .prepare<string[], GrantRow>(`SELECT ${GRANT_COLUMNS} FROM grants ${filter}`)
      .all(...params)
      .map(toGrant)
      .sort(GrantRows.byEnd);
  }

  async claimDueGrantEnds(now: Date, leaseMs: number, owner: string, limit: number): Promise<Grant[]> {
    assertStorable({ owner });
    const until = iso(new Date(now.getTime() + leaseMs));
    const rows = await this.store.write(() => this.sql.claimDue.all(until, owner, iso(now), iso(now), limit));
    return rows.map(toGrant).sort(GrantRows.byEnd);
  }

  async endGrant(id: string, { by, at, reason }: GrantEnd, record: NewAuditEntry): Promise<Grant | null> {
    assertStorable({ by, ...auditTexts(record) });
    if (!isStorable(id)) return null;
    // One transaction: a row that cannot be written undoes the end.
    const row = await this.store.write(() => {
      const ended = this.sql.end.get(iso(at), by, reason, id);
      if (ended) this.store.insertAudit(record);
      return ended;
    });
    return row ? toGrant(row) : null;
  }

  async extendGrant(id: string, endsAt: Date, noticesAt: readonly Date[]): Promise<boolean> {
    if (!isStorable(id)) return false;
    return this.store.write(() => {
      if (this.sql.extend.run(iso(endsAt), id).changes !== 1) return false;
      this.sql.dropUnsent.run(id);
      for (const due of noticesAt) this.sql.insertNotice.run(id, iso(due));
      return true;
    });
  }

  async claimDueGrantNotices(now: Date, limit: number): Promise<DueGrantNotice[]> {
    const when = iso(now);
    const rows = await this.store.write(() =>
      this.sql.claimNotices.all(when, when, when, limit).flatMap((sent): NoticeRow[] => {
        const grant = this.sql.get.get(sent.grant_id);
        return grant ? [{ ...grant, notice_due_at: sent.notice_due_at }] : [];
      }),
    );
    return rows.map((row) => GrantRows.noticeFromRow(row, decode)).sort(GrantRows.byNotice);
  }
}
