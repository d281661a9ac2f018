import { checkProfileKey, parseAllowEnable, parseUserProfile, ProfileError } from '../../src/iam/profile';

describe('parseUserProfile', () => {
  it('accepts keys in any case and stores known keys lower-case', () => {
    expect(parseUserProfile('{"Email":"jane@example.com","GivenName":"Jane","FamilyName":"Doe"}')).toEqual({
      email: 'jane@example.com',
      givenname: 'Jane',
      surname: 'Doe',
    });
  });

  it('takes the XSOAR example with SCIM attributes and "true" strings', () => {
    const profile = parseUserProfile(
      '{"emails":[{"value":"jane@example.com","primary":"true"}],"is_active":"true","userName":"jane@example.com"}',
    );
    expect(profile).toEqual({
      emails: [{ value: 'jane@example.com', primary: true }],
      active: true,
      username: 'jane@example.com',
    });
  });

  it('tolerates surrounding backticks (pasted from Slack)', () => {
    expect(parseUserProfile('`{"email":"a@example.com"}`')).toEqual({ email: 'a@example.com' });
  });

  it('normalises olduserdata the same way', () => {
    expect(parseUserProfile({ email: 'new@example.com', OldUserData: { Email: 'old@example.com' } })).toEqual(
      {
        email: 'new@example.com',
        olduserdata: { email: 'old@example.com' },
      },
    );
  });

  it('drops empty values', () => {
    expect(parseUserProfile({ email: 'a@example.com', employeeid: '1234', title: '  ' })).toEqual({
      email: 'a@example.com',
      employeeid: '1234',
    });
  });

  it.each([
    ['{"email": ', /not valid JSON/],
    ['[1,2]', /must be a JSON object/],
    ['null', /must be a JSON object/],
    ['', /is empty/],
    ['{"email":"a@example.com","active":"maybe"}', /active must be true or false, got "maybe"/],
    ['{"email":"a@example.com","EMAIL":"b@example.com"}', /EMAIL is given twice/],
    ['{"email":{"value":"x"}}', /email must be text/],
    ['{"email":"a@example.com","olduserdata":"x"}', /olduserdata must be an object/],
    [
      '{"emails":[{"value":"a@example.com","primary":"maybe"}]}',
      /emails\[0\]\.primary must be true or false/,
    ],
  ])('rejects %s with a message that says what to fix', (text, message) => {
    expect(() => parseUserProfile(text)).toThrow(ProfileError);
    expect(() => parseUserProfile(text)).toThrow(message);
  });

  it('survives JSON nested 1,000 levels deep (kept under a scim: key)', () => {
    const deep = '{"email":"a@example.com","scim:x":' + '['.repeat(1000) + ']'.repeat(1000) + '}';
    expect(parseUserProfile(deep).email).toBe('a@example.com');
  });
});

describe('issue 13: unknown profile keys are refused, naming the closest known key', () => {
  it.each([
    ['{"firstname":"Jane","email":"jane@example.com"}', 'firstname', 'givenname'],
    ['{"titel":"CTO","email":"jane@example.com"}', 'titel', 'title'],
    ['{"emial":"jane@example.com"}', 'emial', 'email'],
    ['{"lastname":"Doe","email":"jane@example.com"}', 'lastname', 'surname'],
    ['{"email":"jane@example.com","olduserdata":{"emial":"old@example.com"}}', 'olduserdata.emial', 'email'],
  ])('%s is refused: "%s", did you mean %s?', (text, key, suggestion) => {
    expect(() => parseUserProfile(text)).toThrow(ProfileError);
    expect(() => parseUserProfile(text)).toThrow(`${key} is not a profile key: did you mean ${suggestion}?`);
  });

  it('a key far from every known one is refused without a guess, and the message says how to pass it', () => {
    expect(() => parseUserProfile('{"email":"a@example.com","xyzzyplugh":"1"}')).toThrow(
      /^xyzzyplugh is not a profile key \(known keys: .*send any other SCIM attribute as scim:NAME\)$/,
    );
  });

  it('SCIM attribute names pass through (userName, emails, name, externalId, phoneNumbers)', () => {
    const profile = parseUserProfile({
      userName: 'jane@example.com',
      emails: [{ value: 'jane@example.com', primary: true }],
      name: { givenName: 'Jane' },
      externalId: 'E1',
      phoneNumbers: [{ value: '+1 555 0100' }],
      displayName: 'Jane Doe',
      preferredLanguage: 'en',
    });
    expect(profile).toMatchObject({
      username: 'jane@example.com',
      externalId: 'E1',
      displayname: 'Jane Doe',
    });
  });

  it('the scim: prefix and schema URNs pass anything else through, as given', () => {
    const urn = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const profile = parseUserProfile({
      email: 'a@example.com',
      'scim:nickName': 'JJ',
      [urn]: { manager: 'x' },
    });
    expect(profile).toEqual({ email: 'a@example.com', 'scim:nickName': 'JJ', [urn]: { manager: 'x' } });
  });

  it('keys the outgoing mapper file reads pass as given', () => {
    expect(() => parseUserProfile({ email: 'a@example.com', costCenter: '42' })).toThrow(ProfileError);
    const profile = parseUserProfile(
      { email: 'a@example.com', costCenter: '42' },
      { mapperKeys: new Set(['costcenter']) },
    );
    expect(profile.costCenter).toBe('42');
  });

  it('groups (a list of group names) is a known key for create (SPEC Revision 2)', () => {
    expect(parseUserProfile({ email: 'a@example.com', groups: ['engineering', 'vpn'] }).groups).toEqual([
      'engineering',
      'vpn',
    ]);
  });

  it('checkProfileKey refuses a misspelt CSV column by its label', () => {
    expect(() => checkProfileKey('emial', 'column 1')).toThrow(
      'column 1 is not a profile key: did you mean email?',
    );
    expect(() => checkProfileKey('GivenName', 'column 2')).not.toThrow();
    expect(() => checkProfileKey('familyName', 'column 3')).not.toThrow();
  });
});

