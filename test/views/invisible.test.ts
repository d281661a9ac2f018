/**
 * Issue 10, finding 9 (output): bidi controls (U+202E and friends) and zero-width characters reached
 * terminal tables and Slack text, where they can reorder or hide what a person reads; and the CSV
 * formula guard missed values starting with whitespace, invisible characters or full-width `＝＋－＠`.
 */
import { buildResult } from '../../src/iam/result';
import type { AuditEntry } from '../../src/store/types';
import { csvField, renderAuditJson, renderAuditText } from '../../src/views/audit-table';
import { showInvisible } from '../../src/views/invisible';
import { auditHistoryMessage } from '../../src/views/slack/audit';
import { escapeMrkdwn } from '../../src/views/slack/escape';
import { resultMessage } from '../../src/views/slack/result';
import { renderTextTable, resultTable } from '../../src/views/table';

const RLO = '\u202E';
/** `jane@example.com` that a terminal would show as `jane@elpmaxe.com`-like garbage, with hidden parts. */
const HOSTILE = `jane${RLO}moc.elpmaxe\u200B@\u2066x\u2069\uFEFF\u200F\u061C\u2060\u200D`;
const VISIBLE = 'jane<U+202E>moc.elpmaxe<U+200B>@<U+2066>x<U+2069><U+FEFF><U+200F><U+061C><U+2060><U+200D>';
const INVISIBLE = /[\u061C\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/;

const user = { id: 'u1', userName: HOSTILE, emails: [{ value: HOSTILE, primary: true }], active: true };
const result = buildResult({ action: 'create', instanceName: 'inst', profile: {}, user });

const entry: AuditEntry = {
  id: 1,
  at: new Date('2026-01-01T00:00:00Z'),
  actor: 'cli:admin',
  source: 'cli',
  kind: 'result',
  command: 'iam-get-user',
  target: HOSTILE,
  outcome: 'success',
  requestId: null,
  detail: { email: HOSTILE },
};

describe('finding 9: bidi and zero-width characters are neutralised for people', () => {
  it('showInvisible names each such character as <U+XXXX> and leaves other text alone', () => {
    expect(showInvisible(HOSTILE)).toBe(VISIBLE);
    expect(showInvisible('Zoë 😀 עברית')).toBe('Zoë 😀 עברית');
  });

  it('keeps the zero-width joiner inside emoji sequences, and only there', () => {
    for (const emoji of ['👩🏽\u200D💻', '\u{1F3F3}\u{FE0F}\u200D\u{1F308}', '👨\u200D👩\u200D👧']) {
      expect(showInvisible(emoji)).toBe(emoji);
    }
    expect(showInvisible('ja\u200Dne 😀\u200D')).toBe('ja<U+200D>ne 😀<U+200D>');
  });

  it('the terminal result table shows them as <U+XXXX>', () => {
    const text = renderTextTable(resultTable(result));
    expect(text).not.toMatch(INVISIBLE);
    expect(text).toContain(VISIBLE);
  });

  it('the audit table shows them as <U+XXXX>; the JSON output keeps them intact', () => {
    const text = renderAuditText([entry]);
    expect(text).not.toMatch(INVISIBLE);
    expect(text).toContain('jane<U+202E>moc.elpmaxe');
    const json = JSON.parse(renderAuditJson([entry])) as { target: string; detail: { email: string } }[];
    expect(json[0].target).toBe(HOSTILE);
    expect(json[0].detail.email).toBe(HOSTILE);
  });

  it('Slack text (mrkdwn, fallback text, table cells) shows them as visible escapes', () => {
    expect(escapeMrkdwn(`a${RLO}b`)).toBe('a&lt;U+202E&gt;b');
    const posted = JSON.stringify(resultMessage(result, { sandbox: false }));
    const history = JSON.stringify(
      auditHistoryMessage([{ ...entry, actor: HOSTILE, command: HOSTILE, outcome: HOSTILE }], {
        sandbox: false,
        target: HOSTILE,
        limit: 20,
      }),
    );
    for (const message of [posted, history]) {
      expect(message).not.toMatch(INVISIBLE);
      expect(message).toContain('U+202E');
    }
    // The result object itself (the directory's data, the --json output) is unchanged.
    expect(result.IAM.Vendor.email).toBe(HOSTILE);
  });
});

describe('finding 9: the CSV formula guard covers leading whitespace and full-width forms', () => {
  it.each([
    ['a space', ' =1+1'],
    ['an NBSP', '\u00A0=1+1'],
    ['a zero-width space', '\u200B=1+1'],
    ['a BOM', '\uFEFF@SUM(A1)'],
    ['a bidi override', '\u202E+1'],
    ['a tab', '\t=1'],
    ['a CR', '\r=1'],
    ['a lone tab', '\tx'],
    ['full-width ＝', '＝1+1'],
    ['full-width ＋', '＋1'],
    ['full-width －', '－1'],
    ['full-width ＠', '＠SUM(A1)'],
    ['spaces then full-width ＝', '  ＝1'],
    ['the plain =', '=1+1'],
  ])('guards a value starting with %s', (_name, value) => {
    expect(csvField(value).replace(/^"/, '')).toMatch(/^'/);
  });

  it.each(['plain', ' plain', 'a=b', 'jane@example.com', ''])('leaves %j as it is', (value) => {
    expect(csvField(value)).toBe(value);
  });
});
