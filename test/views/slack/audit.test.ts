/** /iam-audit's message: within Slack's limits whatever the log holds, inert text, an empty state. */
import type { TableBlock } from '@slack/types';
import {
  AUDIT_HISTORY_LIMIT,
  auditHistoryMessage,
  LIMITS,
  SANDBOX_TEXT,
  usageMessage,
  type AuditHistoryEntry,
} from '../../../src/views/slack';
import { blockTextLength, checkMessageLimits } from '../../support/block-kit-limits';
import { allStrings, blocksOfType, mrkdwnTexts } from './helpers';

const EVIL = '<!channel> <@U123> <http://evil|click> & more';

const entry = (overrides: Partial<AuditHistoryEntry> = {}): AuditHistoryEntry => ({
  at: new Date('2025-01-15T09:30:00Z'),
  actor: 'U0OPS',
  command: 'iam-get-user',
  outcome: 'success',
  requestId: null,
  ...overrides,
});

const options = { sandbox: false, target: 'jane@example.com', limit: AUDIT_HISTORY_LIMIT };

const tableOf = (blocks: ReturnType<typeof auditHistoryMessage>['blocks']): TableBlock[] =>
  blocksOfType(blocks, 'table');

const cells = (table: TableBlock): string[][] =>
  table.rows.map((row) => row.map((cell) => (cell as { text: string }).text));

