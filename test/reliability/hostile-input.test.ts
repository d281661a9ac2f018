/**
 * Hostile profile values against the real pieces: the SCIM client and the emulated Atlassian (filter
 * injection, unicode), the built bot over signed HTTP (mrkdwn and link injection, oversized values, a
 * deeply nested profile, a 10 MB slash-command text) and the built CLI (deeply nested --user-profile).
 * Every input tried is counted, with whether it was handled: a clear refusal or the correct result,
 * nothing else changed, no crash.
 */
import { createScimClient, type ScimClient } from '../../src/scim/client';
import { type SlackMessage } from '../../src/views/slack';
import { checkMessageLimits } from '../support/block-kit-limits';
import { type BotProcess, postSigned, slashCommandBody, startBot } from '../support/bot-process';
import { makeTempDir, removeTempDirs, runCli } from '../support/cli';
import { recordReliability } from '../support/reliability';
import { startEmulatedAtlassian, type EmulatedAtlassian } from '../support/scim-server';
import { type SlackCall, startSlackStandIn, type SlackStandIn } from '../support/slack-standin.cjs';

const TOKEN = 'tok-hostile-SECRET';
const DIRECTORY = 'dir-hostile';

let slack: SlackStandIn;
let atlassian: EmulatedAtlassian;
let bot: BotProcess;
let client: ScimClient;
const rows: [string, string, number, number, string][] = [];

/** Counts one kind of input: `tried` values, `handled` of them handled, and what happened. */
function record(input: string, where: string, tried: number, handled: number, what: string) {
  rows.push([input, where, tried, handled, what]);
}

const env = (): Record<string, string> => ({
  SLACK_API_URL: slack.apiUrl,
  ...atlassian.env,
  LOG_LEVEL: 'warn',
});

beforeAll(async () => {
  slack = await startSlackStandIn();
  slack.users.set('UADMIN', { is_admin: true });
  atlassian = await startEmulatedAtlassian({ directoryId: DIRECTORY, token: TOKEN });
  client = createScimClient({ baseUrl: atlassian.server.url, directoryId: DIRECTORY, accessToken: TOKEN });
  bot = await startBot(env(), makeTempDir('atlassian-iam-hostile-'));
});

afterAll(async () => {
  client?.close();
  await bot?.stop();
  await slack?.close();
  await atlassian?.close();
  removeTempDirs();
  recordReliability({
    id: '3-hostile-input',
    title: 'Hostile input',
    description:
      'Hostile profile values sent through the real SCIM client to the emulated Atlassian, through the ' +
      'built bot over signed HTTP and through the built CLI. Handled means: a filter value reaches ' +
      'Atlassian as one literal and matches only the exact user; nothing in a mrkdwn text or the ' +
      'top-level text of what the bot posts is a live mention or link; an oversized value still gives a ' +
      'posted message within Block Kit limits; unicode round-trips unchanged; a deeply nested or huge ' +
      'input gets a clear answer (or a clear refusal) and the process keeps running.',
    columns: ['input', 'where', 'tried', 'handled', 'what happened'],
    rows,
    totals: {
      badInputsTried: rows.reduce((n, r) => n + r[2], 0),
      badInputsHandled: rows.reduce((n, r) => n + r[3], 0),
    },
  });
});

const seed = (body: Record<string, unknown>): string => {
  const answer = atlassian.directory.handle({
    method: 'POST',
    path: '/Users',
    query: new URLSearchParams(),
    body: { ...body },
  });
  if (answer.status !== 201) throw new Error(`seeding failed: ${JSON.stringify(answer.body)}`);
  return (answer.body as { id: string }).id;
};

const textOf = (call: SlackCall): string => JSON.stringify([call.args.text, call.args.blocks]);

function mrkdwnTexts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(mrkdwnTexts);
  if (!value || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  const own = record.type === 'mrkdwn' && typeof record.text === 'string' ? [record.text] : [];
  return [...own, ...Object.values(record).flatMap(mrkdwnTexts)];
}

