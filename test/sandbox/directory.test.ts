import type { SandboxDirectory } from '../../src/sandbox';
import { equalityFilter } from '../../src/scim/filter';
import {
  ERROR_SCHEMA,
  LIST_SCHEMA,
  USER_SCHEMA,
  bodyOf,
  call,
  idOf,
  memoryDirectory,
  newUser,
} from './fixtures';

let directory: SandboxDirectory;

beforeEach(() => {
  directory = memoryDirectory().directory;
});

function create(userName: string, extra: Record<string, unknown> = {}): string {
  const response = call(directory, 'POST', '/Users', { body: newUser(userName, extra) });
  expect(response.status).toBe(201);
  return idOf(response);
}

function list(query: Record<string, string>): Record<string, unknown> {
  const response = call(directory, 'GET', '/Users', { query });
  expect(response.status).toBe(200);
  return bodyOf(response);
}

describe('POST /Users', () => {
  it('creates a user: 201 with id, schemas, active true by default and meta', () => {
    const response = call(directory, 'POST', '/Users', {
      body: newUser('jane@example.com', {
        name: { givenName: 'Jane', familyName: 'Doe' },
        title: 'Engineer',
      }),
    });
    expect(response).toEqual({
      status: 201,
      body: {
        schemas: [USER_SCHEMA],
        id: 'user-1',
        userName: 'jane@example.com',
        name: { givenName: 'Jane', familyName: 'Doe' },
        title: 'Engineer',
        emails: [{ value: 'jane@example.com', type: 'work', primary: true }],
        active: true,
        meta: {
          resourceType: 'User',
          created: '2026-01-01T00:00:00.000Z',
          lastModified: '2026-01-01T00:00:00.000Z',
        },
      },
    });
  });

  it('keeps active false when given, and externalId', () => {
    const body = bodyOf(
      call(directory, 'POST', '/Users', { body: newUser('off', { active: false, externalId: 'E-1' }) }),
    );
    expect(body).toMatchObject({ active: false, externalId: 'E-1' });
  });

  it('ignores read-only and unknown attributes', () => {
    const body = bodyOf(
      call(directory, 'POST', '/Users', {
        body: newUser('ro', { id: 'mine', meta: { created: 'x' }, groups: [], favouriteColour: 'blue' }),
      }),
    );
    expect(body.id).toBe('user-1');
    expect(body).not.toHaveProperty('groups');
    expect(body).not.toHaveProperty('favouriteColour');
    expect(body.meta).toMatchObject({ created: '2026-01-01T00:00:00.000Z' });
  });

  it('answers 409 uniqueness for a userName that exists, in any letter case', () => {
    create('jane@example.com');
    const response = call(directory, 'POST', '/Users', { body: newUser('JANE@Example.com') });
    expect(response.status).toBe(409);
    expect(response.body).toEqual({
      schemas: [ERROR_SCHEMA],
      status: '409',
      scimType: 'uniqueness',
      detail: expect.stringContaining('already exists'),
    });
    expect(list({}).totalResults).toBe(1);
  });

  it.each([
    ['no userName', { emails: [{ value: 'a@example.com' }] }],
    ['an empty userName', { userName: ' ', emails: [{ value: 'a@example.com' }] }],
    ['no emails', { userName: 'a' }],
    ['an empty emails list', { userName: 'a', emails: [] }],
    ['an email without value', { userName: 'a', emails: [{ type: 'work' }] }],
    [
      'two primary emails',
      {
        userName: 'a',
        emails: [
          { value: 'a@x.com', primary: true },
          { value: 'b@x.com', primary: true },
        ],
      },
    ],
    ['a string active', { userName: 'a', emails: [{ value: 'a@x.com' }], active: 'true' }],
    ['a number title', { userName: 'a', emails: [{ value: 'a@x.com' }], title: 7 }],
    ['issue 13: an email that is not an email', { userName: 'a', emails: [{ value: 'not-an-email' }] }],
    [
      'issue 13: a title over 255 characters',
      { userName: 'a', emails: [{ value: 'a@x.com' }], title: 'x'.repeat(256) },
    ],
  ])('answers 400 invalidValue for %s', (_case, body) => {
    const response = call(directory, 'POST', '/Users', { body });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '400', scimType: 'invalidValue' });
  });

  it('issue 13: refuses "email":"not-an-email" with a ScimError naming the attribute, as Atlassian would', () => {
    const response = call(directory, 'POST', '/Users', {
      body: { userName: 'a', emails: [{ value: 'not-an-email', primary: true }] },
    });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      schemas: [ERROR_SCHEMA],
      status: '400',
      scimType: 'invalidValue',
      detail: "Attribute 'emails.value' ('not-an-email') must be an email address such as jane@example.com.",
    });
    expect(list({}).totalResults).toBe(0);
  });

  it.each([
    ['a missing body', undefined],
    ['an array body', [newUser('a')]],
    ['a string body', 'userName=a'],
  ])('answers 400 invalidSyntax for %s', (_case, body) => {
    const response = call(directory, 'POST', '/Users', { body });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ status: '400', scimType: 'invalidSyntax' });
  });
});