describe('auditHistoryMessage', () => {
  it('shows when, who, what and outcome as a table, newest first as given, with the people mentioned', () => {
    const message = auditHistoryMessage(
      [
        entry({
          at: new Date('2025-01-15T10:05:00Z'),
          actor: 'U0APP',
          command: 'approve',
          outcome: 'approved',
          requestId: 'req-1',
        }),
        entry({ actor: 'cli:alice', command: 'iam-create-user' }),
      ],
      options,
    );
    expect(checkMessageLimits(message)).toEqual([]);
    const [table] = tableOf(message.blocks);
    expect(cells(table)).toEqual([
      ['When', 'Who', 'What', 'Outcome'],
      ['2025-01-15 10:05 UTC', 'U0APP', 'approve · request req-1', '👍 approved'],
      ['2025-01-15 09:30 UTC', 'cli:alice', 'iam-create-user', '✅ success'],
    ]);
    const mrkdwn = mrkdwnTexts(message.blocks).join('\n');
    expect(mrkdwn).toContain('<@U0APP>');
    expect(mrkdwn).not.toContain('<@cli');
    expect(mrkdwn).toContain('All 2 entries about `jane@example.com`');
    expect(message.text).toContain('<@U0APP>');
    expect(message.text).toContain('`cli:alice`');
    expect(allStrings(message.blocks).join()).not.toContain('SANDBOX');
  });

  it('says "the latest" when the limit was reached, and SANDBOX in sandbox mode', () => {
    const entries = Array.from({ length: AUDIT_HISTORY_LIMIT }, () => entry());
    const message = auditHistoryMessage(entries, { ...options, sandbox: true });
    expect(mrkdwnTexts(message.blocks).join()).toContain('The latest 20 entries');
    expect(mrkdwnTexts(message.blocks)).toContain(SANDBOX_TEXT);
    expect(message.text.startsWith('[SANDBOX] ')).toBe(true);
    expect(cells(tableOf(message.blocks)[0])).toHaveLength(AUDIT_HISTORY_LIMIT + 1);
  });

  it('has an empty state: no table, a clear sentence, SANDBOX when sandbox', () => {
    const message = auditHistoryMessage([], { ...options, sandbox: true });
    expect(checkMessageLimits(message)).toEqual([]);
    expect(tableOf(message.blocks)).toEqual([]);
    expect(message.text).toBe(
      '[SANDBOX] No audit entries about `jane@example.com`: no command, refusal or approval decision has named this user.',
    );
    expect(mrkdwnTexts(message.blocks)).toContain(SANDBOX_TEXT);
    expect(checkMessageLimits(auditHistoryMessage([], options))).toEqual([]);
  });

  it('never lets a value mention anyone or forge a link', () => {
    const evil = entry({ actor: EVIL, command: EVIL, outcome: EVIL, requestId: EVIL });
    const messages = [
      auditHistoryMessage([evil, entry({ actor: 'U0OK' })], { ...options, target: EVIL }),
      auditHistoryMessage([], { ...options, target: EVIL, sandbox: true }),
    ];
    for (const message of messages) {
      expect(checkMessageLimits(message)).toEqual([]);
      for (const text of [message.text, ...mrkdwnTexts(message.blocks)]) {
        expect(text).not.toContain('<!channel>');
        expect(text).not.toContain('<@U123>');
        expect(text).not.toContain('<http://evil');
        expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
        // The only live tokens: valid mentions and Slack dates.
        for (const token of text.match(/<[^>]*>/g) ?? []) expect(token).toMatch(/^<@U0OK>$/);
      }
    }
    // Table cells are raw_text: shown literally, so the value is kept as it was (cut, on one line).
    const [table] = tableOf(messages[0].blocks);
    expect(cells(table)[1][2]).toContain('<!channel>');
    expect(table.rows.flat().every((cell) => cell.type === 'raw_text')).toBe(true);
  });

  it('stays inside the limits with many huge entries: at most 99 rows, block text within budget', () => {
    const huge = 'x'.repeat(5000);
    const lines = 'a\nb\r\nc\td';
    const entries = Array.from({ length: 300 }, (_, i) =>
      entry({
        at: i % 7 === 0 ? new Date(Number.NaN) : new Date(Date.UTC(2025, 0, 1, 0, i)),
        actor: i % 2 === 0 ? huge : `U${String(i).padStart(8, '0')}`,
        command: huge,
        outcome: lines + huge,
        requestId: huge,
      }),
    );
    const message = auditHistoryMessage(entries, { ...options, target: huge, limit: 300 });
    expect(checkMessageLimits(message)).toEqual([]);
    expect(blockTextLength(message.blocks)).toBeLessThanOrEqual(LIMITS.messageBlockText);
    const [table] = tableOf(message.blocks);
    expect(table.rows.length).toBeLessThanOrEqual(LIMITS.tableRows);
    expect(
      cells(table)
        .flat()
        .every((text) => !/[\r\n\t]/.test(text)),
    ).toBe(true);
    expect(mrkdwnTexts(message.blocks).join()).toMatch(/✂️ \d+ of 300 entries shown/);
    expect(mrkdwnTexts(message.blocks).join()).toContain('and ');
    expect(cells(table)[1][0]).toBe('unknown time');
  });

  it('shows a blank value as a dash (Slack refuses empty cells)', () => {
    const message = auditHistoryMessage([entry({ actor: '', command: ' ', outcome: '' })], options);
    expect(checkMessageLimits(message)).toEqual([]);
    expect(cells(tableOf(message.blocks)[0])[1]).toEqual(['2025-01-15 09:30 UTC', '—', '—', '—']);
  });
});

describe('usage of /iam-audit', () => {
  it('asks for one email (not the profile forms of the other commands), escaping the problem', () => {
    const message = usageMessage('/iam-audit', '"<!here>" is not an email', { sandbox: true });
    expect(checkMessageLimits(message)).toEqual([]);
    const text = mrkdwnTexts(message.blocks).join('\n');
    expect(text).toContain(
      "*How to use `/iam-audit`*: give the user's email, a group, or both, e.g. `/iam-audit jane@example.com` or `/iam-audit group=jira-software-users`.",
    );
    expect(text).toContain('&lt;!here&gt;');
    expect(text).not.toContain('<!here>');
    expect(text).not.toContain('JSON profile');
    expect(text).toContain(SANDBOX_TEXT);
    expect(message.text.startsWith('[SANDBOX] ')).toBe(true);
    expect(mrkdwnTexts(usageMessage('/nope').blocks).join()).toContain('`/iam-audit`');
  });
});
