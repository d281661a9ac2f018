import { parseAllowEnable, parseUserProfile, ProfileError } from '../../src/iam/profile';

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

  it('turns a numeric employee id into text and drops empty values', () => {
    expect(parseUserProfile({ email: 'a@example.com', employeeid: 1234, title: '  ' })).toEqual({
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
    ['{"email":{"value":"x"}}', /email must be a string/],
    ['{"email":"a@example.com","olduserdata":"x"}', /olduserdata must be an object/],
    [
      '{"emails":[{"value":"a@example.com","primary":"maybe"}]}',
      /emails\[0\]\.primary must be true or false/,
    ],
  ])('rejects %s with a message that says what to fix', (text, message) => {
    expect(() => parseUserProfile(text)).toThrow(ProfileError);
    expect(() => parseUserProfile(text)).toThrow(message);
  });

  it('survives JSON nested 1,000 levels deep (kept as an unknown key)', () => {
    const deep = '{"email":"a@example.com","x":' + '['.repeat(1000) + ']'.repeat(1000) + '}';
    expect(parseUserProfile(deep).email).toBe('a@example.com');
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
