import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SandboxDirectory, openSandbox } from '../../src/sandbox';
import { openSqlite } from '../../src/store/sqlite';
import { bodyOf, call, deterministic, idOf, newUser, patchBody } from './fixtures';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sandbox-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('openSqlite', () => {
  it('creates the parent directory and uses WAL with a busy timeout', () => {
    const file = join(dir, 'nested', 'deeper', 'iam.db');
    const db = openSqlite(file);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    } finally {
      db.close();
    }
  });

  it('accepts :memory:', () => {
    const db = openSqlite(':memory:');
    expect(db.memory).toBe(true);
    db.close();
  });
});

describe('a file-backed sandbox', () => {
  it('keeps users, their changes and deletions across reopening', () => {
    const file = join(dir, 'data', 'iam.db');
    const clock = deterministic();
    const first = openSqlite(file);
    const directory = openSandbox(first, clock);
    expect(directory).toBeInstanceOf(SandboxDirectory);
    const jane = idOf(call(directory, 'POST', '/Users', { body: newUser('jane', { externalId: 'E-1' }) }));
    const john = idOf(call(directory, 'POST', '/Users', { body: newUser('john') }));
    call(directory, 'PATCH', `/Users/${jane}`, {
      body: patchBody({ op: 'replace', value: { active: false } }),
    });
    call(directory, 'DELETE', `/Users/${john}`);
    const before = bodyOf(call(directory, 'GET', `/Users/${jane}`));
    first.close();

    const second = openSqlite(file);
    try {
      const reopened = new SandboxDirectory(second, clock);
      expect(bodyOf(call(reopened, 'GET', `/Users/${jane}`))).toEqual(before);
      expect(before).toMatchObject({ active: false, externalId: 'E-1' });
      expect(call(reopened, 'GET', `/Users/${john}`).status).toBe(404);
      expect(
        bodyOf(call(reopened, 'GET', '/Users', { query: { filter: 'externalId eq "E-1"' } })).totalResults,
      ).toBe(1);
      expect(call(reopened, 'POST', '/Users', { body: newUser('JANE') }).status).toBe(409);
    } finally {
      second.close();
    }
  });

  it('lets two connections to one file share the directory', () => {
    const file = join(dir, 'shared.db');
    const a = openSqlite(file);
    const b = openSqlite(file);
    try {
      const one = new SandboxDirectory(a);
      const two = new SandboxDirectory(b);
      expect(call(one, 'POST', '/Users', { body: newUser('jane') }).status).toBe(201);
      expect(call(two, 'POST', '/Users', { body: newUser('Jane') }).status).toBe(409);
      expect(bodyOf(call(two, 'GET', '/Users')).totalResults).toBe(1);
    } finally {
      a.close();
      b.close();
    }
  });
});
