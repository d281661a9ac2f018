import type { SandboxDirectory } from '../../src/sandbox';
import { bodyOf, call, idOf, memoryDirectory, newUser, patchBody, PATCH_SCHEMA } from './fixtures';

let directory: SandboxDirectory;
let id: string;

beforeEach(() => {
  directory = memoryDirectory().directory;
  id = idOf(
    call(directory, 'POST', '/Users', {
      body: newUser('jane@example.com', {
        name: { givenName: 'Jane', familyName: 'Doe' },
        title: 'Engineer',
        department: 'R&D',
        externalId: 'E-1',
      }),
    }),
  );
});

function patch(body: unknown): { status: number; body: Record<string, unknown> } {
  const response = call(directory, 'PATCH', `/Users/${id}`, { body });
  return { status: response.status, body: bodyOf(response) };
}

function stored(): Record<string, unknown> {
  return bodyOf(call(directory, 'GET', `/Users/${id}`));
}

describe('PATCH without path', () => {
  it('replaces active, title and merges name, leaving other attributes alone (200 with the user)', () => {
    const response = patch(
      patchBody({ op: 'replace', value: { active: false, title: 'Lead', name: { givenName: 'Janet' } } }),
    );
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id,
      userName: 'jane@example.com',
      active: false,
      title: 'Lead',
      department: 'R&D',
      externalId: 'E-1',
      name: { givenName: 'Janet', familyName: 'Doe' },
      emails: [{ value: 'jane@example.com', type: 'work', primary: true }],
      meta: { created: '2026-01-01T00:00:00.000Z', lastModified: '2026-01-01T00:01:00.000Z' },
    });
    expect(stored()).toEqual(response.body);
  });

  it('accepts the `operations` spelling of Atlassian’s OpenAPI document and capitalised ops', () => {
    const response = patch({
      schemas: [PATCH_SCHEMA],
      operations: [{ op: 'Replace', value: { active: false } }],
    });
    expect(response.status).toBe(200);
    expect(response.body.active).toBe(false);
  });

  it('add sets attributes that were not there', () => {
    const response = patch(patchBody({ op: 'add', value: { nickName: 'JD', timezone: 'Europe/Paris' } }));
    expect(response.body).toMatchObject({ nickName: 'JD', timezone: 'Europe/Paris', title: 'Engineer' });
  });

  it('accepts dotted sub-attribute keys in the value', () => {
    const response = patch(patchBody({ op: 'replace', value: { 'name.familyName': 'Smith' } }));
    expect(response.body.name).toEqual({ givenName: 'Jane', familyName: 'Smith' });
  });

  it('a null value unassigns the attribute', () => {
    const response = patch(patchBody({ op: 'replace', value: { title: null } }));
    expect(response.body).not.toHaveProperty('title');
  });

  it('replace of emails replaces the list; add appends to it', () => {
    const replaced = patch(
      patchBody({ op: 'replace', value: { emails: [{ value: 'jd@example.com', primary: true }] } }),
    );
    expect(replaced.body.emails).toEqual([{ value: 'jd@example.com', primary: true }]);
    const added = patch(
      patchBody({ op: 'add', value: { emails: [{ value: 'other@example.com', type: 'home' }] } }),
    );
    expect(added.body.emails).toEqual([
      { value: 'jd@example.com', primary: true },
      { value: 'other@example.com', type: 'home' },
    ]);
  });

  it('ignores read-only and unknown attributes in the value', () => {
    const response = patch(
      patchBody({ op: 'replace', value: { id: 'other', meta: {}, shoeSize: 44, title: 'X' } }),
    );
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id, title: 'X' });
    expect(response.body).not.toHaveProperty('shoeSize');
  });
});

describe('PATCH with path', () => {
  it.each([
    ['active', false, { active: false }],
    ['title', 'Lead', { title: 'Lead' }],
    ['name.givenName', 'Janet', { name: { givenName: 'Janet', familyName: 'Doe' } }],
    ['Name.GivenName', 'Janet', { name: { givenName: 'Janet', familyName: 'Doe' } }],
    ['urn:ietf:params:scim:schemas:core:2.0:User:title', 'Lead', { title: 'Lead' }],
    ['name', { familyName: 'Smith' }, { name: { givenName: 'Jane', familyName: 'Smith' } }],
  ])('replace %s', (path, value, expected) => {
    const response = patch(patchBody({ op: 'replace', path, value }));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject(expected);
  });

  it('add with a path sets the attribute', () => {
    expect(patch(patchBody({ op: 'add', path: 'displayName', value: 'Jane D' })).body.displayName).toBe(
      'Jane D',
    );
  });

  it('remove with a path deletes the attribute or sub-attribute', () => {
    const response = patch(
      patchBody(
        { op: 'remove', path: 'title' },
        { op: 'remove', path: 'name.givenName' },
        { op: 'remove', path: 'externalId' },
      ),
    );
    expect(response.status).toBe(200);
    expect(response.body).not.toHaveProperty('title');
    expect(response.body).not.toHaveProperty('externalId');
    expect(response.body.name).toEqual({ familyName: 'Doe' });
    const both = patch(patchBody({ op: 'remove', path: 'name.familyName' }));
    expect(both.body).not.toHaveProperty('name');
  });

  it('applies several operations in order', () => {
    const response = patch(
      patchBody(
        { op: 'replace', path: 'active', value: false },
        { op: 'replace', path: 'active', value: true },
      ),
    );
    expect(response.body.active).toBe(true);
  });
});