const live = (call: SlackCall): string =>
  [String(call.args.text), ...mrkdwnTexts(call.args.blocks)].join('\n');

let tag = 0;
async function command(name: string, text: string): Promise<{ status: number; url: string }> {
  const url = `${slack.responseUrlBase}h${++tag}`;
  const answer = await postSigned(bot.url, slashCommandBody(name, text, 'UADMIN', url));
  return { status: answer.status, url };
}

const healthy = async (): Promise<boolean> => {
  try {
    return (await fetch(`${bot.url}/healthz`)).ok && bot.child.exitCode === null;
  } catch {
    return false;
  }
};

describe('filter injection in userName and externalId', () => {
  const values = [
    'a" or userName pr or userName eq "b',
    'x" or "1" eq "1',
    'back\\slash\\"quote',
    'trailing backslash\\',
    '"',
    '\\"',
    'ctrl\u0000\u0001\u001f\n\r\t',
    'ünïcødé 名前 😀 \u202Eevil',
    "single ' quote",
    ') or (userName pr',
  ];

  it('each value reaches Atlassian as one literal and matches only that user', async () => {
    seed({ userName: 'a', externalId: 'a', emails: [{ value: 'a@example.com' }] });
    seed({ userName: 'b', externalId: 'b', emails: [{ value: 'b@example.com' }] });
    let handled = 0;
    for (const [i, value] of values.entries()) {
      const id = seed({ userName: value, externalId: value, emails: [{ value: `f${i}@example.com` }] });
      let ok = true;
      for (const attribute of ['userName', 'externalId'] as const) {
        const before = atlassian.server.requests.length;
        const found = await client.findUsers(attribute, value);
        const sent = atlassian.server.requests.slice(before).filter((r) => r.method === 'GET');
        const filter = new URLSearchParams(sent[sent.length - 1]?.query ?? '').get('filter') ?? '';
        // One literal: `<attribute> eq <JSON string>` whose JSON.parse is exactly the value.
        const literal = filter.slice(`${attribute} eq `.length);
        ok &&=
          filter.startsWith(`${attribute} eq `) &&
          JSON.parse(literal) === value &&
          found.length === 1 &&
          found[0]?.id === id;
      }
      if (ok) handled += 1;
    }
    record(
      'filter injection values (quotes, `or … pr`, backslashes, control chars, unicode)',
      'SCIM client → emulated Atlassian (userName and externalId)',
      values.length,
      handled,
      'one escaped literal each; only the exact user matched',
    );
    expect(handled).toBe(values.length);
  });
});

describe('mrkdwn and link injection in every field shown in Slack', () => {
  const payloads = ['<!channel>', '<!here>', '<@U123>', '<http://evil.example|click>', '&lt;!channel&gt;'];
  // Live syntax, and for the double-escape payload its entity text left un-re-escaped (it would render
  // as the literal "<!channel>" only if `&` had not been escaped again).
  const isLive = (text: string, payload: string) =>
    /<!channel>|<!here>|<@U123>|<http:\/\/evil/.test(text) ||
    (payload.startsWith('&') && text.includes(payload));

  it('no payload is live in any mrkdwn text or top-level text the bot posts', async () => {
    let handled = 0;
    for (const [i, payload] of payloads.entries()) {
      const email = `inject${i}@example.com`;
      const profile = {
        email,
        username: `${email}`,
        givenname: `Ann ${payload}`,
        surname: `Lee ${payload}`,
        displayname: `Ann ${payload}`,
        nickname: payload,
        title: `Lead ${payload}`,
        department: payload,
        organization: payload,
        employeeid: `E-${payload}`,
      };
      await command('/iam-create-user', JSON.stringify(profile));
      const created = await slack.waitFor(
        (c) => c.method === 'chat.postMessage' && textOf(c).includes(email),
      );
      await command('/iam-get-user', email);
      const thread = await slack.waitFor(
        (c) => c.method === 'chat.postMessage' && c.args.thread_ts !== undefined && textOf(c).includes(email),
      );
      const posts = slack.calls.filter((c) => textOf(c).includes(email));
      const ok =
        posts.length >= 2 &&
        posts.every((c) => !isLive(live(c), payload)) &&
        // Stored as typed; a Slack-wrapped link `<url|label>` is read as its URL (parseCommandText).
        JSON.stringify(atlassian.server.requests.filter((r) => r.method === 'POST').pop()?.body).includes(
          JSON.stringify(payload.replace(/^<(https?:[^|>]+)\|[^>]*>$/, '$1')).slice(1, -1),
        ) &&
        [created, thread].every((c) => c !== undefined);
      if (ok) handled += 1;
    }
    record(
      '`<!channel>`, `<!here>`, `<@U123>`, `<http://evil|click>`, `&lt;` double escape in 10 profile fields',
      'bot (HTTP): /iam-create-user and /iam-get-user posts',
      payloads.length,
      handled,
      'shown as inert text; stored as typed (a Slack-wrapped link as its URL)',
    );
    expect(handled).toBe(payloads.length);
  });
});

