/** The text of /iam-grant and /iam-revoke: who, which group, for how long, why; bad text says what to write. */
import { parseAccessText, parseGrantDuration } from '../../src/handlers/access-text';

describe('parseAccessText', () => {
  it('reads user, group, duration and reason in their forms', () => {
    expect(
      parseAccessText('jane@example.com jira-software-users for 8h reason="incident 42"', '/iam-grant'),
    ).toEqual({
      user: { kind: 'email', email: 'jane@example.com' },
      group: 'jira-software-users',
      durationMs: 8 * 3_600_000,
      reason: 'incident 42',
    });
    expect(parseAccessText('me "Jira Admins" for 2 days', '/iam-grant')).toMatchObject({
      user: { kind: 'me' },
      group: 'Jira Admins',
      durationMs: 2 * 86_400_000,
      reason: null,
    });
    expect(parseAccessText('<@U0JANE|jane> confluence-users', '/iam-grant')).toMatchObject({
      user: { kind: 'slack', slackId: 'U0JANE' },
      durationMs: null,
    });
    expect(parseAccessText('<mailto:a@b.co|a@b.co> g', '/iam-revoke').user).toEqual({
      kind: 'email',
      email: 'a@b.co',
    });
  });

  it.each<[string, '/iam-grant' | '/iam-revoke', string]>([
    ['jane@example.com', '/iam-grant', 'say whom and which group'],
    ['jane jira', '/iam-grant', '"jane" is not a user'],
    ['me jira for', '/iam-grant', 'a duration goes after "for"'],
    ['me jira 8h', '/iam-grant', 'a duration goes after "for"'],
    ['me jira for 3 fortnights', '/iam-grant', '"for 3 fortnights" is not a duration'],
    ['me jira for 8h', '/iam-revoke', 'unexpected "for 8h"'],
    ['me jira reason=done', '/iam-revoke', '/iam-revoke takes no reason'],
  ])('%j (%s) is refused: %s', (text, command, message) => {
    expect(() => parseAccessText(text, command)).toThrow(message);
  });
});

describe('parseGrantDuration', () => {
  it.each<[string, number]>([
    ['8h', 8 * 3_600_000],
    ['1d12h', 36 * 3_600_000],
    ['90 minutes', 90 * 60_000],
    ['1 week', 7 * 86_400_000],
    ['3 days 4 hours', 76 * 3_600_000],
  ])('%j', (text, ms) => {
    expect(parseGrantDuration(text)).toBe(ms);
  });

  it.each(['3 fortnights', 'soon', '8', '8h later'])('%j is not a duration', (text) => {
    expect(() => parseGrantDuration(text)).toThrow('is not a duration');
  });

  it.each(['0h', '0m', '0 minutes 0s'])(
    '%j is refused as no time at all, not as "not a duration"',
    (text) => {
      expect(() => parseGrantDuration(text)).toThrow(
        `"for ${text}" is no time at all: a grant must last longer than zero, write a duration such as 30m`,
      );
    },
  );
});
