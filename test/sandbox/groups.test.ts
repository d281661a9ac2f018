import { openSqlite } from '../../src/store/sqlite';
import { SandboxDirectory } from '../../src/sandbox';
import { bodyOf, call, deterministic, idOf, newUser, patchBody, ERROR_SCHEMA } from './fixtures';

const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';

function directory(): SandboxDirectory {
  let n = 0;
  return new SandboxDirectory(openSqlite(':memory:'), {
    ...deterministic(),
    newGroupId: () => `group-${++n}`,
  });
}

let dir: SandboxDirectory;
beforeEach(() => {
  dir = directory();
});

const createGroup = (displayName: string) =>
  call(dir, 'POST', '/Groups', { body: { schemas: [GROUP_SCHEMA], displayName } });
const user = (name: string) => idOf(call(dir, 'POST', '/Users', { body: newUser(name) }));
const addMembers = (groupId: string, ...userIds: string[]) =>
  call(dir, 'PATCH', `/Groups/${groupId}`, {
    body: patchBody({ op: 'add', path: 'members', value: userIds.map((value) => ({ value })) }),
  });
const members = (groupId: string) =>
  (bodyOf(call(dir, 'GET', `/Groups/${groupId}`)).members as { value: string }[]).map((m) => m.value);

describe('example groups', () => {
  it('a new sandbox starts with jira-software-users and confluence-users', () => {
    const list = bodyOf(call(dir, 'GET', '/Groups'));
    expect(list.totalResults).toBe(2);
    expect((list.Resources as { displayName: string }[]).map((g) => g.displayName)).toEqual([
      'jira-software-users',
      'confluence-users',
    ]);
  });

  it('are seeded once per database: reopening adds none, and a deleted example stays deleted', () => {
    const db = openSqlite(':memory:');
    const first = new SandboxDirectory(db);
    const [jira] = bodyOf(call(first, 'GET', '/Groups')).Resources as { id: string }[];
    expect(call(first, 'DELETE', `/Groups/${jira.id}`).status).toBe(204);
    const reopened = new SandboxDirectory(db);
    const names = (bodyOf(call(reopened, 'GET', '/Groups')).Resources as { displayName: string }[]).map(
      (g) => g.displayName,
    );
    expect(names).toEqual(['confluence-users']);
  });
});

describe('POST /Groups', () => {
  it('creates a group: 201 with schemas, id, displayName, members and meta', () => {
    const response = createGroup('team-a');
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      schemas: [GROUP_SCHEMA],
      id: 'group-3',
      displayName: 'team-a',
      members: [],
      meta: { resourceType: 'Group' },
    });
  });

  it('a duplicate displayName, in any letter case, is 409 uniqueness', () => {
    const response = createGroup('JIRA-Software-Users');
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '409', scimType: 'uniqueness' });
  });

  it('no displayName is 400; an unknown member is 400', () => {
    expect(call(dir, 'POST', '/Groups', { body: { schemas: [GROUP_SCHEMA] } }).status).toBe(400);
    const response = call(dir, 'POST', '/Groups', {
      body: { schemas: [GROUP_SCHEMA], displayName: 'x', members: [{ value: 'nobody' }] },
    });
    expect(response.status).toBe(400);
  });
});

describe('GET /Groups', () => {
  it('filters on displayName eq only, case-insensitively, with JSON escaping', () => {
    createGroup('quote"inside');
    const found = bodyOf(
      call(dir, 'GET', '/Groups', { query: { filter: 'displayName eq "QUOTE\\"inside"' } }),
    );
    expect((found.Resources as { displayName: string }[]).map((g) => g.displayName)).toEqual([
      'quote"inside',
    ]);
    const none = bodyOf(call(dir, 'GET', '/Groups', { query: { filter: 'displayName eq "nope"' } }));
    expect(none).toMatchObject({ totalResults: 0, Resources: [] });
  });

  it.each(['displayName co "jira"', 'id eq "group-1"', 'displayName eq jira'])(
    'answers 400 invalidFilter for %s',
    (filter) => {
      const response = call(dir, 'GET', '/Groups', { query: { filter } });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ scimType: 'invalidFilter' });
    },
  );

  it('pages with 1-based startIndex and count', () => {
    createGroup('team-a');
    const page = bodyOf(call(dir, 'GET', '/Groups', { query: { startIndex: '2', count: '1' } }));
    expect(page).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    expect((page.Resources as { displayName: string }[])[0].displayName).toBe('confluence-users');
  });

  it('an unknown group id is 404', () => {
    expect(call(dir, 'GET', '/Groups/nope').status).toBe(404);
  });
});