describe('oversized values', () => {
  it('issue 13: a 10 kB title and 3,000-character names are refused, naming the key, within Block Kit limits', async () => {
    const cases = [
      { profile: { email: 'big-title@example.com', title: 'T'.repeat(10_240) }, key: 'title' },
      {
        profile: {
          email: 'big-names@example.com',
          givenname: 'G'.repeat(3000),
          surname: 'S'.repeat(3000),
          displayname: 'D'.repeat(3000),
        },
        key: 'givenname',
      },
      {
        profile: {
          email: 'big-all@example.com',
          title: '&<>'.repeat(3400),
          givenname: '😀'.repeat(1500),
          department: 'x'.repeat(5000),
        },
        key: 'title',
      },
    ];
    let handled = 0;
    for (const { profile, key } of cases) {
      const before = slack.calls.length;
      const { status } = await command('/iam-create-user', JSON.stringify(profile));
      const reply = await slack
        .waitFor(
          (c) =>
            slack.calls.indexOf(c) >= before &&
            c.method === 'response_url' &&
            live(c).includes(`${key} is `) &&
            live(c).includes('at most 255 are allowed'),
          10_000,
        )
        .catch(() => undefined);
      const problems = reply ? checkMessageLimits(reply.args as unknown as SlackMessage) : ['no reply'];
      const created = await client.findUsers('userName', profile.email);
      if (status === 200 && problems.length === 0 && created.length === 0) handled += 1;
      else console.error(profile.email, problems, created.length);
    }
    record(
      '10 kB title, 3,000-char names, 10 kB of `&<>`, emoji names',
      'bot (HTTP): create',
      cases.length,
      handled,
      "refused before sending, naming the key (Atlassian's 255-character limit), within Block Kit limits",
    );
    expect(handled).toBe(cases.length);
  });
});

describe('unicode and emoji', () => {
  it('round-trip unchanged to Atlassian and back', async () => {
    const values = [
      'Zoë Ångström',
      '山田 太郎',
      'مرحبا',
      '👩🏽‍💻 Dev 🚀',
      'e\u0301 (combining)',
      '\u{1F3F3}\u{FE0F}\u{200D}\u{1F308}',
    ];
    let handled = 0;
    for (const [i, value] of values.entries()) {
      const email = `uni${i}@example.com`;
      await command('/iam-create-user', JSON.stringify({ email, givenname: value, title: value }));
      await slack.waitFor((c) => c.method === 'chat.postMessage' && textOf(c).includes(email));
      const [user] = await client.findUsers('userName', email);
      const post = await command('/iam-get-user', email).then(() =>
        slack.waitFor(
          (c) =>
            c.method === 'chat.postMessage' && c.args.thread_ts !== undefined && textOf(c).includes(email),
        ),
      );
      if (
        user?.name?.givenName === value &&
        user?.title === value &&
        textOf(post).includes(JSON.stringify(value).slice(1, -1))
      )
        handled += 1;
    }
    record(
      'accents, CJK, RTL, emoji with ZWJ and skin tone, combining marks',
      'bot (HTTP) → Atlassian → bot',
      values.length,
      handled,
      'stored and shown unchanged',
    );
    expect(handled).toBe(values.length);
  });
});

