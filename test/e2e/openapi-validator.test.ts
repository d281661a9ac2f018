import {
  type RequestToCheck,
  assertValidRequests,
  convertSchema,
  createOpenApiValidator,
  openApiProblems,
} from '../support/openapi';
import { ATLASSIAN_OPENAPI, describeWithDocument } from '../support/shared-documents';
import { createScimClient } from '../../src/scim/client';
import { startEmulatedAtlassian } from '../support/scim-server';

const BASE = '/scim/directory/dir-1';
const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const AUTH = { authorization: 'Bearer tok', accept: 'application/scim+json, application/json' };

function request(
  method: string,
  path: string,
  options: { query?: string; body?: unknown; type?: string } = {},
) {
  const headers: RequestToCheck['headers'] = { ...AUTH };
  if (options.body !== undefined) headers['content-type'] = options.type ?? 'application/scim+json';
  return { method, path, query: options.query ?? '', headers, body: options.body };
}

const validUser = () => ({
  schemas: [USER_SCHEMA],
  userName: 'jane@example.com',
  emails: [{ value: 'jane@example.com', type: 'work', primary: true }],
  name: { givenName: 'Jane', familyName: 'Doe' },
  title: 'Engineer',
  active: true,
});

describeWithDocument(ATLASSIAN_OPENAPI, "Atlassian's OpenAPI document", (file) => {
  const validator = createOpenApiValidator(file);
  const validate = (r: RequestToCheck) => validator.validate(r);

  describe('OpenAPI validator: requests our client sends are valid', () => {
    it.each([
      [
        'GET by filter',
        request('GET', `${BASE}/Users`, { query: 'filter=userName%20eq%20%22jane%40example.com%22' }),
      ],
      ['GET with count and startIndex', request('GET', `${BASE}/Users`, { query: 'count=1&startIndex=1' })],
      ['GET by id', request('GET', `${BASE}/Users/0b1c-42`)],
      ['POST a user (scim+json)', request('POST', `${BASE}/Users`, { body: validUser() })],
      [
        'POST a user (application/json; charset)',
        request('POST', `${BASE}/Users`, { body: validUser(), type: 'application/json; charset=utf-8' }),
      ],
      [
        'PATCH, RFC 7644 form with an object value',
        request('PATCH', `${BASE}/Users/u1`, {
          body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: false } }] },
        }),
      ],
      ['GET the User schema (literal path)', request('GET', `${BASE}/Schemas/${USER_SCHEMA}`)],
      [
        'GET groups by displayName',
        request('GET', `${BASE}/Groups`, { query: 'filter=displayName%20eq%20%22jira-software-users%22' }),
      ],
      ['GET groups, a page', request('GET', `${BASE}/Groups`, { query: 'startIndex=101&count=100' })],
      ['GET a group by id', request('GET', `${BASE}/Groups/g-1`)],
      [
        'POST a group',
        request('POST', `${BASE}/Groups`, { body: { schemas: [GROUP_SCHEMA], displayName: 'team-a' } }),
      ],
      [
        'PATCH a group: add members, as the document example',
        request('PATCH', `${BASE}/Groups/g-1`, {
          body: {
            schemas: [PATCH_SCHEMA],
            Operations: [{ op: 'add', path: 'members', value: [{ value: 'u-1' }] }],
          },
        }),
      ],
      [
        'PATCH a group: remove a member with members[value eq "…"]',
        request('PATCH', `${BASE}/Groups/g-1`, {
          body: { schemas: [PATCH_SCHEMA], Operations: [{ op: 'remove', path: 'members[value eq "u-1"]' }] },
        }),
      ],
    ])('%s', (_name, r) => {
      expect(validate(r)).toEqual([]);
    });

    it("the document's schema and its group example disagree: the schema's `operations` with the example's list value is refused, so we send `Operations` (RFC 7644)", () => {
      const value = [{ value: 'u-1' }];
      const schemaSpelling = request('PATCH', `${BASE}/Groups/g-1`, {
        body: { schemas: [PATCH_SCHEMA], operations: [{ op: 'add', path: 'members', value }] },
      });
      expect(validate(schemaSpelling).join('\n')).toMatch(/body\/operations\/0\/value must be object/);
    });

    it('every group request the real client sends to the emulated Atlassian is valid', async () => {
      const atlassian = await startEmulatedAtlassian({ directoryId: 'dir-1', token: 'tok' });
      const client = createScimClient({
        baseUrl: atlassian.server.url,
        directoryId: 'dir-1',
        accessToken: 'tok',
        proxy: null,
      });
      try {
        const jane = atlassian.seedUser('jane@example.com');
        const [jira] = await client.findGroupsByName('jira-software-users');
        await client.listGroups(1, 100);
        await client.getGroupById(jira.id);
        const team = await client.createGroup('team-a');
        await client.addGroupMembers(team.id, [jane]);
        await client.removeGroupMembers(team.id, [jane]);
        expect(atlassian.server.requests.map((r) => r.method)).toEqual([
          'GET',
          'GET',
          'GET',
          'POST',
          'PATCH',
          'PATCH',
        ]);
        assertValidRequests(atlassian.server.requests, validator);
      } finally {
        client.close();
        await atlassian.close();
      }
    });

    it('does not enforce readOnly: the client sets externalId and schemas, as the descriptions say', () => {
      const body = { ...validUser(), externalId: 'E-1' };
      expect(validate(request('POST', `${BASE}/Users`, { body }))).toEqual([]);
    });

    it('matches the literal /Schemas/urn:…:User path before any templated one', () => {
      expect(validator.match('GET', `${BASE}/Schemas/${USER_SCHEMA}`)).toEqual({
        template: `/scim/directory/{directoryId}/Schemas/${USER_SCHEMA}`,
        method: 'GET',
        pathParameters: { directoryId: 'dir-1' },
      });
      expect(validator.match('GET', `${BASE}/Users/abc%2Fdef`)).toEqual({
        template: '/scim/directory/{directoryId}/Users/{userId}',
        method: 'GET',
        pathParameters: { directoryId: 'dir-1', userId: 'abc/def' },
      });
    });
  });

  describe('OpenAPI validator: bad requests are rejected', () => {
    const cases: Array<[string, RequestToCheck, RegExp]> = [
      ['an unknown path', request('GET', `${BASE}/Widgets`), /no path of the OpenAPI document matches/],
      ['a path outside the directory', request('GET', '/Users'), /no path/],
      ['a trailing extra segment', request('GET', `${BASE}/Users/u1/extra`), /no path/],
      ['an unknown schema URN', request('GET', `${BASE}/Schemas/urn:example:Nope`), /no path/],
      ['a wrong method on the collection', request('DELETE', `${BASE}/Users`), /has no DELETE operation/],
      ['a wrong method on the schema path', request('POST', `${BASE}/Schemas/${USER_SCHEMA}`), /has no POST/],
      ['an empty user id', request('GET', `${BASE}/Users/`), /path parameter userId is missing or empty/],
      [
        'userName as a number',
        request('POST', `${BASE}/Users`, { body: { ...validUser(), userName: 42 } }),
        /body\/userName must be string/,
      ],
      [
        'emails not an array',
        request('POST', `${BASE}/Users`, { body: { ...validUser(), emails: 'jane@example.com' } }),
        /body\/emails must be array/,
      ],
      [
        'an email whose primary is the string "true"',
        request('POST', `${BASE}/Users`, {
          body: { ...validUser(), emails: [{ value: 'jane@example.com', primary: 'true' }] },
        }),
        /body\/emails\/0\/primary must be boolean/,
      ],
      [
        'active as the string "true"',
        request('POST', `${BASE}/Users`, { body: { ...validUser(), active: 'true' } }),
        /body\/active must be boolean/,
      ],
      [
        'name as a string',
        request('POST', `${BASE}/Users`, { body: { ...validUser(), name: 'Jane Doe' } }),
        /body\/name must be object/,
      ],
      [
        'a PATCH operation whose value is not an object',
        request('PATCH', `${BASE}/Users/u1`, {
          body: { schemas: [PATCH_SCHEMA], operations: [{ op: 'replace', path: 'active', value: false }] },
        }),
        /body\/operations\/0\/value must be object/,
      ],
      [
        'an unknown query parameter',
        request('GET', `${BASE}/Users`, { query: 'filter=x&sortBy=userName' }),
        /unknown query parameter "sortBy"/,
      ],
      [
        'a query parameter on an operation that declares none',
        request('GET', `${BASE}/Schemas`, { query: 'x=1' }),
        /unknown query parameter "x" \(declared: none\)/,
      ],
      [
        'count that is not an integer',
        request('GET', `${BASE}/Users`, { query: 'count=ten' }),
        /count="ten" must be an integer/,
      ],
      [
        'count out of int32 range',
        request('GET', `${BASE}/Users`, { query: 'count=4294967296' }),
        /count must match format "int32"/,
      ],
      [
        'a repeated query parameter',
        request('GET', `${BASE}/Users`, { query: 'count=1&count=2' }),
        /given more than once/,
      ],
      ['a body on a GET', request('GET', `${BASE}/Users/u1`, { body: { a: 1 } }), /takes no request body/],
      ['a POST without a body', request('POST', `${BASE}/Users`), /request body is required but missing/],
      [
        'a content type the document does not accept',
        request('POST', `${BASE}/Users`, { body: validUser(), type: 'text/plain' }),
        /content-type "text\/plain" is not one the document accepts/,
      ],
      [
        'a JSON content type with a body that is not JSON',
        request('POST', `${BASE}/Users`, { body: '{"userName":', type: 'application/scim+json' }),
        /body is not valid JSON/,
      ],
    ];

    it.each(cases)('rejects %s', (_name, r, expected) => {
      const problems = validate(r);
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.join('\n')).toMatch(expected);
    });

    it('rejects a request without a bearer token', () => {
      const r = { ...request('GET', `${BASE}/Users/u1`), headers: {} };
      expect(validate(r).join('\n')).toMatch(/no Authorization: Bearer header/);
    });

    it('reports every problem of a body at once', () => {
      const body = { ...validUser(), userName: 1, emails: {}, active: 'yes' };
      const problems = validate(request('POST', `${BASE}/Users`, { body }));
      expect(problems).toHaveLength(3);
    });

    it('assertValidRequests passes valid traffic and throws with every problem named otherwise', () => {
      const good = request('GET', `${BASE}/Users`, { query: 'count=1' });
      expect(() => assertValidRequests([good, good])).not.toThrow();
      const bad = request('POST', `${BASE}/Users`, { body: { ...validUser(), active: 'true' } });
      expect(openApiProblems([good, bad])).toEqual([
        'request #2 POST /scim/directory/dir-1/Users: body/active must be boolean',
      ]);
      expect(() => assertValidRequests([good, bad, request('PUT', `${BASE}/Users`)])).toThrow(
        /2 problem\(s\)[\s\S]*#2 POST[\s\S]*#3 PUT/,
      );
    });
  });
});

describe('convertSchema (OpenAPI 3.0 → JSON Schema)', () => {
  it('turns nullable into a null type, makes $refs absolute and drops OpenAPI-only keywords', () => {
    expect(
      convertSchema({
        type: 'object',
        'x-internal': true,
        example: { a: 1 },
        properties: {
          a: { type: 'string', nullable: true, enum: ['x'] },
          b: { $ref: '#/components/schemas/B', description: 'ignored beside $ref' },
          $ref: { type: 'string' },
        },
        items: { type: 'integer', minimum: 0, exclusiveMinimum: true },
      }),
    ).toEqual({
      type: 'object',
      properties: {
        a: { type: ['string', 'null'], enum: ['x', null] },
        b: { $ref: 'urn:atlassian:user-provisioning:openapi#/components/schemas/B' },
        $ref: { type: 'string' },
      },
      items: { type: 'integer', exclusiveMinimum: 0 },
    });
  });
});
