/**
 * Whatever users or the directory put in a value, the messages stay inert (no mention, no forged link)
 * and inside Slack's limits.
 */
import { buildResult, type IamResult } from '../../../src/iam/result';
import {
  approvalDecidedMessage,
  approvalExpiredMessage,
  approvalRequestMessage,
  errorNotice,
  homeView,
  refusalMessage,
  requesterNotice,
  resultMessage,
  usageMessage,
  userDetailsThreadMessage,
  userModal,
  workingNotice,
  type ApprovalCard,
  type SlackMessage,
} from '../../../src/views/slack';
import { checkMessageLimits, checkViewLimits } from '../../support/block-kit-limits';
import type { HomeView, ModalView } from '@slack/types';
import { card, mrkdwnTexts } from './helpers';

const EVIL = '<!channel> <@U123> <http://evil|click> & more';
const ESCAPED = '&lt;!channel&gt; &lt;@U123&gt; &lt;http://evil|click&gt; &amp; more';

const evilUser = {
  id: EVIL,
  userName: EVIL,
  displayName: EVIL,
  name: { givenName: EVIL, familyName: EVIL },
  title: EVIL,
  emails: [{ value: EVIL, type: EVIL, primary: true }],
  [EVIL]: EVIL,
  active: true,
};

function results(user: Record<string, unknown>, text: string): IamResult[] {
  const profile = { email: text, username: text, title: text };
  return [
    buildResult({ action: 'create', instanceName: text, profile, user }),
    buildResult({ action: 'get', instanceName: text, profile, user }),
    buildResult({ action: 'update', instanceName: text, profile, skippedReason: text }),
    buildResult({ action: 'get', instanceName: text, profile, error: { status: 500, message: text } }),
    buildResult({ action: 'disable', instanceName: text, profile, error: { status: null, message: text } }),
  ];
}

function cards(text: string): ApprovalCard[] {
  const base = card({ target: text, reason: text, currentId: text });
  const decided = { ...base, decidedBy: 'U0APP', decidedAt: new Date('2025-01-15T10:00:00Z') };
  return [
    base,
    { ...base, requesterId: text },
    { ...decided, status: 'approved' },
    { ...decided, status: 'completed' },
    { ...decided, status: 'denied', decidedBy: text },
    { ...base, status: 'expired' },
  ];
}

function everything(
  user: Record<string, unknown>,
  text: string,
): { messages: SlackMessage[]; views: (ModalView | HomeView)[] } {
  const messages: SlackMessage[] = [];
  for (const result of results(user, text)) {
    for (const sandbox of [false, true]) {
      messages.push(resultMessage(result, { sandbox, actorId: text }));
      messages.push(resultMessage(result, { sandbox, actorId: 'U0ACTOR' }));
      messages.push(resultMessage(result, { sandbox, actorId: text, detailsInThread: true }));
      messages.push(userDetailsThreadMessage(result, { sandbox }));
    }
  }
  for (const c of cards(text)) {
    messages.push(approvalRequestMessage(c, { sandbox: true }));
    messages.push(approvalExpiredMessage(c, { sandbox: false }));
    for (const outcome of [undefined, ...results(user, text)]) {
      messages.push(approvalDecidedMessage(c, { sandbox: false, outcome }));
      messages.push(requesterNotice(c, outcome, { sandbox: true }));
    }
  }
  messages.push(refusalMessage(text), errorNotice(text), workingNotice(text));
  messages.push(usageMessage(text, text), usageMessage('/iam-update-user', text));
  const initial = { email: text, title: text, department: text };
  const views: (ModalView | HomeView)[] = [
    userModal('create', { channelId: 'C1', sandbox: true, initial }),
    userModal('update', { channelId: 'C1', sandbox: false, initial }),
    homeView({
      connection: { ok: false, status: null, message: text },
      sandbox: true,
      instanceName: text,
      viewer: { userId: text, operator: true, approver: true },
      pending: cards(text).concat(Array.from({ length: 100 }, () => cards(text)[1])),
    }),
  ];
  return { messages, views };
}

describe('mrkdwn injection', () => {
  const { messages, views } = everything(evilUser, EVIL);
  const texts = [
    ...messages.flatMap((m) => [m.text, ...mrkdwnTexts(m.blocks)]),
    ...views.flatMap((v) => mrkdwnTexts(v.blocks)),
  ];

  it('never lets a value mention anyone or forge a link', () => {
    expect(texts.length).toBeGreaterThan(100);
    for (const text of texts) {
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<@U123>');
      expect(text).not.toContain('<http://evil');
      expect(text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
  });

  it('still shows the value, escaped', () => {
    expect(texts.some((text) => text.includes(ESCAPED))).toBe(true);
  });
});

describe('oversized values', () => {
  const bigUser = {
    id: 'u-big',
    userName: 'big@example.com',
    title: 'T'.repeat(10_000),
    displayName: 'D'.repeat(10_000),
    emails: Array.from({ length: 500 }, (_, i) => ({
      value: `user${i}@example.com`,
      type: 'work',
      primary: i === 0,
    })),
    ...Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`attribute${i}`, `value ${i} `.repeat(20)])),
    active: true,
  };

  it('stay within Slack limits everywhere', () => {
    for (const text of ['x'.repeat(10_000), '&'.repeat(5_000), 'reason '.repeat(715), '😀'.repeat(3000)]) {
      const { messages, views } = everything(bigUser, text);
      for (const message of messages) expect(checkMessageLimits(message)).toEqual([]);
      for (const view of views) expect(checkViewLimits(view)).toEqual([]);
    }
  });

  it('cut the attribute list with a pointer to the CLI', () => {
    const result = buildResult({ action: 'get', instanceName: 'i', profile: {}, user: bigUser });
    const message = userDetailsThreadMessage(result, { sandbox: false });
    expect(checkMessageLimits(message)).toEqual([]);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    const last = mrkdwnTexts(message.blocks).at(-1) ?? '';
    expect(last).toContain('The list was cut');
    expect(last).toContain('--json');
    expect(last).toContain('"id":"u-big"');
  });

  it('keep a 5,000-character reason inside one section', () => {
    const message = approvalRequestMessage(card({ reason: 'r'.repeat(5000) }), { sandbox: false });
    expect(checkMessageLimits(message)).toEqual([]);
    expect(mrkdwnTexts(message.blocks).join()).toContain('r'.repeat(2000));
  });
});
