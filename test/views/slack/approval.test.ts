import type { ActionsBlock, Button } from '@slack/types';
import { buildResult } from '../../../src/iam/result';
import {
  APPROVE_ACTION_ID,
  approvalDecidedMessage,
  approvalExpiredMessage,
  approvalRequestMessage,
  DECISION_BLOCK_ID,
  DENY_ACTION_ID,
  requesterNotice,
} from '../../../src/views/slack';
import { checkMessageLimits } from '../../support/block-kit-limits';
import { allStrings, blocksOfType, card, INSTANCE, mrkdwnTexts, success, user } from './helpers';

const disabled = buildResult({
  action: 'disable',
  instanceName: INSTANCE,
  profile: { email: 'jane@example.com' },
  user: { ...user, active: false },
});
const skippedDisable = buildResult({
  action: 'disable',
  instanceName: INSTANCE,
  profile: { email: 'jane@example.com' },
  skippedReason: 'User is already disabled.',
  active: false,
});
const failedDisable = buildResult({
  action: 'disable',
  instanceName: INSTANCE,
  profile: { email: 'jane@example.com' },
  error: { status: 503, message: 'Service unavailable' },
});

describe('approvalRequestMessage', () => {
  const message = approvalRequestMessage(card(), { sandbox: false });

  it('has Approve and Deny buttons carrying the request id', () => {
    const actions = blocksOfType(message.blocks, 'actions') as ActionsBlock[];
    expect(actions).toHaveLength(1);
    expect(actions[0].block_id).toBe(DECISION_BLOCK_ID);
    const [approve, deny] = actions[0].elements as Button[];
    expect(approve).toMatchObject({ action_id: 'iam_disable_approve', value: 'req-1', style: 'danger' });
    expect(approve.action_id).toBe(APPROVE_ACTION_ID);
    expect(approve.confirm?.text.text).toContain('Disable jane@example.com?');
    expect(deny).toMatchObject({ action_id: 'iam_disable_deny', value: 'req-1' });
    expect(deny.action_id).toBe(DENY_ACTION_ID);
    expect(deny.style).toBeUndefined();
  });

  it('says who asked, which user, its status, why and until when', () => {
    const text = mrkdwnTexts(message.blocks).join('\n');
    expect(text).toContain('<@U0REQ>');
    expect(text).toContain('`jane@example.com`');
    expect(text).toContain('🟢 active');
    expect(text).toContain('>left');
    expect(text).toContain('*Expires*\n<!date^1737019800^{date_short_pretty} {time}|2025-01-16 09:30 UTC>');
    expect(checkMessageLimits(message)).toEqual([]);
  });

  it('shows unknown and inactive status and omits an empty reason', () => {
    const unknown = mrkdwnTexts(
      approvalRequestMessage(card({ currentActive: undefined, currentId: null, reason: ' ' }), {
        sandbox: false,
      }).blocks,
    ).join('\n');
    expect(unknown).toContain('❔ unknown');
    expect(unknown).not.toContain('*Reason*');
    const inactive = mrkdwnTexts(
      approvalRequestMessage(card({ currentActive: false }), { sandbox: false }).blocks,
    );
    expect(inactive.join('\n')).toContain('⚪ inactive');
  });

  it('says SANDBOX only in sandbox mode', () => {
    expect(allStrings(approvalRequestMessage(card(), { sandbox: true })).join()).toContain('SANDBOX');
    expect(allStrings(message).join()).not.toContain('SANDBOX');
  });
});

describe('approvalDecidedMessage', () => {
  const approved = card({
    status: 'completed',
    decidedBy: 'U0APP',
    decidedAt: new Date('2025-01-15T10:05:00Z'),
  });

  it('has no buttons and shows who decided and when', () => {
    const message = approvalDecidedMessage(approved, { sandbox: false, outcome: disabled });
    expect(blocksOfType(message.blocks, 'actions')).toHaveLength(0);
    const text = mrkdwnTexts(message.blocks).join('\n');
    expect(text).toContain('*Decided by*\n<@U0APP>');
    expect(text).toContain('<!date^1736935500^');
    expect(text).toContain('is now disabled');
    expect(message.text).toContain('User disabled');
    expect(checkMessageLimits(message)).toEqual([]);
  });

  it('reports skipped and failed disables', () => {
    const skippedText = mrkdwnTexts(
      approvalDecidedMessage(approved, { sandbox: false, outcome: skippedDisable }).blocks,
    ).join('\n');
    expect(skippedText).toContain('skipped: User is already disabled.');
    const failedText = mrkdwnTexts(
      approvalDecidedMessage(approved, { sandbox: false, outcome: failedDisable }).blocks,
    ).join('\n');
    expect(failedText).toContain('disabling failed (error 503): Service unavailable');
  });

  it('reports an approval still being carried out', () => {
    const message = approvalDecidedMessage({ ...approved, status: 'approved' }, { sandbox: false });
    expect(message.blocks[0]).toMatchObject({ type: 'header' });
    expect(mrkdwnTexts(message.blocks).join('\n')).toContain('Disabling now');
  });

  it('reports a denial', () => {
    const message = approvalDecidedMessage({ ...approved, status: 'denied' }, { sandbox: false });
    const text = mrkdwnTexts(message.blocks).join('\n');
    expect(text).toContain('Denied by <@U0APP>');
    expect(text).toContain('Nothing was changed');
    expect(blocksOfType(message.blocks, 'actions')).toHaveLength(0);
  });

  it('reports an expiry', () => {
    const message = approvalExpiredMessage(card(), { sandbox: false });
    const text = mrkdwnTexts(message.blocks).join('\n');
    expect(text).toContain('Nobody decided before <!date^1737019800^');
    expect(text).toContain('*Expired*');
    expect(blocksOfType(message.blocks, 'actions')).toHaveLength(0);
    expect(message.text).toContain('expired');
  });
});