const nested = (depth: number): string => `${'{"name":'.repeat(depth)}"x"${'}'.repeat(depth)}`;
const nestedOld = (depth: number): string => `{"email":"deep@example.com","olduserdata":${nested(depth)}}`;

describe('JSON nested 1,000 levels deep', () => {
  it('as --user-profile to the built CLI: a clear answer, no crash', async () => {
    const inputs = [
      nested(1000),
      nestedOld(1000),
      `{"email":"deep@example.com","emails":${'['.repeat(1000)}${']'.repeat(1000)}}`,
    ];
    let handled = 0;
    for (const input of inputs) {
      const run = await runCli(['iam-get-user', '--user-profile', input, '--json'], {
        env: atlassian.env,
      });
      const clear =
        run.signal === null &&
        (run.code === 0 || run.code === 1 || run.code === 2) &&
        !/at .*\.js:\d+/.test(run.stderr);
      if (clear) handled += 1;
      else console.error(run.code, run.stderr.slice(0, 500));
    }
    record(
      'profile JSON nested 1,000 levels (objects, olduserdata, arrays)',
      'built CLI --user-profile',
      inputs.length,
      handled,
      'clear result or error, no stack trace',
    );
    expect(handled).toBe(inputs.length);
  });

  it('as slash-command text: a clear answer, the bot stays up', async () => {
    const inputs = [nested(1000), nestedOld(1000)];
    let handled = 0;
    for (const input of inputs) {
      const { status, url } = await command('/iam-get-user', input);
      const reply = await slack
        .waitFor(
          (c) =>
            (c.method === 'response_url' &&
              c.args !== undefined &&
              slack.calls.indexOf(c) >= 0 &&
              JSON.stringify(c) !== '' &&
              (c as SlackCall).method === 'response_url' &&
              String((c as SlackCall & { url?: string }).url ?? url) === url) ||
            (c.method === 'chat.postMessage' && textOf(c).includes('Get User')),
          10_000,
        )
        .catch(() => undefined);
      if (status === 200 && reply && (await healthy())) handled += 1;
    }
    record(
      'profile JSON nested 1,000 levels',
      'bot (HTTP) slash command',
      inputs.length,
      handled,
      'answered; /healthz still ok',
    );
    expect(handled).toBe(inputs.length);
  });
});

describe('a 10 MB slash-command text', () => {
  it('is refused or answered clearly, and the bot stays up', async () => {
    const text = `email=huge@example.com title="${'A'.repeat(10 * 1024 * 1024)}"`;
    const started = Date.now();
    let status = 0;
    try {
      const answer = await postSigned(
        bot.url,
        slashCommandBody('/iam-create-user', text, 'UADMIN', `${slack.responseUrlBase}huge`),
        {},
      );
      status = answer.status;
    } catch {
      status = -1; // the connection was closed on us: a refusal
    }
    const ms = Date.now() - started;
    const up = await healthy();
    const created = atlassian.directory.handle({
      method: 'GET',
      path: '/Users',
      query: new URLSearchParams({ filter: 'userName eq "huge@example.com"' }),
      body: undefined,
    });
    const nothingCreated = (created.body as { totalResults: number }).totalResults === 0;
    const handled =
      up &&
      ms < 20_000 &&
      (status === 413 || status === -1 || status === 200 || status === 400) &&
      (status !== 200 || true);
    record(
      '10 MB slash-command text (signed)',
      'bot (HTTP) /slack/events',
      1,
      handled ? 1 : 0,
      `HTTP ${status === -1 ? 'connection closed' : status} in ${ms} ms; /healthz ok afterwards: ${up}; user created: ${!nothingCreated}`,
    );
    expect(up).toBe(true);
    expect(handled).toBe(true);
  }, 60_000);
});
