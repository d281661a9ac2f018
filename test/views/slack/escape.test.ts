import {
  escapeMrkdwn,
  escapeTruncate,
  isSlackUserId,
  mention,
  slackDate,
  truncate,
  truncateMrkdwn,
} from '../../../src/views/slack';

describe('escapeMrkdwn', () => {
  it('turns &, < and > into entities so Slack syntax renders inert', () => {
    expect(escapeMrkdwn('<!channel> <@U1> <http://x|y> a&b')).toBe(
      '&lt;!channel&gt; &lt;@U1&gt; &lt;http://x|y&gt; a&amp;b',
    );
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
  });
});

describe('truncate', () => {
  it('keeps short text and cuts long text with an ellipsis to exactly max', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcdef', 4)).toHaveLength(4);
  });

  it('never splits a surrogate pair', () => {
    const cut = truncate('a😀😀😀', 3);
    expect(cut).toBe('a…');
    expect(() => encodeURIComponent(cut)).not.toThrow();
  });
});

describe('truncateMrkdwn', () => {
  it('does not leave half an entity or half a <…> token', () => {
    expect(truncateMrkdwn('aaaa &amp; bbbb', 8)).toBe('aaaa …');
    expect(truncateMrkdwn('hi <@U12345> there', 9)).toBe('hi …');
    expect(truncateMrkdwn('x'.repeat(10), 5)).toHaveLength(5);
  });

  it('bounds the escaped form of user text', () => {
    const out = escapeTruncate('<'.repeat(1000), 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out).toMatch(/^(&lt;)+…$/);
  });
});

describe('mention', () => {
  it('mentions valid Slack user ids only', () => {
    expect(isSlackUserId('U0123ABC')).toBe(true);
    expect(isSlackUserId('W0123ABC')).toBe(true);
    expect(isSlackUserId('C0123ABC')).toBe(false);
    expect(isSlackUserId('U01> <!channel')).toBe(false);
    expect(mention('U0123ABC')).toBe('<@U0123ABC>');
    expect(mention('U01> <!channel')).toBe('`U01&gt; &lt;!channel`');
    expect(mention(null)).toBe('someone unknown');
  });
});

describe('slackDate', () => {
  it('uses Slack date formatting with a UTC fallback', () => {
    expect(slackDate(new Date('2025-01-15T09:30:00Z'))).toBe(
      '<!date^1736933400^{date_short_pretty} {time}|2025-01-15 09:30 UTC>',
    );
    expect(slackDate(new Date('nope'))).toBe('unknown time');
  });
});
