import type { SqliteDatabase } from '../store/sqlite';

export interface StoredGroup {
  id: string;
  displayName: string;
  externalId: string | null;
  created: string;
  updated: string;
}

/** A member as a group lists it: the user's id and userName. */
export interface StoredMember {
  userId: string;
  userName: string;
}

interface GroupRow {
  id: string;
  display_name: string;
  external_id: string | null;
  created: string;
  updated: string;
}

/** Group names are compared case-insensitively (uniqueness and the `displayName eq` filter), like userNames. */
export function groupNameKey(displayName: string): string {
  return displayName.toLowerCase();
}

// Members reference sandbox_users; deleting a user removes its memberships (see SandboxDirectory.remove).
const SCHEMA = `
CREATE TABLE IF NOT EXISTS sandbox_groups (
  id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  display_name_key TEXT NOT NULL UNIQUE,
  external_id TEXT,
  created TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sandbox_group_members (
  group_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX IF NOT EXISTS sandbox_group_members_user ON sandbox_group_members (user_id);
CREATE TABLE IF NOT EXISTS sandbox_seeds (name TEXT PRIMARY KEY);
`;

const SELECT = 'SELECT id, display_name, external_id, created, updated FROM sandbox_groups';

function toStored(row: GroupRow): StoredGroup {
  return {
    id: row.id,
    displayName: row.display_name,
    externalId: row.external_id,
    created: row.created,
    updated: row.updated,
  };
}

/** SQL access for sandbox groups and their members; lists come back in insertion order. */
export class GroupTable {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    db.exec(SCHEMA);
    this.statements = {
      get: db.prepare<[string], GroupRow>(`${SELECT} WHERE id = ?`),
      byKey: db.prepare<[string], GroupRow>(`${SELECT} WHERE display_name_key = ?`),
      countAll: db.prepare<[], { total: number }>('SELECT COUNT(*) AS total FROM sandbox_groups'),
      page: db.prepare<[number, number], GroupRow>(`${SELECT} ORDER BY rowid LIMIT ? OFFSET ?`),
      insert: db.prepare(
        `INSERT INTO sandbox_groups (id, display_name, display_name_key, external_id, created, updated)
         VALUES (@id, @displayName, @key, @externalId, @created, @updated)`,
      ),
      touch: db.prepare<[string, string]>('UPDATE sandbox_groups SET updated = ? WHERE id = ?'),
      delete: db.prepare<[string]>('DELETE FROM sandbox_groups WHERE id = ?'),
      members: db.prepare<[string], { userId: string; userName: string }>(
        `SELECT m.user_id AS userId, u.user_name AS userName
         FROM sandbox_group_members m JOIN sandbox_users u ON u.id = m.user_id
         WHERE m.group_id = ? ORDER BY m.rowid`,
      ),
      groupsOfUser: db.prepare<[string], GroupRow>(
        `SELECT g.id, g.display_name, g.external_id, g.created, g.updated
         FROM sandbox_group_members m JOIN sandbox_groups g ON g.id = m.group_id
         WHERE m.user_id = ? ORDER BY g.rowid`,
      ),
      addMember: db.prepare<[string, string]>(
        'INSERT OR IGNORE INTO sandbox_group_members (group_id, user_id) VALUES (?, ?)',
      ),
      removeMember: db.prepare<[string, string]>(
        'DELETE FROM sandbox_group_members WHERE group_id = ? AND user_id = ?',
      ),
      clearMembers: db.prepare<[string]>('DELETE FROM sandbox_group_members WHERE group_id = ?'),
      forgetUser: db.prepare<[string]>('DELETE FROM sandbox_group_members WHERE user_id = ?'),
      markSeed: db.prepare<[string]>('INSERT OR IGNORE INTO sandbox_seeds (name) VALUES (?)'),
    };
  }

  get(id: string): StoredGroup | undefined {
    const row = this.statements.get.get(id);
    return row && toStored(row);
  }

  /** The group of this name (case-insensitively), if any. */
  byName(displayName: string): StoredGroup | undefined {
    const row = this.statements.byKey.get(groupNameKey(displayName));
    return row && toStored(row);
  }

  page(offset: number, limit: number): { total: number; groups: StoredGroup[] } {
    const total = this.statements.countAll.get()?.total ?? 0;
    return { total, groups: this.statements.page.all(limit, offset).map(toStored) };
  }

  insert(group: StoredGroup): void {
    this.statements.insert.run({ ...group, key: groupNameKey(group.displayName) });
  }

  touch(id: string, updated: string): void {
    this.statements.touch.run(updated, id);
  }

  delete(id: string): boolean {
    this.statements.clearMembers.run(id);
    return this.statements.delete.run(id).changes > 0;
  }

  members(groupId: string): StoredMember[] {
    return this.statements.members.all(groupId);
  }

  groupsOfUser(userId: string): StoredGroup[] {
    return this.statements.groupsOfUser.all(userId).map(toStored);
  }

  addMember(groupId: string, userId: string): void {
    this.statements.addMember.run(groupId, userId);
  }

  removeMember(groupId: string, userId: string): void {
    this.statements.removeMember.run(groupId, userId);
  }

  clearMembers(groupId: string): void {
    this.statements.clearMembers.run(groupId);
  }

  /** Drops every membership of a user (the user is being deleted). */
  forgetUser(userId: string): void {
    this.statements.forgetUser.run(userId);
  }

  /** Runs `seed` once per database: true the first time this name is marked, false ever after. */
  seedOnce(name: string, seed: () => void): void {
    this.db
      .transaction(() => {
        if (this.statements.markSeed.run(name).changes > 0) seed();
      })
      .immediate();
  }
}
