/**
 * Issue 13, "Messages people read": the top-level `text` is what Slack shows in notifications and
 * reads out to screen readers, so it is one short sentence, never a table.
 */
import { messageExamples } from '../../support/message-examples';
import {
  errorNotice,
  refusalMessage,
  resultMessage,
  usageMessage,
  workingNotice,
} from '../../../src/views/slack';
import { failure, skipped, success } from './helpers';

/** Ephemeral, so never a notification; its text lists the entries for screen readers. */
const LISTS = new Set(['audit-history']);

describe('fallback text', () => {
  const examples = messageExamples().flatMap((example) =>
    example.kind === 'message' && !LISTS.has(example.name) ? [[example.name, example.payload.text]] : [],
  );

  it.each(examples)('fallback text is one sentence under 150 characters: %s', (_name, text) => {
    expect(text).not.toContain('\n');
    expect(text).not.toContain('```');
    expect(text.length).toBeLessThan(150);
    expect(text.trim()).toBe(text);
  });

  it('fallback text is one sentence under 150 characters for every result, notice and usage kind', () => {
    const long = 'x'.repeat(5000);
    const texts = [
      ...[success('create'), success('get'), success('enable'), skipped(), failure()].flatMap((result) => [
        resultMessage(result, { sandbox: false }).text,
        resultMessage(result, { sandbox: true }).text,
      ]),
      usageMessage('/iam-create-user').text,
      usageMessage('/iam-audit').text,
      usageMessage('/nope').text,
      usageMessage('/iam-create-user', long, { typed: long, sandbox: true }).text,
      refusalMessage('Only operators (IAM_OPERATORS) can run /iam-get-user.').text,
      errorNotice('/iam-get-user failed unexpectedly; the bot’s log has the details.').text,
      workingNotice('/iam-get-user jane@example.com').text,
    ];
    for (const text of texts) {
      expect(text).not.toContain('\n');
      expect(text.length).toBeLessThan(150);
    }
  });
});
