import {
  errorNotice,
  HOME_PENDING_MAX,
  homeView,
  invalidJsonProblem,
  refusalMessage,
  restrictedHomeView,
  TYPED_QUOTE_MAX,
  usageMessage,
  workingNotice,
  type HomeInput,
} from '../../../src/views/slack';
import { checkMessageLimits, checkViewLimits } from '../../support/block-kit-limits';
import { allStrings, card, mrkdwnTexts } from './helpers';

const base: HomeInput = {
  connection: { ok: true },
  sandbox: false,
  instanceName: 'Atlassian IAM_instance_1',
  viewer: { userId: 'U0VIEW', operator: true, approver: false },
  pending: [],
};

describe('restrictedHomeView', () => {
  it('says what the bot is for and why nothing else is shown, within Slack limits', () => {
    const none = restrictedHomeView('no-permissions', { sandbox: true });
    const unchecked = restrictedHomeView('unchecked', { sandbox: false });
    expect(mrkdwnTexts(none.blocks).join('\n')).toMatch(/lets IT operators[\s\S]*no permissions/);
    expect(allStrings(none).join()).toContain('SANDBOX');
    expect(mrkdwnTexts(unchecked.blocks).join('\n')).toContain('Could not check your permissions');
    for (const view of [none, unchecked]) expect(checkViewLimits(view)).toEqual([]);
  });

  it('tells a member who may ask for groups how to, naming at most 10 (or none when the directory could not list them)', () => {
    const names = Array.from({ length: 12 }, (_, i) => `team-${i}<x>`);
    const open = mrkdwnTexts(
      restrictedHomeView('no-permissions', { sandbox: false, requestable: names }).blocks,
    );
    expect(open.join('\n')).toContain('You can ask for access to "team-0&lt;x&gt;"');
    expect(open.join('\n')).toContain(
      '"team-9&lt;x&gt;" and 2 more: type `/iam-grant me &lt;group&gt; for 8h`',
    );
    expect(open.join('\n')).not.toContain('no permissions');
    const unlisted = restrictedHomeView('no-permissions', { sandbox: false, requestable: null });
    expect(mrkdwnTexts(unlisted.blocks).join('\n')).toContain(
      'You can ask for access to some groups: type `/iam-grant` and pick one in the form',
    );
  });
});

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

  it('invalid JSON text gets the friendly message quoting what was typed', () => {
    const cases = [
      [
        'Unexpected token \'}\', "{"email": }" is not valid JSON',
        'unexpected } (is a value missing, or a quote?)',
      ],
      [
        "Expected ',' or '}' after property value in JSON at position 13",
        'a comma or } is missing after a value (near character 14)',
      ],
      [
        "Expected property name or '}' in JSON at position 1",
        'every key needs "double quotes" (near character 2)',
      ],
      ['Unexpected end of JSON input', 'it ends too early (a closing } or " is missing)'],
      ['Something new from V8 at position 3', 'check the quotes, colons and commas (near character 4)'],
    ];
    for (const [parser, words] of cases) {
      expect(invalidJsonProblem(parser)).toBe(`That profile isn't valid JSON: ${words}.`);
    }
    const typed = '{"email": "<!channel>" `x` ' + 'y'.repeat(1000);
    const message = usageMessage('/iam-create-user', invalidJsonProblem('Unexpected end of JSON input'), {
      typed,
    });
    const shown = mrkdwnTexts(message.blocks).join('\n');
    expect(shown).toContain("⚠️ That profile isn't valid JSON: it ends too early");
    expect(shown).toContain('You typed: `{"email": "&lt;!channel&gt;" \'x\' yyy');
    expect(shown).not.toContain('<!channel>');
    const quoted = /You typed: `([^`]*)`/.exec(shown)?.[1] ?? '';
    expect(quoted.length).toBeLessThanOrEqual(TYPED_QUOTE_MAX);
    expect(quoted.endsWith('…')).toBe(true);
    expect(message.text).toBe(
      '⚠️ That profile isn\'t valid JSON: it ends too early (a closing } or " is missing).',
    );
    expect(checkMessageLimits(message)).toEqual([]);
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
