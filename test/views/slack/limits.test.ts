import type { KnownBlock } from '@slack/types';
import { messageExamples } from '../../support/message-examples';
import { LIMITS, type SlackMessage } from '../../../src/views/slack';
import { checkMessageLimits, checkViewLimits } from '../../support/block-kit-limits';

describe('every example', () => {
  it.each(messageExamples().map((example) => [example.name, example] as const))(
    '%s is within limits',
    (_, example) => {
      const problems =
        example.kind === 'message' ? checkMessageLimits(example.payload) : checkViewLimits(example.payload);
      expect(problems).toEqual([]);
    },
  );

  it('covers every surface, with unique names and one sandbox example', () => {
    const examples = messageExamples();
    const names = examples.map((example) => example.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'create-success',
        'update-success-sandbox',
        'get-summary',
        'get-thread-details',
        'skipped',
        'failure',
        'approval-request',
        'approval-approved-disabled',
        'approval-denied',
        'approval-expired',
        'requester-notice',
        'refusal',
        'usage',
        'modal-create',
        'modal-update-prefilled',
        'home',
      ]),
    );
    expect(examples.filter((example) => JSON.stringify(example.payload).includes('SANDBOX'))).toHaveLength(1);
  });

  it('is deterministic', () => {
    expect(JSON.stringify(messageExamples())).toBe(JSON.stringify(messageExamples()));
  });
});

describe('checkMessageLimits', () => {
  const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
  const table = (cell: string): KnownBlock => ({ type: 'table', rows: [[{ type: 'raw_text', text: cell }]] });

  it('accepts a small message', () => {
    expect(checkMessageLimits({ text: 'hi', blocks: [section('hi'), table('x')] })).toEqual([]);
  });

  it('finds every kind of violation', () => {
    const message: SlackMessage = {
      text: '',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
        section('s'.repeat(3001)),
        {
          type: 'section',
          fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn' as const, text: 'f' })),
        },
        table(''),
        table('ok'),
        {
          type: 'actions',
          block_id: 'b'.repeat(256),
          elements: [
            {
              type: 'button',
              action_id: 'a'.repeat(256),
              text: { type: 'plain_text', text: 'x' },
              value: 'v'.repeat(2001),
            },
          ],
        },
        ...Array.from({ length: 50 }, () => section('x'.repeat(200))),
      ],
    };
    const problems = checkMessageLimits(message).join('\n');
    expect(problems).toContain('text: empty');
    expect(problems).toContain('blocks: 56 blocks > 50');
    expect(problems).toContain('blocks[0].text.text: 151 chars > 150');
    expect(problems).toContain('blocks[1].text.text: 3001 chars > 3000');
    expect(problems).toContain('blocks[2].fields: 11 > 10');
    expect(problems).toContain('blocks[3].rows[0][0]: empty raw_text cell');
    expect(problems).toContain('2 table blocks > 1');
    expect(problems).toContain('blocks[5].block_id: 256 chars > 255');
    expect(problems).toContain('blocks[5].elements[0].action_id: 256 chars > 255');
    expect(problems).toContain('blocks[5].elements[0].value: 2001 chars > 2000');
    expect(problems).toContain(`chars of block text > ${LIMITS.messageBlockText}`);
  });

  it('checks table shape', () => {
    const wide = Array.from({ length: 21 }, () => ({ type: 'raw_text' as const, text: 'c' }));
    const rows = Array.from({ length: 101 }, () => wide);
    const problems = checkMessageLimits({ text: 't', blocks: [{ type: 'table', rows }] }).join('\n');
    expect(problems).toContain('rows: 101 > 100');
    expect(problems).toContain('rows[0]: 21 cells > 20');
  });
});

describe('checkViewLimits', () => {
  it('finds modal violations', () => {
    const problems = checkViewLimits({
      type: 'modal',
      title: { type: 'plain_text', text: 't'.repeat(25) },
      submit: { type: 'plain_text', text: 's'.repeat(25) },
      private_metadata: 'm'.repeat(3001),
      blocks: [
        ...Array.from({ length: 101 }, () => ({ type: 'divider' as const })),
        { type: 'table', rows: [[{ type: 'raw_text', text: 'x' }]] },
      ],
    }).join('\n');
    expect(problems).toContain('title.text: 25 chars > 24');
    expect(problems).toContain('submit.text: 25 chars > 24');
    expect(problems).toContain('private_metadata: 3001 chars > 3000');
    expect(problems).toContain('blocks: 102 blocks > 100');
    expect(problems).toContain('table blocks are not allowed');
  });
});
