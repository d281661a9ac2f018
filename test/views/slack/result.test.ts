import type { TableBlock } from '@slack/types';
import { buildResult } from '../../../src/iam/result';
import {
  checkMessageLimits,
  DETAILS_CELL_MAX,
  getSummaryMessage,
  resultMessage,
  userAttributeLines,
  userDetailsThreadMessage,
} from '../../../src/views/slack';
import { allStrings, blocksOfType, failure, INSTANCE, mrkdwnTexts, skipped, success, user } from './helpers';

const options = { sandbox: false, actorId: 'U0ACTOR' };

function table(message: { blocks: import('@slack/types').KnownBlock[] }): TableBlock {
  const tables = blocksOfType(message.blocks, 'table');
  expect(tables).toHaveLength(1);
  return tables[0];
}

const cells = (row: TableBlock['rows'][number]): string[] =>
  row.map((cell) => (cell.type === 'raw_text' ? cell.text : `<${cell.type}>`));

describe('resultMessage', () => {
  it('success: one table with the non-empty result columns and a value row', () => {
    const message = resultMessage(success('create'), options);
    const t = table(message);
    expect(cells(t.rows[0])).toEqual([
      'brand',
      'instanceName',
      'success',
      'active',
      'id',
      'username',
      'email',
      'details',
    ]);
    expect(cells(t.rows[1]).slice(0, 7)).toEqual([
      'Atlassian IAM',
      INSTANCE,
      'true',
      'true',
      'u-1',
      'jane@example.com',
      'jane@example.com',
    ]);
    expect(t.rows).toHaveLength(2);
    expect(t.column_settings).toHaveLength(8);
    expect(checkMessageLimits(message)).toEqual([]);
  });

  it('skipped: the short XSOAR layout', () => {
    const t = table(resultMessage(skipped(), options));
    expect(cells(t.rows[0])).toEqual(['brand', 'instanceName', 'skipped', 'reason']);
    expect(cells(t.rows[1])).toEqual(['Atlassian IAM', INSTANCE, 'true', 'User does not exist']);
  });

  it('failure: errorCode and errorMessage columns, and a visible error section', () => {
    const message = resultMessage(failure(), options);
    const t = table(message);
    expect(cells(t.rows[0])).toEqual([
      'brand',
      'instanceName',
      'success',
      'username',
      'email',
      'errorCode',
      'errorMessage',
    ]);
    expect(cells(t.rows[1])).toContain('404');
    const texts = mrkdwnTexts(message.blocks).join('\n');
    expect(texts).toContain('*Failed*');
    expect(texts).toContain('*Error code*\n404');
    expect(texts).toContain('*Error message*\nUser does not exist');
  });

  it('never sends an empty raw_text cell', () => {
    for (const result of [success(), skipped(), failure()]) {
      const t = table(resultMessage(result, options));
      for (const row of t.rows) for (const cell of cells(row)) expect(cell.trim()).not.toBe('');
    }
    const blank = buildResult({
      action: 'update',
      instanceName: INSTANCE,
      profile: {},
      user: { id: 'u-2', userName: '\n\t', active: true },
    });
    const t = table(resultMessage(blank, options));
    for (const row of t.rows) for (const cell of cells(row)) expect(cell.trim()).not.toBe('');
  });

  it('makes the outcome obvious in the first block and the fallback text', () => {
    const cases = [
      [success('update'), '✅ Update User Results (Atlassian IAM)'],
      [skipped(), '⏭️ Disable User Results (Atlassian IAM)'],
      [failure(), '❌ Get User Results (Atlassian IAM)'],
    ] as const;
    for (const [result, title] of cases) {
      const message = resultMessage(result, options);
      expect(message.blocks[0]).toEqual({
        type: 'header',
        text: { type: 'plain_text', text: title, emoji: true },
      });
      expect(message.text.split('\n')[0]).toBe(title);
      expect(message.text).toContain('```');
    }
  });

  it('cuts the details cell (SCIM user JSON) to a sane length', () => {
    const big = buildResult({
      action: 'create',
      instanceName: INSTANCE,
      profile: {},
      user: { ...user, title: 'x'.repeat(10_000) },
    });
    const t = table(resultMessage(big, options));
    const details = cells(t.rows[1])[cells(t.rows[0]).indexOf('details')];
    expect(details.length).toBeLessThanOrEqual(DETAILS_CELL_MAX);
    expect(details.endsWith('…')).toBe(true);
  });

  it('names who ran it, but only mentions valid Slack ids', () => {
    expect(mrkdwnTexts(resultMessage(success(), options).blocks).join()).toContain('Run by <@U0ACTOR>');
    const bad = mrkdwnTexts(
      resultMessage(success(), { sandbox: false, actorId: 'U1> <!here' }).blocks,
    ).join();
    expect(bad).not.toContain('<!here');
    expect(bad).not.toContain('Run by');
  });

  it('says SANDBOX when sandbox is true, and not otherwise', () => {
    const sandboxed = resultMessage(success(), { sandbox: true });
    expect(allStrings(sandboxed.blocks).join()).toContain('SANDBOX');
    expect(sandboxed.text.startsWith('[SANDBOX]')).toBe(true);
    const real = resultMessage(success(), { sandbox: false });
    expect(JSON.stringify(real)).not.toContain('SANDBOX');
  });
});