describe('requesterNotice', () => {
  const approved = card({
    status: 'completed',
    decidedBy: 'U0APP',
    decidedAt: new Date('2025-01-15T10:05:00Z'),
  });

  it('mentions the requester with the outcome', () => {
    const message = requesterNotice(approved, disabled);
    expect(message.text).toBe(
      '<@U0REQ> your request to disable `jane@example.com` was approved by <@U0APP>: the user is now disabled.',
    );
    expect(checkMessageLimits(message)).toEqual([]);
    expect(requesterNotice({ ...approved, status: 'denied' }).text).toContain('was denied by <@U0APP>');
    expect(requesterNotice(card({ status: 'expired' })).text).toContain('expired before anyone decided');
    expect(requesterNotice(approved, failedDisable).text).toContain('failed (error 503)');
  });

  it('says SANDBOX when asked to', () => {
    const message = requesterNotice(approved, disabled, { sandbox: true });
    expect(message.text.startsWith('[SANDBOX]')).toBe(true);
    expect(allStrings(message.blocks).join()).toContain('SANDBOX');
  });
});

describe('approval cards for enable and update', () => {
  it('an enable card says enable on its header, button and confirmation, with the same action ids', () => {
    const message = approvalRequestMessage(card({ action: 'enable', currentActive: false }), {
      sandbox: false,
    });
    const text = allStrings(message).join('\n');
    expect(text).toContain('Approval needed: enable an Atlassian user');
    expect(text).toContain('Approve and enable');
    expect(text).toContain('Enable this user?');
    const [actions] = blocksOfType(message.blocks, 'actions') as ActionsBlock[];
    expect(actions.elements.map((e) => (e as Button).action_id)).toEqual([APPROVE_ACTION_ID, DENY_ACTION_ID]);
    expect(checkMessageLimits(message)).toEqual([]);
  });

  it('an update card shows each changed attribute before → after, escaped, and stays within limits', () => {
    const changes = [
      { attribute: 'userName', before: 'jane@example.com', after: 'mallory@evil.example' },
      { attribute: 'title', before: null, after: '<!here> *Lead*' },
      ...Array.from({ length: 30 }, (_, i) => ({ attribute: `x${i}`, before: 'a'.repeat(500), after: 'b' })),
    ];
    const message = approvalRequestMessage(card({ action: 'update', changes }), { sandbox: false });
    const text = mrkdwnTexts(message.blocks).join('\n');
    expect(text).toContain('`userName`: `jane@example.com` → `mallory@evil.example`');
    expect(text).toContain('`title`: _none_ →');
    expect(text).not.toContain('<!here>');
    expect(text).toMatch(/…and \d+ more/);
    expect(checkMessageLimits(message)).toEqual([]);
    const decided = approvalDecidedMessage(card({ action: 'update', changes, status: 'completed' }), {
      sandbox: false,
      outcome: success('update'),
    });
    expect(allStrings(decided).join('\n')).toContain('User updated');
    expect(checkMessageLimits(decided)).toEqual([]);
  });

  it('a failed request says why, with no buttons', () => {
    const failed = card({
      status: 'failed',
      failureReason: 'disable request id: not a usable Atlassian user id',
    });
    const message = approvalDecidedMessage(failed, { sandbox: false });
    expect(allStrings(message).join('\n')).toContain('Disable request failed');
    expect(allStrings(message).join('\n')).toContain('not a usable Atlassian user id');
    expect(blocksOfType(message.blocks, 'actions')).toEqual([]);
    expect(requesterNotice(failed).text).toContain('could not be carried out');
  });
});