describe('PATCH /Groups/{id}', () => {
  it('adds members by user id (the document example) and removes one with members[value eq "…"]', () => {
    const jane = user('jane@example.com');
    const joe = user('joe@example.com');
    expect(addMembers('group-1', jane, joe).status).toBe(200);
    expect(members('group-1')).toEqual([jane, joe]);
    const removed = call(dir, 'PATCH', '/Groups/group-1', {
      body: patchBody({ op: 'remove', path: `members[value eq "${jane}"]` }),
    });
    expect(removed.status).toBe(200);
    expect(members('group-1')).toEqual([joe]);
  });

  it('adding a member twice keeps one membership; removing a non-member is a no-op', () => {
    const jane = user('jane@example.com');
    addMembers('group-1', jane);
    addMembers('group-1', jane);
    expect(members('group-1')).toEqual([jane]);
    const response = call(dir, 'PATCH', '/Groups/group-1', {
      body: patchBody({ op: 'remove', path: 'members[value eq "someone-else"]' }),
    });
    expect(response.status).toBe(200);
  });

  it('an unknown user id is 404 (the document: "The directory, group, or user does not exist") and changes nothing', () => {
    const jane = user('jane@example.com');
    const response = addMembers('group-1', jane, 'nobody');
    expect(response.status).toBe(404);
    expect(members('group-1')).toEqual([]);
  });

  it('renaming is refused: PATCH of displayName (with or without path) and PUT with another name are 400 mutability', () => {
    for (const operation of [
      { op: 'replace', path: 'displayName', value: 'renamed' },
      { op: 'replace', value: { displayName: 'renamed' } },
    ]) {
      const response = call(dir, 'PATCH', '/Groups/group-1', { body: patchBody(operation) });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ scimType: 'mutability' });
      expect(bodyOf(response).detail).toMatch(/Renaming a group is not supported/);
    }
    const put = call(dir, 'PUT', '/Groups/group-1', {
      body: { schemas: [GROUP_SCHEMA], displayName: 'renamed', members: [] },
    });
    expect(put.status).toBe(400);
    expect(bodyOf(put).detail).toMatch(/Renaming a group is not supported/);
    expect(bodyOf(call(dir, 'GET', '/Groups/group-1')).displayName).toBe('jira-software-users');
  });

  it('PUT with the same name replaces the members; an unknown member is 400', () => {
    const jane = user('jane@example.com');
    const put = (value: string) =>
      call(dir, 'PUT', '/Groups/group-1', {
        body: { schemas: [GROUP_SCHEMA], displayName: 'jira-software-users', members: [{ value }] },
      });
    expect(put(jane).status).toBe(200);
    expect(members('group-1')).toEqual([jane]);
    expect(put('nobody').status).toBe(400);
  });

  it('a body without the PatchOp schema, or an unknown path, is 400', () => {
    expect(call(dir, 'PATCH', '/Groups/group-1', { body: { Operations: [] } }).status).toBe(400);
    const response = call(dir, 'PATCH', '/Groups/group-1', {
      body: patchBody({ op: 'add', path: 'owners', value: [] }),
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ scimType: 'invalidPath' });
  });

  it('PATCH of an unknown group is 404', () => {
    expect(addMembers('nope', user('jane@example.com')).status).toBe(404);
  });
});

describe("the user's groups attribute", () => {
  it('lists the groups a user is a member of (read-only), and a deleted user leaves its groups', () => {
    const jane = user('jane@example.com');
    addMembers('group-2', jane);
    expect(bodyOf(call(dir, 'GET', `/Users/${jane}`)).groups).toEqual([
      { type: 'direct', value: 'group-2', display: 'confluence-users' },
    ]);
    expect(call(dir, 'DELETE', `/Users/${jane}`).status).toBe(204);
    expect(members('group-2')).toEqual([]);
  });

  it('a user in no group has no groups attribute', () => {
    expect(bodyOf(call(dir, 'GET', `/Users/${user('jane@example.com')}`))).not.toHaveProperty('groups');
  });
});
