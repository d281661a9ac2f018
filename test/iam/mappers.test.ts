import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  applyMapper,
  BUILT_IN_INCOMING,
  BUILT_IN_OUTGOING,
  loadMapper,
  MapperError,
  mapperSourceKeys,
  toScimUser,
  toUserProfile,
} from '../../src/iam/mappers';
import { parseUserProfile } from '../../src/iam/profile';

describe('built-in outgoing mapper (profile → SCIM user)', () => {
  it('maps every known key to its SCIM attribute', () => {
    const profile = parseUserProfile({
      email: 'jane@example.com',
      givenname: 'Jane',
      surname: 'Doe',
      displayname: 'Jane D.',
      nickname: 'jd',
      title: 'Engineer',
      department: 'R&D',
      organization: 'Example',
      timezone: 'Europe/Paris',
      preferredlanguage: 'fr',
      employeeid: 'E-42',
      mobilephone: '+33 1 23',
      active: 'true',
    });
    expect(toScimUser(BUILT_IN_OUTGOING, profile)).toEqual({
      userName: 'jane@example.com',
      emails: [{ value: 'jane@example.com', type: 'work', primary: true }],
      name: { givenName: 'Jane', familyName: 'Doe' },
      displayName: 'Jane D.',
      nickName: 'jd',
      title: 'Engineer',
      department: 'R&D',
      organization: 'Example',
      timezone: 'Europe/Paris',
      preferredLanguage: 'fr',
      externalId: 'E-42',
      phoneNumbers: [{ value: '+33 1 23', type: 'mobile' }],
      active: true,
    });
  });

  it('prefers username over email for userName', () => {
    expect(toScimUser(BUILT_IN_OUTGOING, { username: 'jdoe', email: 'jane@example.com' }).userName).toBe(
      'jdoe',
    );
  });

  it('adds no email or phone entry when the profile has none', () => {
    expect(toScimUser(BUILT_IN_OUTGOING, { username: 'jdoe' })).toEqual({ userName: 'jdoe' });
  });

  it('lets SCIM attributes in the profile pass through and fills userName from the primary email', () => {
    const profile = parseUserProfile({
      emails: [{ value: 'x@example.com', primary: 'true' }],
      name: { givenName: 'X' },
      is_active: 'false',
    });
    expect(toScimUser(BUILT_IN_OUTGOING, profile)).toEqual({
      userName: 'x@example.com',
      emails: [{ value: 'x@example.com', primary: true }],
      name: { givenName: 'X' },
      active: false,
    });
  });
});

describe('built-in incoming mapper (SCIM user → profile)', () => {
  it('takes the primary email and names back', () => {
    const profile = toUserProfile(BUILT_IN_INCOMING, {
      id: 'u1',
      userName: 'jane@example.com',
      emails: [
        { value: 'other@example.com', primary: false },
        { value: 'jane@example.com', primary: true },
      ],
      name: { givenName: 'Jane', familyName: 'Doe' },
      externalId: 'E-42',
      active: false,
    });
    expect(profile).toEqual({
      id: 'u1',
      username: 'jane@example.com',
      email: 'jane@example.com',
      givenname: 'Jane',
      surname: 'Doe',
      employeeid: 'E-42',
      active: false,
    });
  });

  it('falls back to the first email when none is primary', () => {
    expect(toUserProfile(BUILT_IN_INCOMING, { emails: [{ value: 'a@example.com' }] }).email).toBe(
      'a@example.com',
    );
  });
});

describe('mapper files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mapper-'));
  const write = (name: string, content: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
  };

  it('replace the built-in mapper', () => {
    const file = write(
      'out.json',
      JSON.stringify({
        userName: 'employeeid',
        'emails[0].value': 'email',
        'emails[0].primary': { value: true },
        title: ['jobtitle', 'title'],
      }),
    );
    const mapper = loadMapper(file, BUILT_IN_OUTGOING);
    expect(applyMapper(mapper, { employeeid: 'E1', email: 'a@example.com', JobTitle: 'Boss' })).toEqual({
      userName: 'E1',
      emails: [{ value: 'a@example.com', primary: true }],
      title: 'Boss',
    });
  });

  it('no file means the built-in mapper', () => {
    expect(loadMapper(null, BUILT_IN_OUTGOING)).toBe(BUILT_IN_OUTGOING);
  });

  it.each([
    ['missing.json', null, /cannot read the mapper file/],
    ['bad.json', '{"a": ', /is not valid JSON/],
    ['array.json', '[]', /must be a JSON object/],
    ['number.json', '{"title": 3}', /"title" must map to a path/],
    ['path.json', '{"a..b": "c"}', /is not a valid attribute path/],
  ])('%s is refused with a clear message', (name, content, message) => {
    const file = content === null ? path.join(dir, name) : write(name, content);
    expect(() => loadMapper(file, BUILT_IN_OUTGOING)).toThrow(MapperError);
    expect(() => loadMapper(file, BUILT_IN_OUTGOING)).toThrow(message);
  });
});

describe('issue 13: the explicit SCIM pass-through', () => {
  it('sends a scim:NAME key as the SCIM attribute NAME and a schema URN key as given', () => {
    const urn = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const profile = parseUserProfile({
      email: 'a@example.com',
      'scim:nickName': 'JJ',
      [urn]: { manager: 'm' },
    });
    const user = toScimUser(BUILT_IN_OUTGOING, profile) as Record<string, unknown>;
    expect(user.nickName).toBe('JJ');
    expect(user[urn]).toEqual({ manager: 'm' });
    expect(user['scim:nickName']).toBeUndefined();
  });

  it('names the profile keys a mapper file reads, lower-case', () => {
    expect(
      mapperSourceKeys({ costCenter: 'costCenter', 'name.givenName': ['First', 'given'], x: { value: 1 } }),
    ).toEqual(new Set(['costcenter', 'first', 'given']));
  });
});
