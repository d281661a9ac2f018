/**
 * /iam-audit through Bolt's processEvent (FakeReceiver): operators see the latest audit entries about
 * one user, ephemerally; everyone else is refused; bad text gets the usage help.
 */
import type { AuditEntry, NewAuditEntry } from '../../src/store/types';
import {
  blocksOf,
  type DrivenBot,
  SECRETS,
  shown,
  slashCommand,
  startWorld,
  type World,
} from '../support/fake-receiver';
import type { SlackCall } from '../support/slack-standin.cjs';

let world: World;

afterEach(async () => {
  await world?.close();
});

const ephemerals = () => world.slack.callsTo('response_url');
const posts = () => world.slack.callsTo('chat.postMessage');

/** Sends a slash command and waits until the listener has finished; returns what it acked. */
async function send(driven: DrivenBot, command: string, text: string, userId: string, tag: string) {
  const ack = await driven.receiver.send(slashCommand(command, text, userId, world.responseUrl(tag)));
  await driven.receiver.idle();
  return ack;
}

/** /iam-audit as `userId`; returns the one ephemeral reply it got. */
async function auditAs(driven: DrivenBot, text: string, userId = 'UADMIN'): Promise<SlackCall> {
  const before = ephemerals().length;
  const ack = await send(driven, '/iam-audit', text, userId, `audit-${before}`);
  expect(ack).toBeUndefined();
  expect(ephemerals()).toHaveLength(before + 1);
  return ephemerals()[before];
}

interface Cell {
  type: string;
  text: string;
}

/** The table block's rows below the header row, as cell texts. */
function tableRows(call: SlackCall): string[][] {
  const tables = blocksOf(call).filter((b) => b.type === 'table') as unknown as { rows: Cell[][] }[];
  if (tables.length === 0) return [];
  expect(tables).toHaveLength(1);
  const [head, ...rows] = tables[0].rows;
  expect(head.map((c) => c.text)).toEqual(['When', 'Who', 'What', 'Outcome']);
  return rows.map((row) => row.map((c) => c.text));
}

const entry = (overrides: Partial<NewAuditEntry>): NewAuditEntry => ({
  at: new Date('2026-11-29T11:00:00Z'),
  actor: 'cli:alice',
  source: 'cli',
  kind: 'result',
  command: 'iam-update-user',
  target: 'ann@example.com',
  outcome: 'success',
  requestId: null,
  detail: null,
  ...overrides,
});

async function history(driven: DrivenBot): Promise<AuditEntry[]> {
  return driven.bot.context.store.listAudit({ limit: 1000 });
}

