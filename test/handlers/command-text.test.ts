import { ProfileError } from '../../src/iam';
import { parseCommandText, splitBreakGlass } from '../../src/handlers/command-text';

describe('parseCommandText', () => {
  it('reads empty text as "open the modal"', () => {
    expect(parseCommandText('   ')).toEqual({ kind: 'empty' });
  });

  it('reads a bare email, also when Slack wrapped it as a mailto link', () => {
    const expected = { kind: 'profile', profile: { email: 'jane@example.com' }, identifierOnly: true };
    expect(parseCommandText('jane@example.com')).toEqual(expected);
    expect(parseCommandText('<mailto:jane@example.com|jane@example.com>')).toEqual(expected);
  });

  it('reads a JSON profile, with or without backticks', () => {
    expect(parseCommandText('`{"Email":"a@example.com","title":"CTO"}`')).toEqual({
      kind: 'profile',
      profile: { email: 'a@example.com', title: 'CTO' },
      identifierOnly: false,
    });
  });

  it('reads key=value pairs with quoted values and options', () => {
    expect(parseCommandText('email=jane@example.com title="Team Lead" allow-enable=false')).toEqual({
      kind: 'profile',
      profile: { email: 'jane@example.com', title: 'Team Lead' },
      allowEnable: 'false',
      identifierOnly: false,
    });
  });

  it('takes curly quotes as Slack clients type them', () => {
    const input = parseCommandText('email=a@example.com reason=\u201Cleft the company\u201D');
    expect(input).toMatchObject({ reason: 'left the company', identifierOnly: true });
  });

  it('reads a bare email followed by options', () => {
    expect(parseCommandText('jane@example.com reason="left the company"')).toEqual({
      kind: 'profile',
      profile: { email: 'jane@example.com' },
      reason: 'left the company',
      identifierOnly: true,
    });
  });

  it.each([
    ['jane', /is not an email, key=value pairs or a JSON profile/],
    ['email=a@example.com junk', /cannot read "junk"/],
    ['{"email":', /not valid JSON/],
    ['email=a@example.com EMAIL=b@example.com', /email is given twice/],
  ])('refuses %s with a message saying what to write', (text, message) => {
    expect(() => parseCommandText(text)).toThrow(ProfileError);
    expect(() => parseCommandText(text)).toThrow(message);
  });
});

it('refuses a reason= the stores cannot keep, naming it', () => {
  expect(() => parseCommandText('jane@example.com reason="left\u0000"')).toThrow(
    '`reason` contains a NUL character (U+0000); remove it',
  );
  expect(() => parseCommandText('email=ja\u0000ne@example.com')).toThrow('`email` contains a NUL character');
});

describe('splitBreakGlass (F14: the word may stand anywhere)', () => {
  it.each([
    ['jo-admin@example.com break-glass reason="pwned"', 'jo-admin@example.com reason="pwned"'],
    ['jo-admin@example.com reason="pwned" break-glass', 'jo-admin@example.com reason="pwned"'],
    ['id=0a1b break-glass reason="pwned"', 'id=0a1b reason="pwned"'],
    ['break-glass jo-admin@example.com reason="pwned"', 'jo-admin@example.com reason="pwned"'],
    [
      'jo-admin@example.com BREAK-GLASS reason=\u201Cpwned badly\u201D',
      'jo-admin@example.com reason=\u201Cpwned badly\u201D',
    ],
    ['jo-admin@example.com in 2h break-glass', 'jo-admin@example.com in 2h'],
  ])('takes it off "%s"', (text, rest) => {
    expect(splitBreakGlass(text)).toEqual({ text: rest, breakGlass: true });
  });

  it.each([
    'jo-admin@example.com reason="break-glass drill"',
    'jo-admin@example.com reason=\u201Cbreak-glass drill\u201D',
    'jo-admin@example.com break-glassy reason="x"',
  ])('leaves "%s" alone: inside a quoted value, or another word, it is not the keyword', (text) => {
    expect(splitBreakGlass(text)).toEqual({ text, breakGlass: false });
  });
});
