import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from '../store/sqlite';
import type { UserAttributes } from './attributes';
import type { EqualityFilter } from './filter';

export interface StoredUser {
  id: string;
  attributes: UserAttributes;
  created: string;
  updated: string;
}

interface Row {
  id: string;
  body: string;
  created: string;
  updated: string;
}

/**
 * Atlassian compares userNames case-insensitively (uniqueness and the `userName eq` filter), so the
 * table keeps a folded copy under a UNIQUE constraint. Folding is JavaScript's locale-independent
 * toLowerCase(), without Unicode normalisation. externalId is case-exact, as Atlassian documents.
 */
export function userNameKey(userName: string): string {
  return userName.toLowerCase();
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sandbox_users (
  id TEXT PRIMARY KEY,
  user_name TEXT NOT NULL,
  user_name_key TEXT NOT NULL UNIQUE,
  external_id TEXT,
  body TEXT NOT NULL,
  created TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sandbox_users_external_id ON sandbox_users (external_id);
`;

const SELECT = 'SELECT id, body, created, updated FROM sandbox_users';
const PAGE = 'ORDER BY rowid LIMIT ? OFFSET ?';

function toStored(row: Row): StoredUser {
  return {
    id: row.id,
    attributes: JSON.parse(row.body) as UserAttributes,
    created: row.created,
    updated: row.updated,
  };
}

/** The column values of a user, named as the INSERT and UPDATE statements use them. */
function columns(user: StoredUser): Record<string, string | null> {
  const userName = String(user.attributes.userName);
  const externalId = user.attributes.externalId;
  return {
    id: user.id,
    userName,
    key: userNameKey(userName),
    externalId: typeof externalId === 'string' ? externalId : null,
    body: JSON.stringify(user.attributes),
    created: user.created,
    updated: user.updated,
  };
}

/** SQL access for sandbox users; lists come back in insertion order (rowid). */
export class UserTable {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    db.exec(SCHEMA);
    const count = (where: string): Statement<unknown[], { total: number }> =>
      db.prepare(`SELECT COUNT(*) AS total FROM sandbox_users ${where}`);
    this.statements = {
      get: db.prepare<[string], Row>(`${SELECT} WHERE id = ?`),
      idForKey: db.prepare<[string], { id: string }>('SELECT id FROM sandbox_users WHERE user_name_key = ?'),
      countAll: count(''),
      countByKey: count('WHERE user_name_key = ?'),
      countByExternalId: count('WHERE external_id = ?'),
      pageAll: db.prepare<unknown[], Row>(`${SELECT} ${PAGE}`),
      pageByKey: db.prepare<unknown[], Row>(`${SELECT} WHERE user_name_key = ? ${PAGE}`),
      pageByExternalId: db.prepare<unknown[], Row>(`${SELECT} WHERE external_id = ? ${PAGE}`),
      insert: db.prepare(
        `INSERT INTO sandbox_users (id, user_name, user_name_key, external_id, body, created, updated)
         VALUES (@id, @userName, @key, @externalId, @body, @created, @updated)`,
      ),
      update: db.prepare(
        `UPDATE sandbox_users
         SET user_name = @userName, user_name_key = @key, external_id = @externalId, body = @body, updated = @updated
         WHERE id = @id`,
      ),
      delete: db.prepare<[string]>('DELETE FROM sandbox_users WHERE id = ?'),
    };
  }

  get(id: string): StoredUser | undefined {
    const row = this.statements.get.get(id);
    return row && toStored(row);
  }

  /** The id of the user holding this userName (case-insensitively), if any. */
  idForUserName(userName: string): string | undefined {
    return this.statements.idForKey.get(userNameKey(userName))?.id;
  }

  /** One page of the users matching the filter (all users without one), and how many match in total. */
  page(
    filter: EqualityFilter | undefined,
    offset: number,
    limit: number,
  ): { total: number; users: StoredUser[] } {
    const s = this.statements;
    const [count, page, parameters] =
      filter === undefined
        ? [s.countAll, s.pageAll, []]
        : filter.attribute === 'userName'
          ? [s.countByKey, s.pageByKey, [userNameKey(filter.value)]]
          : [s.countByExternalId, s.pageByExternalId, [filter.value]];
    const total = count.get(...parameters)?.total ?? 0;
    return { total, users: page.all(...parameters, limit, offset).map(toStored) };
  }

  insert(user: StoredUser): void {
    this.statements.insert.run(columns(user));
  }

  update(user: StoredUser): void {
    this.statements.update.run(columns(user));
  }

  delete(id: string): boolean {
    return this.statements.delete.run(id).changes > 0;
  }

  /** Runs `work` in one IMMEDIATE transaction, so a read-check-write is atomic across processes. */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }
}