describe('GET /Users/{id}', () => {
  it('returns the stored user', () => {
    const id = create('jane', { displayName: 'Jane D' });
    const response = call(directory, 'GET', `/Users/${id}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id, userName: 'jane', displayName: 'Jane D', active: true });
  });

  it('answers 404 ScimError for an unknown id', () => {
    expect(call(directory, 'GET', '/Users/nope')).toEqual({
      status: 404,
      body: { schemas: [ERROR_SCHEMA], status: '404', detail: 'User not found.' },
    });
  });

  it('decodes percent-encoded path segments', () => {
    const id = create('jane');
    expect(call(directory, 'GET', `/Users/${encodeURIComponent(id)}/`).status).toBe(200);
    expect(call(directory, 'GET', '/Users/%E0%A4%A').status).toBe(404);
  });
});

describe('GET /Users filters', () => {
  beforeEach(() => {
    create('Jane.Doe@example.com', { externalId: 'EMP-1' });
    create('john@example.com', { externalId: 'emp-1' });
  });

  it('matches userName case-insensitively', () => {
    const page = list({ filter: 'userName eq "jane.doe@EXAMPLE.com"' });
    expect(page).toMatchObject({ schemas: [LIST_SCHEMA], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(page.Resources).toEqual([expect.objectContaining({ userName: 'Jane.Doe@example.com' })]);
  });

  it('matches externalId case-sensitively', () => {
    const page = list({ filter: 'externalId eq "emp-1"' });
    expect(page.totalResults).toBe(1);
    expect(page.Resources).toEqual([expect.objectContaining({ userName: 'john@example.com' })]);
  });

  it('accepts any letter case in the attribute name and operator', () => {
    expect(list({ filter: 'USERNAME EQ "john@example.com"' }).totalResults).toBe(1);
    expect(
      list({ filter: 'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "john@example.com"' })
        .totalResults,
    ).toBe(1);
  });

  it('answers an empty list (200, totalResults 0) when nothing matches', () => {
    expect(list({ filter: 'userName eq "nobody"' })).toEqual({
      schemas: [LIST_SCHEMA],
      totalResults: 0,
      startIndex: 1,
      itemsPerPage: 0,
      Resources: [],
    });
  });

  it.each(['quote"inside', 'back\\slash', 'both \\" and "\\', 'tab\tand\nnewline', 'ünïcödé ✓'])(
    'round-trips a value with special characters: %j',
    (userName) => {
      const id = create(userName, { emails: [{ value: 'special@example.com' }] });
      const page = list({ filter: equalityFilter('userName', userName) });
      expect(page.totalResults).toBe(1);
      expect(page.Resources).toEqual([expect.objectContaining({ id, userName })]);
    },
  );

  it.each([
    'emails eq "jane.doe@example.com"',
    'userName co "jane"',
    'userName sw "jane"',
    'userName pr',
    'userName eq "a" or externalId eq "b"',
    'userName eq "a" and active eq true',
    'active eq true',
    'userName eq jane',
    'userName eq "unterminated',
    'userName eq "bad \\x escape"',
    'userName eq "a" "b"',
    '',
  ])('answers 400 invalidFilter for %j', (filter) => {
    const response = call(directory, 'GET', '/Users', { query: { filter } });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      schemas: [ERROR_SCHEMA],
      status: '400',
      scimType: 'invalidFilter',
    });
  });
});

describe('GET /Users paging', () => {
  beforeEach(() => {
    for (let i = 1; i <= 7; i++) create(`user${i}`);
  });

  const names = (page: Record<string, unknown>): unknown[] =>
    (page.Resources as Record<string, unknown>[]).map((user) => user.userName);

  it('lists every user in creation order by default', () => {
    const page = list({});
    expect(page).toMatchObject({ totalResults: 7, startIndex: 1, itemsPerPage: 7 });
    expect(names(page)).toEqual(['user1', 'user2', 'user3', 'user4', 'user5', 'user6', 'user7']);
  });

  it('pages with 1-based startIndex and count', () => {
    const page = list({ startIndex: '3', count: '2' });
    expect(page).toMatchObject({ totalResults: 7, startIndex: 3, itemsPerPage: 2 });
    expect(names(page)).toEqual(['user3', 'user4']);
    expect(names(list({ startIndex: '7', count: '5' }))).toEqual(['user7']);
    expect(list({ startIndex: '8' })).toMatchObject({
      totalResults: 7,
      startIndex: 8,
      itemsPerPage: 0,
      Resources: [],
    });
  });

  it('reads startIndex below 1 as 1 and a negative count as 0', () => {
    expect(list({ startIndex: '0', count: '1' })).toMatchObject({ startIndex: 1, itemsPerPage: 1 });
    expect(list({ count: '-3' })).toMatchObject({ totalResults: 7, itemsPerPage: 0, Resources: [] });
  });

  it('answers count=1 as test-module asks', () => {
    expect(list({ count: '1' })).toMatchObject({ totalResults: 7, itemsPerPage: 1 });
  });

  it('answers 400 invalidValue for a count that is not an integer', () => {
    for (const count of ['ten', '1.5', '99999999999']) {
      const response = call(directory, 'GET', '/Users', { query: { count } });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ scimType: 'invalidValue' });
    }
  });

  it('never answers more than 100 users in a page', () => {
    for (let i = 8; i <= 105; i++) create(`user${i}`);
    expect(list({ count: '500' })).toMatchObject({ totalResults: 105, itemsPerPage: 100 });
    expect(list({})).toMatchObject({ totalResults: 105, itemsPerPage: 100 });
    expect(list({ startIndex: '101' })).toMatchObject({ itemsPerPage: 5 });
  });
});

describe('DELETE /Users/{id}', () => {
  it('answers 204 and the user is gone afterwards (404)', () => {
    const id = create('jane');
    expect(call(directory, 'DELETE', `/Users/${id}`)).toEqual({ status: 204 });
    expect(call(directory, 'GET', `/Users/${id}`).status).toBe(404);
    expect(call(directory, 'DELETE', `/Users/${id}`).status).toBe(404);
    expect(list({ filter: 'userName eq "jane"' }).totalResults).toBe(0);
    expect(call(directory, 'POST', '/Users', { body: newUser('jane') }).status).toBe(201);
  });
});

describe('routing', () => {
  it('answers 404 ScimError for an unknown path', () => {
    for (const path of ['/Groupz', '/', '/Users/a/b', '/Schemas/urn:other']) {
      const response = call(directory, 'GET', path);
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ schemas: [ERROR_SCHEMA], status: '404' });
    }
  });

  it('answers 405 for a method the sandbox does not serve, such as PUT', () => {
    const id = create('jane');
    expect(call(directory, 'PUT', `/Users/${id}`, { body: newUser('jane') }).status).toBe(405);
    expect(call(directory, 'DELETE', '/Users').status).toBe(405);
  });

  it('accepts lower-case methods (axios sends them)', () => {
    expect(call(directory, 'get', '/Users').status).toBe(200);
  });
});

describe('GET /Schemas/urn:ietf:params:scim:schemas:core:2.0:User', () => {
  it('lists the writable user attributes', () => {
    const response = call(directory, 'GET', `/Schemas/${USER_SCHEMA}`);
    expect(response.status).toBe(200);
    const schema = bodyOf(response);
    expect(schema).toMatchObject({ id: USER_SCHEMA, name: 'User' });
    const attributes = schema.attributes as Record<string, unknown>[];
    expect(attributes.map((a) => a.name)).toEqual([
      'id',
      'userName',
      'externalId',
      'name',
      'displayName',
      'nickName',
      'title',
      'preferredLanguage',
      'department',
      'organization',
      'timezone',
      'emails',
      'phoneNumbers',
      'active',
    ]);
    expect(attributes.find((a) => a.name === 'userName')).toMatchObject({
      required: true,
      uniqueness: 'server',
    });
    expect(attributes.find((a) => a.name === 'id')).toMatchObject({ mutability: 'readOnly' });
    expect(attributes.find((a) => a.name === 'active')).toMatchObject({ type: 'boolean' });
    const name = attributes.find((a) => a.name === 'name');
    expect((name?.subAttributes as Record<string, unknown>[]).map((a) => a.name)).toContain('givenName');
  });

  it('also answers when the URN is percent-encoded', () => {
    expect(call(directory, 'GET', `/Schemas/${encodeURIComponent(USER_SCHEMA)}`).status).toBe(200);
  });
});