describe('getSummaryMessage', () => {
  it('summarises who, active state and id, with the same table', () => {
    const message = getSummaryMessage(success('get'), options);
    const texts = mrkdwnTexts(message.blocks).join('\n');
    expect(texts).toContain('*Jane Doe*');
    expect(texts).toContain('`jane@example.com`');
    expect(texts).toContain('active');
    expect(texts).toContain('id `u-1`');
    expect(texts).toContain('thread');
    expect(cells(table(message).rows[0])).toContain('details');
    expect(checkMessageLimits(message)).toEqual([]);
  });

  it('shows a failed get like any failure', () => {
    expect(getSummaryMessage(failure(), options)).toEqual(resultMessage(failure(), options));
  });
});

describe('userDetailsThreadMessage', () => {
  it('lists every attribute as readable lines', () => {
    const lines = userAttributeLines({
      ...user,
      emails: [
        { value: 'jane@example.com', type: 'work', primary: true },
        { value: 'j@example.org', primary: false },
      ],
      meta: { created: '2025-01-01' },
      schemas: ['a', 'b'],
    });
    expect(lines).toEqual(
      expect.arrayContaining([
        ['id', 'u-1'],
        ['userName', 'jane@example.com'],
        ['active', 'true'],
        ['name.givenName', 'Jane'],
        ['name.familyName', 'Doe'],
        ['emails', 'jane@example.com (work, primary)'],
        ['emails', 'j@example.org'],
        ['meta.created', '2025-01-01'],
        ['schemas', 'a, b'],
      ]),
    );
    expect(lines[0]).toEqual(['id', 'u-1']);
    const message = userDetailsThreadMessage(success('get'), { sandbox: false });
    const text = mrkdwnTexts(message.blocks).join('\n');
    expect(text).toContain('*name.givenName*: Jane');
    expect(text).toContain('*emails*: jane@example.com (work, primary)');
    expect(checkMessageLimits(message)).toEqual([]);
  });

  it('copes with a result that has no user', () => {
    const message = userDetailsThreadMessage(failure());
    expect(checkMessageLimits(message)).toEqual([]);
    expect(mrkdwnTexts(message.blocks).join()).toContain('No SCIM user details');
  });

  it('says SANDBOX when asked to', () => {
    expect(JSON.stringify(userDetailsThreadMessage(success('get'), { sandbox: true }))).toContain('SANDBOX');
    expect(JSON.stringify(userDetailsThreadMessage(success('get'), { sandbox: false }))).not.toContain(
      'SANDBOX',
    );
  });
});