describe("issue 13: values are checked against Atlassian's schema before sending", () => {
  it.each([
    ['{"email":"not-an-email"}', /^email must be an email address such as jane@example.com$/],
    ['{"email":"jane@example.com","title":5}', /^title must be text in quotes \("5"\), got 5$/],
    ['{"email":"jane@example.com","employeeid":1234}', /^employeeid must be text in quotes/],
    ['{"email":"jane@example.com","department":true}', /^department must be text, got true$/],
    [
      `{"email":"jane@example.com","title":"${'x'.repeat(256)}"}`,
      /^title is 256 characters long; at most 255/,
    ],
    ['{"emails":[{"value":"nope","primary":true}]}', /^emails\[0\]\.value must be an email address/],
    ['{"email":"new@example.com","olduserdata":{"email":"old"}}', /^olduserdata\.email must be an email/],
  ])('%s is refused, naming the key', (text, message) => {
    expect(() => parseUserProfile(text)).toThrow(ProfileError);
    expect(() => parseUserProfile(text)).toThrow(message);
  });
});

describe('parseAllowEnable', () => {
  it('defaults to true and reads true/false in any case', () => {
    expect(parseAllowEnable(undefined)).toBe(true);
    expect(parseAllowEnable('FALSE')).toBe(false);
    expect(parseAllowEnable('true')).toBe(true);
  });

  it('issue 13: reads the same yes/no words as the configuration (yes/no, on/off, 1/0)', () => {
    for (const word of ['yes', 'ON', ' on ', '1', 'True']) expect(parseAllowEnable(word)).toBe(true);
    for (const word of ['no', 'OFF', 'off', '0', 'False']) expect(parseAllowEnable(word)).toBe(false);
    expect(parseUserProfile('{"email":"a@example.com","active":"off"}').active).toBe(false);
  });

  it('rejects anything else', () => {
    expect(() => parseAllowEnable('nope')).toThrow('allow-enable must be true or false, got "nope"');
  });
});

describe('text the stores cannot keep is refused, naming the field (one rule: src/storable-text.ts)', () => {
  it.each([
    ['{"email":"x\\u0000"}', '`email` contains a NUL character (U+0000); remove it'],
    ['{"employeeid":"\\u0000"}', '`employeeid` contains a NUL character (U+0000); remove it'],
    ['{"title":"a\\ud800b"}', '`title` contains an unpaired surrogate (U+D800); remove it'],
    [
      '{"olduserdata":{"email":"\\udfff"}}',
      '`olduserdata.email` contains an unpaired surrogate (U+DFFF); remove it',
    ],
    ['{"emails":[{"value":"a\\u0000"}]}', '`emails[0].value` contains a NUL character (U+0000); remove it'],
    ['{"x\\u0000":"1"}', 'a key in user-profile contains a NUL character (U+0000); remove it'],
  ])('%s', (text, message) => {
    expect(() => parseUserProfile(text)).toThrow(new ProfileError(message));
  });

  it('keeps what both stores keep: surrogate pairs, bidi and zero-width characters', () => {
    expect(parseUserProfile('{"title":"👩🏽‍💻 \\u202e\\u200b"}')).toEqual({ title: '👩🏽‍💻 \u202e\u200b' });
  });
});