describe('PATCH errors', () => {
  it('answers 404 for an unknown user', () => {
    const response = call(directory, 'PATCH', '/Users/nope', {
      body: patchBody({ op: 'replace', value: { title: 'X' } }),
    });
    expect(response.status).toBe(404);
  });

  it('answers 409 uniqueness when the new userName is taken, and changes nothing', () => {
    call(directory, 'POST', '/Users', { body: newUser('john@example.com') });
    const response = patch(
      patchBody({ op: 'replace', value: { userName: 'JOHN@example.com', title: 'Changed' } }),
    );
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ status: '409', scimType: 'uniqueness' });
    expect(stored()).toMatchObject({ userName: 'jane@example.com', title: 'Engineer' });
  });

  it.each([
    ['an email that is not an email', { emails: [{ value: 'not-an-email', primary: true }] }],
    ['a number as title', { title: 5 }],
    ['a title over 255 characters', { title: 'x'.repeat(256) }],
  ])('issue 13: answers 400 invalidValue for %s, and changes nothing', (_case, value) => {
    const response = patch(patchBody({ op: 'replace', value }));
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ status: '400', scimType: 'invalidValue' });
    expect(stored()).toMatchObject({ title: 'Engineer', emails: [{ value: 'jane@example.com' }] });
  });

  it('allows a userName change of letter case only, and a change to a free name', () => {
    expect(patch(patchBody({ op: 'replace', path: 'userName', value: 'Jane@Example.com' })).status).toBe(200);
    expect(patch(patchBody({ op: 'replace', path: 'userName', value: 'jane2@example.com' })).status).toBe(
      200,
    );
    const found = call(directory, 'GET', '/Users', { query: { filter: 'userName eq "jane2@example.com"' } });
    expect(bodyOf(found).totalResults).toBe(1);
  });

  it.each([
    ['no schemas', { Operations: [{ op: 'replace', value: { title: 'X' } }] }, 'invalidSyntax'],
    ['no operations', { schemas: [PATCH_SCHEMA] }, 'invalidSyntax'],
    ['empty operations', patchBody(), 'invalidSyntax'],
    ['an unknown op', patchBody({ op: 'move', path: 'title', value: 'X' }), 'invalidSyntax'],
    ['an operation without op', patchBody({ path: 'title', value: 'X' }), 'invalidSyntax'],
    ['remove without path', patchBody({ op: 'remove', value: { title: 'X' } }), 'noTarget'],
    ['a path-less non-object value', patchBody({ op: 'replace', value: 'X' }), 'invalidValue'],
    ['a string active', patchBody({ op: 'replace', value: { active: 'false' } }), 'invalidValue'],
    ['replace with path and no value', patchBody({ op: 'replace', path: 'title' }), 'invalidValue'],
    ['an unknown path', patchBody({ op: 'replace', path: 'shoeSize', value: 44 }), 'invalidPath'],
    [
      'a value filter path',
      patchBody({ op: 'replace', path: 'emails[type eq "work"].value', value: 'a@b.c' }),
      'invalidPath',
    ],
    ['a read-only path', patchBody({ op: 'replace', path: 'id', value: 'x' }), 'mutability'],
    ['removing userName', patchBody({ op: 'remove', path: 'userName' }), 'invalidValue'],
    ['removing emails', patchBody({ op: 'remove', path: 'emails' }), 'invalidValue'],
    ['removing active', patchBody({ op: 'remove', path: 'active' }), 'invalidValue'],
    ['a missing body', undefined, 'invalidSyntax'],
  ])('answers 400 %s (scimType %s) and changes nothing', (_case, body, scimType) => {
    const before = stored();
    const response = patch(body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ status: '400', scimType });
    expect(stored()).toEqual(before);
  });

  it('is all-or-nothing: a later bad operation undoes the earlier ones', () => {
    const response = patch(
      patchBody(
        { op: 'replace', path: 'title', value: 'Lead' },
        { op: 'replace', path: 'active', value: 'no' },
      ),
    );
    expect(response.status).toBe(400);
    expect(stored().title).toBe('Engineer');
  });
});