describe('/iam-audit', () => {
  it('shows an operator the latest entries about that user only, ephemerally, and audits the viewing', async () => {
    world = await startWorld();
    world.seedUser('ann@example.com');
    world.seedUser('bea@example.com');
    const driven = await world.startBot();
    await send(driven, '/iam-get-user', 'ann@example.com', 'UADMIN', 'get-ann');
    await send(driven, '/iam-get-user', 'bea@example.com', 'UADMIN', 'get-bea');
    // A CLI entry that named her in other case: the search ignores case.
    await driven.bot.context.store.appendAudit(entry({ target: 'ANN@example.com' }));
    const postsBefore = posts().length;
    const scimBefore = world.scim().length;

    // Slack sends emails wrapped as links when the manifest says should_escape: false.
    const reply = await auditAs(driven, '<mailto:Ann@Example.com|Ann@Example.com>');
    expect(reply.args.response_type).toBe('ephemeral');
    expect(reply.args.replace_original).toBe(false);
    expect(posts()).toHaveLength(postsBefore); // nothing in the channel
    expect(world.scim()).toHaveLength(scimBefore); // no directory call
    const rows = tableRows(reply);
    expect(rows.map((r) => [r[1], r[2], r[3]])).toEqual([
      ['UADMIN', 'iam-get-user', '✅ success'],
      ['UADMIN', 'iam-get-user', '📥 received'],
      ['cli:alice', 'iam-update-user', '✅ success'],
    ]);
    expect(rows[2][0]).toBe('2026-11-29 11:00 UTC');
    expect(shown(reply)).not.toContain('bea@example.com');
    expect(shown(reply)).toContain('All 3 entries about `Ann@Example.com`');

    const viewing = (await history(driven)).filter((e) => e.command === 'iam-audit');
    expect(viewing).toEqual([
      expect.objectContaining({
        actor: 'UADMIN',
        source: 'slack',
        kind: 'result',
        target: 'Ann@Example.com',
        outcome: 'success',
        detail: { entries: 3 },
      }),
    ]);
    // No secret in what was shown or logged (the bot token travels only as the credential).
    const everything = JSON.stringify([
      world.slack.calls.map(({ args: { token: _token, ...rest } }) => rest),
      await history(driven),
    ]);
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
  });

  it('shows the latest 20 entries, newest first, and an empty state for a user nobody named', async () => {
    world = await startWorld();
    const driven = await world.startBot();
    for (let i = 0; i < 25; i += 1) {
      await driven.bot.context.store.appendAudit(
        entry({ at: new Date(Date.UTC(2026, 10, 1, 8, i)), command: `cmd-${i}` }),
      );
    }
    const reply = await auditAs(driven, 'ann@example.com');
    const rows = tableRows(reply);
    expect(rows).toHaveLength(20);
    expect(rows[0][2]).toBe('cmd-24');
    expect(rows[19][2]).toBe('cmd-5');
    expect(shown(reply)).toContain('The latest 20 entries');
    expect(shown(reply)).toContain('atlassian-iam audit --user ann@example.com');

    const empty = await auditAs(driven, 'nobody@example.com');
    expect(tableRows(empty)).toEqual([]);
    expect(empty.args.text).toContain('No audit entries about `nobody@example.com`');
    expect(shown(empty)).not.toContain('SANDBOX');
  });

  it('group=NAME shows the entries about that group (any case), alone or with a user, and audits the viewing', async () => {
    world = await startWorld();
    const driven = await world.startBot();
    const store = driven.bot.context.store;
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 8, minute));
    await store.appendAudit(
      entry({ at: at(1), command: 'iam-add-to-group', detail: { group: 'jira-software-users' } }),
    );
    await store.appendAudit(
      entry({ at: at(2), command: 'iam-add-to-group', detail: { group: 'confluence-users' } }),
    );
    await store.appendAudit(
      entry({
        at: at(3),
        command: 'grant',
        target: 'bea@example.com',
        detail: { group: 'Jira-Software-Users' },
      }),
    );
    await store.appendAudit(entry({ at: at(4), command: 'iam-update-user' }));

    const reply = await auditAs(driven, 'group="JIRA-software-users"');
    expect(tableRows(reply).map((r) => r[2])).toEqual(['grant', 'iam-add-to-group']);
    expect(shown(reply)).toContain('All 2 entries about group `JIRA-software-users`');
    expect(shown(reply)).toContain('atlassian-iam audit --group JIRA-software-users');

    const both = await auditAs(driven, 'ann@example.com group=jira-software-users');
    expect(tableRows(both).map((r) => r[2])).toEqual(['iam-add-to-group']);
    expect(shown(both)).toContain('about `ann@example.com` in group `jira-software-users`');
    expect(shown(both)).toContain('atlassian-iam audit --user ann@example.com --group jira-software-users');

    const none = await auditAs(driven, 'group=nothing-here');
    expect(tableRows(none)).toEqual([]);
    expect(none.args.text).toContain('No audit entries about group `nothing-here`');

    const viewing = (await history(driven)).filter((e) => e.command === 'iam-audit');
    expect(viewing.map((e) => [e.target, e.detail]).reverse()).toEqual([
      [null, { group: 'JIRA-software-users', entries: 2 }],
      ['ann@example.com', { group: 'jira-software-users', entries: 1 }],
      [null, { group: 'nothing-here', entries: 0 }],
    ]);
  });

  it('says SANDBOX while the bot uses the sandbox directory', async () => {
    world = await startWorld({ atlassian: false });
    const driven = await world.startBot();
    const reply = await auditAs(driven, 'ann@example.com');
    expect(reply.args.text).toMatch(/^\[SANDBOX\] No audit entries/);
    expect(shown(reply)).toContain('*SANDBOX*');
  });

  it('refuses someone who is not an operator: nothing shown, a refusal in the audit log', async () => {
    world = await startWorld();
    const driven = await world.startBot({ env: { IAM_OPERATORS: 'UOPS' } });
    await driven.bot.context.store.appendAudit(entry({}));
    for (const userId of ['UMEMBER', 'UADMIN', 'UGUEST']) {
      const reply = await auditAs(driven, 'ann@example.com', userId);
      expect(reply.args.response_type).toBe('ephemeral');
      expect(shown(reply)).toContain('Only operators (IAM_OPERATORS) can run /iam-audit.');
      expect(tableRows(reply)).toEqual([]);
      expect(shown(reply)).not.toContain('iam-update-user');
    }
    const refusals = (await history(driven)).filter((e) => e.kind === 'refusal');
    expect(refusals.map((e) => [e.actor, e.command, e.outcome]).sort()).toEqual([
      ['UADMIN', 'iam-audit', 'refused'],
      ['UGUEST', 'iam-audit', 'refused'],
      ['UMEMBER', 'iam-audit', 'refused'],
    ]);
    // The listed operator is served.
    const served = await auditAs(driven, 'ann@example.com', 'UOPS');
    expect(tableRows(served)).toHaveLength(1);
  });

  it.each([
    ['', 'say whose audit history to show'],
    ['ann', 'is not an email'],
    ['email=ann', 'email must be an email address'],
    ['ann@example.com title=Boss', 'takes one email, a group=NAME, or both'],
    ['ann@example.com reason=curious', 'takes one email, a group=NAME, or both'],
    ['{"username":"ann"}', 'takes one email, a group=NAME, or both'],
    ['group=', 'group= needs a group name'],
    ['group=a group=b', 'group is given twice'],
    ['group=jira-software-users title=Boss', 'takes one email, a group=NAME, or both'],
  ])('answers %j with the usage help and shows nothing', async (text, problem) => {
    world = await startWorld();
    const driven = await world.startBot();
    await driven.bot.context.store.appendAudit(entry({}));
    const reply = await auditAs(driven, text);
    expect(reply.args.response_type).toBe('ephemeral');
    expect(shown(reply)).toContain(problem);
    expect(shown(reply)).toContain('How to use `/iam-audit`');
    expect(tableRows(reply)).toEqual([]);
    expect((await history(driven)).filter((e) => e.command === 'iam-audit')).toEqual([]);
  });
});
