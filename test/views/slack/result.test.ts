import type { TableBlock } from '@slack/types';
import { buildResult } from '../../../src/iam/result';
import {
  CELL_MAX,
  resultMessage,
  userAttributeLines,
  userDetailsThreadMessage,
} from '../../../src/views/slack';
import { checkMessageLimits } from '../../support/block-kit-limits';
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
  it('result table has at most 5 columns and no brand, instanceName or raw JSON', () => {
    const results = [success('create'), success('update'), success('get'), success('disable')];
    for (const result of results) {
      const message = resultMessage(result, options);
      const t = table(message);
      expect(t.rows).toHaveLength(2);
      expect(t.rows[0].length).toBeLessThanOrEqual(5);
      expect(t.column_settings?.length).toBe(t.rows[0].length);
      const shown = JSON.stringify(message);
      expect(shown).not.toContain('Atlassian IAM_instance_1');
      expect(shown).not.toContain('brand');
      expect(shown).not.toContain('instanceName');
      for (const cell of t.rows.flatMap(cells)) expect(cell).not.toMatch(/[{}]/); // no SCIM JSON
      expect(checkMessageLimits(message)).toEqual([]);
    }
  });

  it('success: user, email, id, active and what changed', () => {
    const updated = buildResult({
      action: 'update',
      instanceName: INSTANCE,
      profile: { email: 'jane@example.com', title: 'Team Lead', department: null, active: false },
      user,
    });
    const t = table(resultMessage(updated, options));
    expect(cells(t.rows[0])).toEqual(['User', 'Email', 'ID', 'Active', 'Changed']);
    expect(cells(t.rows[1])).toEqual([
      'Jane Doe',
      'jane@example.com',
      'u-1',
      'yes',
      'title: Team Lead · department cleared',
    ]);
    expect(cells(table(resultMessage(success('disable'), options)).rows[1])).toContain('disabled');
    expect(cells(table(resultMessage(success('get'), options)).rows[0])).toEqual([
      'User',
      'Email',
      'ID',
      'Active',
    ]);
  });

  it('skipped: the reason once, in the sentence, and no table without a user record', () => {
    const message = resultMessage(skipped(), options);
    expect(blocksOfType(message.blocks, 'table')).toEqual([]);
    const shown = allStrings(message.blocks).join('\n');
    expect(shown.split('User does not exist')).toHaveLength(2);
    expect(shown).toContain('Nothing was changed');
  });

  it('a failure shows its error once', () => {
    const message = resultMessage(failure(), options);
    const shown = allStrings(message.blocks).join('\n');
    expect(shown.split('User does not exist')).toHaveLength(2);
    expect(mrkdwnTexts(message.blocks).join('\n')).toContain(
      '*Failed*: could not look up `x@example.com`.\n>User does not exist\n_HTTP status 404_',
    );
    expect(blocksOfType(message.blocks, 'table')).toEqual([]);
  });

  it('never sends an empty raw_text cell, and cuts long cells', () => {
    const blank = buildResult({
      action: 'update',
      instanceName: INSTANCE,
      profile: { title: 'x'.repeat(10_000) },
      user: { id: 'u-2', userName: '\n\t', active: true },
    });
    const t = table(resultMessage(blank, options));
    for (const row of t.rows) for (const cell of cells(row)) expect(cell.trim()).not.toBe('');
    for (const cell of cells(t.rows[1])) expect(cell.length).toBeLessThanOrEqual(CELL_MAX);
    expect(cells(t.rows[1]).at(-1)?.endsWith('…')).toBe(true);
  });

  it('makes the outcome obvious in the header', () => {
    const cases = [
      [success('update'), '✅ Update User Results (Atlassian IAM)'],
      [skipped(), '⏭️ Disable User Results (Atlassian IAM)'],
      [failure(), '❌ Get User Results (Atlassian IAM)'],
    ] as const;
    for (const [result, title] of cases) {
      expect(resultMessage(result, options).blocks[0]).toEqual({
        type: 'header',
        text: { type: 'plain_text', text: title, emoji: true },
      });
    }
  });

  it('fallback text is one sentence under 150 characters for each result kind', () => {
    const long = buildResult({
      action: 'disable',
      instanceName: INSTANCE,
      profile: { email: `${'j'.repeat(300)}@example.com` },
      error: { status: 503, message: 'Service unavailable. '.repeat(100) },
    });
    const cases = [
      [success('create'), false, 'Created jane@example.com (active) in Atlassian'],
      [success('get'), false, 'Found jane@example.com (active) in Atlassian'],
      [success('update'), true, '[SANDBOX] Updated jane@example.com (active)'],
      [skipped(), false, 'Skipped disabling x@example.com: User does not exist'],
      [failure(), false, 'Could not look up x@example.com: User does not exist'],
    ] as const;
    for (const [result, sandbox, sentence] of cases) {
      expect(resultMessage(result, { ...options, sandbox }).text).toBe(sentence);
    }
    const text = resultMessage(long, options).text;
    expect(text.startsWith('Could not disable jjj')).toBe(true);
    expect(text.length).toBeLessThan(150);
    expect(text).not.toContain('\n');
  });

  it('names who ran it, but only mentions valid Slack ids', () => {
    expect(mrkdwnTexts(resultMessage(success(), options).blocks).join()).toContain('Run by <@U0ACTOR>');
    const bad = mrkdwnTexts(
      resultMessage(success(), { sandbox: false, actorId: 'U1> <!here' }).blocks,
    ).join();
    expect(bad).not.toContain('<!here');
    expect(bad).not.toContain('Run by');
  });

  it('points to the thread only when the attributes are posted there', () => {
    const pointer = 'Every attribute is in the thread';
    const threaded = resultMessage(success('create'), { ...options, detailsInThread: true });
    expect(mrkdwnTexts(threaded.blocks).join()).toContain(pointer);
    expect(mrkdwnTexts(resultMessage(success('create'), options).blocks).join()).not.toContain(pointer);
  });

  it('says SANDBOX when sandbox is true, and not otherwise', () => {
    const sandboxed = resultMessage(success(), { sandbox: true });
    expect(allStrings(sandboxed.blocks).join()).toContain('SANDBOX');
    expect(sandboxed.text.startsWith('[SANDBOX]')).toBe(true);
    const real = resultMessage(success(), { sandbox: false });
    expect(JSON.stringify(real)).not.toContain('SANDBOX');
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
