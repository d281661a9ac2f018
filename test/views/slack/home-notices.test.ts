import {
  checkMessageLimits,
  checkViewLimits,
  errorNotice,
  HOME_PENDING_MAX,
  homeView,
  refusalMessage,
  usageMessage,
  workingNotice,
  type HomeInput,
} from '../../../src/views/slack';
import { allStrings, card, mrkdwnTexts } from './helpers';

const base: HomeInput = {
  connection: { ok: true },
  sandbox: false,
  instanceName: 'Atlassian IAM_instance_1',
  viewer: { userId: 'U0VIEW', operator: true, approver: false },
  pending: [],
};

describe('homeView', () => {
  it('shows connection, directory, permissions and pending requests', () => {
    const view = homeView({ ...base, pending: [card(), card({ id: 'req-2', target: 'john@example.com' })] });
    expect(view.type).toBe('home');
    const text = mrkdwnTexts(view.blocks).join('\n');
    expect(text).toContain('✅ Connected');
    expect(text).toContain('*Production*');
    expect(text).toContain('✅ run commands');
    expect(text).toContain('🚫 approve disable requests');
    expect(text).toContain('`jane@example.com`');
    expect(text).toContain('`john@example.com`');
    expect(allStrings(view.blocks).join()).toContain('Pending disable requests (2)');
    expect(allStrings(view).join()).not.toContain('SANDBOX');
    expect(checkViewLimits(view)).toEqual([]);
  });

  it('says which pending requests are enables or updates', () => {
    const view = homeView({
      ...base,
      pending: [card({ action: 'enable' }), card({ id: 'r2', action: 'update' })],
    });
    const text = mrkdwnTexts(view.blocks).join('\n');
    expect(text).toContain('enable *`jane@example.com`*');
    expect(text).toContain('update *`jane@example.com`*');
  });

  it('shows a failed or unchecked connection and the SANDBOX', () => {
    const failed = mrkdwnTexts(
      homeView({
        ...base,
        sandbox: true,
        connection: { ok: false, status: 401, message: 'The token is refused.' },
      }).blocks,
    ).join('\n');
    expect(failed).toContain('❌ Not connected (HTTP 401): The token is refused.');
    expect(failed).toContain('SANDBOX');
    expect(mrkdwnTexts(homeView({ ...base, connection: 'unchecked' }).blocks).join()).toContain(
      'Not checked',
    );
    expect(mrkdwnTexts(homeView(base).blocks).join()).toContain('No disable request is waiting');
  });

  it('lists at most 20 pending requests, then says how many more', () => {
    const pending = Array.from({ length: 250 }, (_, i) =>
      card({ id: `req-${i}`, target: `user${i}@example.com` }),
    );
    const view = homeView({ ...base, pending });
    const text = mrkdwnTexts(view.blocks).join('\n');
    expect(text).toContain(`user${HOME_PENDING_MAX - 1}@example.com`);
    expect(text).not.toContain(`user${HOME_PENDING_MAX}@example.com`);
    expect(text).toContain(`…and ${250 - HOME_PENDING_MAX} more.`);
    expect(checkViewLimits(view)).toEqual([]);
  });
});

describe('notices', () => {
  it('refusal, error and working notices are one section with a text fallback', () => {
    for (const message of [
      refusalMessage('Only approvers can decide.'),
      errorNotice('boom'),
      workingNotice('/iam-get-user jane@example.com'),
    ]) {
      expect(message.blocks[0].type).toBe('section');
      expect(message.text.length).toBeGreaterThan(0);
      expect(checkMessageLimits(message)).toEqual([]);
    }
    expect(refusalMessage('Only approvers can decide.').text).toBe(
      '🚫 Only approvers can decide. Nothing was done.',
    );
    expect(errorNotice('boom', { sandbox: true }).text).toBe('[SANDBOX] ❌ boom');
  });

  it('usage shows the three text forms of the command', () => {
    const message = usageMessage('/iam-create-user', 'user-profile is not valid JSON');
    const text = mrkdwnTexts(message.blocks).join('\n');
    expect(text).toContain('⚠️ user-profile is not valid JSON');
    expect(text).toContain('`/iam-create-user {"email":"jane@example.com"');
    expect(text).toContain('`/iam-create-user email=jane@example.com title="Team Lead" allow-enable=false`');
    expect(text).toContain('`/iam-create-user jane@example.com`');
    expect(text).toContain('form opens');
    expect(checkMessageLimits(message)).toEqual([]);
    expect(mrkdwnTexts(usageMessage('iam-disable-user').blocks).join()).toContain(
      'reason="left the company"',
    );
    expect(mrkdwnTexts(usageMessage('/nope').blocks).join()).toContain('Unknown command');
  });
});
