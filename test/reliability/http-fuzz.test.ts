/**
 * HTTP fuzz against the built bot, which must never fall over: 10,000 generated
 * requests over raw loopback sockets — random methods, paths, headers and bodies, broken chunking,
 * bodies shorter than announced (left open or half-closed), requests cut off midway, slow writers,
 * oversize bodies, and some correctly signed requests with random content. Every complete request must
 * get an HTTP answer within a bounded wait; afterwards the process is still running, answers /healthz
 * and a correctly signed slash command, and its RSS grew by less than RSS_GROWTH_LIMIT_MB.
 */
import fs from 'node:fs';
import net from 'node:net';
import {
  type BotProcess,
  postSigned,
  slackSignature,
  SIGNING_SECRET,
  slashCommandBody,
  startBot,
} from '../support/bot-process';
import { makeTempDir, removeTempDirs } from '../support/cli';
import { recordReliability } from '../support/reliability';
import { seededRandom } from '../support/seeded-random';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-standin.cjs';

const REQUESTS = 10_000;
const CONCURRENCY = 40;
/** How long a request that was sent whole may take to be answered. */
const ANSWER_WAIT_MS = 6_000;
/** How long a deliberately incomplete request is held open before the client gives up. */
const INCOMPLETE_WAIT_MS = 500;
const RSS_GROWTH_LIMIT_MB = 150;

type Framing =
  | 'signed'
  | 'content-length'
  | 'chunked'
  | 'broken-chunking'
  | 'slow'
  | 'garbage'
  | 'oversize'
  | 'short-then-half-close'
  | 'short-left-open'
  | 'cut-off';

/** Framings whose request is whole: each must be answered. */
const WHOLE: ReadonlySet<Framing> = new Set([
  'signed',
  'content-length',
  'chunked',
  'broken-chunking',
  'slow',
  'garbage',
  'oversize',
]);

interface Shot {
  framing: Framing;
  /** Written in this order, with `pauseMs` between pieces. */
  pieces: Buffer[];
  pauseMs: number;
  halfClose: boolean;
  /** Destroy the socket after writing (a client that vanishes). */
  vanish: boolean;
}

let slack: SlackStandIn;
let bot: BotProcess;
const tally = new Map<Framing, { sent: number; answered: number; statuses: Map<string, number> }>();
let survived = 0;
let rssBeforeMb = 0;
let rssAfterMb = 0;
let elapsedS = 0;

beforeAll(async () => {
  slack = await startSlackStandIn();
  slack.users.set('UADMIN', { is_admin: true });
  bot = await startBot(
    { SLACK_API_URL: slack.apiUrl, LOG_LEVEL: 'error' },
    makeTempDir('atlassian-iam-fuzz-'),
  );
});

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  removeTempDirs();
  const rows = [...tally.entries()].map(([framing, t]) => [
    framing,
    t.sent,
    WHOLE.has(framing) ? `${t.answered} of ${t.sent}` : `${t.answered} (not required)`,
    [...t.statuses.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([status, n]) => `${status}×${n}`)
      .join(' '),
  ]);
  const sent = rows.reduce((n, r) => n + Number(r[1]), 0);
  rows.push([
    'after the run',
    sent,
    survived === sent ? 'process up, /healthz 200, signed command answered' : 'FAILED',
    `RSS ${rssBeforeMb.toFixed(0)} → ${rssAfterMb.toFixed(0)} MB in ${elapsedS.toFixed(0)} s`,
  ]);
  recordReliability({
    id: '6-http-fuzz',
    title: 'HTTP fuzz',
    description:
      `${sent} generated requests (seeded) over raw loopback sockets to the built bot in HTTP mode, ` +
      `${CONCURRENCY} at a time: random methods (CONNECT and invalid tokens included), paths, headers and ` +
      'bodies; broken chunking; bodies shorter than announced, half-closed or left open; requests cut off ' +
      'midway; slow writers; 5 MB bodies; and signed requests with random content. A request sent whole ' +
      `must get an HTTP status within ${ANSWER_WAIT_MS / 1000} s; an incomplete one is held ` +
      `${INCOMPLETE_WAIT_MS} ms and dropped. Survived means: afterwards the process is still running, ` +
      `answers /healthz and a signed slash command, and its RSS grew by less than ${RSS_GROWTH_LIMIT_MB} MB.`,
    columns: ['framing', 'requests', 'answered', 'statuses seen'],
    rows,
    totals: { httpFuzzRequests: sent, httpFuzzSurvived: survived },
  });
});

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)];

const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'OPTIONS',
  'PATCH',
  'TRACE',
  'CONNECT',
  'PROPFIND',
  'get',
  'G@T',
];
const PATHS = [
  '/',
  '/healthz',
  '/readyz',
  '/metrics',
  '/slack/events',
  '/slack/events/',
  '/slack/actions',
  '/slack/install',
  '/favicon.ico',
  '//',
  '/%',
  '/%E0%A4%A',
  '/%00',
  '/healthz?x=1&x=2',
  '/slack/events?ssl_check=1',
  '/../../etc/passwd',
  '*',
  'http://example.com/slack/events',
  `/${'a'.repeat(9_000)}`,
];
const HEADER_POOL: [string, () => string][] = [
  ['content-type', () => 'application/x-www-form-urlencoded'],
  ['content-type', () => 'application/json'],
  ['content-type', () => 'multipart/form-data; boundary=x'],
  ['content-type', () => 'text/plain; charset=utf-16'],
  ['x-slack-signature', () => 'v0=deadbeef'],
  ['x-slack-signature', () => ''],
  ['x-slack-request-timestamp', () => String(Math.floor(Date.now() / 1000))],
  ['x-slack-request-timestamp', () => String(Math.floor(Date.now() / 1000) + 3_600)],
  ['x-slack-request-timestamp', () => '-1'],
  ['x-slack-request-timestamp', () => 'NaN'],
  ['x-slack-request-timestamp', () => '9'.repeat(400)],
  ['x-slack-retry-num', () => 'many'],
  ['connection', () => 'keep-alive'],
  ['connection', () => 'upgrade'],
  ['upgrade', () => 'websocket'],
  ['expect', () => '100-continue'],
  ['accept-encoding', () => 'gzip, br'],
  ['x-forwarded-for', () => '10.0.0.1, 127.0.0.1'],
  ['cookie', () => 'a=b'.repeat(500)],
  ['x-long', () => 'x'.repeat(20_000)],
];

function randomBytes(random: () => number, size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 1) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

function randomBody(random: () => number): Buffer {
  const kinds = [
    () => Buffer.alloc(0),
    () => randomBytes(random, Math.floor(random() * 2_000)),
    () =>
      Buffer.from(
        slashCommandBody(
          pick(random, ['/iam-get-user', '/iam-x', '']),
          'a@b.c',
          'UNOBODY',
          'http://127.0.0.1:1/',
        ),
      ),
    () => Buffer.from('payload=%7B%22type%22%3A'),
    () => Buffer.from(JSON.stringify({ type: 'url_verification', challenge: 'c' })),
    () => Buffer.from('{"deep":' + '['.repeat(5_000) + ']'.repeat(5_000) + '}'),
    () => Buffer.from('ssl_check=1&token=x'),
  ];
  return pick(random, kinds)();
}

/** Builds the request head; `extra` headers are written after the random ones. */
function head(method: string, target: string, headers: [string, string][]): string {
  return `${method} ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
}

function chunked(body: Buffer): Buffer {
  return body.length === 0
    ? Buffer.from('0\r\n\r\n')
    : Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
}

/** A signed request with random content: it gets past the signature check into Bolt's parsing. */
function signedShot(random: () => number): Buffer {
  const bodies = [
    'payload=not-json',
    'payload=%7B%7D',
    new URLSearchParams({
      payload: JSON.stringify({ type: pick(random, ['block_actions', 'view_submission', 'x']) }),
    }).toString(),
    slashCommandBody('/iam-get-user', '{"id":', 'UNOBODY', 'http://127.0.0.1:1/r'),
    slashCommandBody(pick(random, ['/iam-nothing', '/']), 'x', 'UNOBODY', 'http://127.0.0.1:1/r'),
    JSON.stringify({ type: 'url_verification', challenge: 'fuzz' }),
    JSON.stringify({ type: 'event_callback', event: { type: 'app_home_opened', user: 'UNOBODY' } }),
  ];
  const body = pick(random, bodies);
  const timestamp = Math.floor(Date.now() / 1000);
  const contentType = body.startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded';
  return Buffer.from(
    head('POST', '/slack/events', [
      ['content-type', contentType],
      ['x-slack-request-timestamp', String(timestamp)],
      ['x-slack-signature', slackSignature(SIGNING_SECRET, timestamp, body)],
      ['content-length', String(Buffer.byteLength(body))],
      ['connection', 'close'],
    ]) + body,
  );
}

function generate(random: () => number): Shot {
  const shot = (framing: Framing, pieces: Buffer[], extra: Partial<Shot> = {}): Shot => ({
    framing,
    pieces,
    pauseMs: 0,
    halfClose: false,
    vanish: false,
    ...extra,
  });
  const method = pick(random, METHODS);
  const target = random() < 0.1 ? `/${randomBytes(random, 12).toString('base64url')}` : pick(random, PATHS);
  const headers: [string, string][] = [];
  for (let i = Math.floor(random() * 5); i > 0; i -= 1) {
    const [name, value] = pick(random, HEADER_POOL);
    headers.push([name, value()]);
  }
  const body = randomBody(random);
  const roll = random();
  if (roll < 0.05) return shot('signed', [signedShot(random)]);
  if (roll < 0.06) return shot('garbage', [Buffer.concat([Buffer.from([0]), randomBytes(random, 64)])]);
  if (roll < 0.065) {
    const size = 5 * 1024 * 1024;
    const request = head('POST', pick(random, ['/slack/events', '/healthz', '/']), [
      ['content-type', 'application/x-www-form-urlencoded'],
      ['content-length', String(size)],
    ]);
    return shot('oversize', [Buffer.from(request), Buffer.alloc(size, 'a')]);
  }
  if (roll < 0.2) {
    const request = Buffer.from(head(method, target, [...headers, ['transfer-encoding', 'chunked']]));
    return shot('chunked', [request, chunked(body)]);
  }
  if (roll < 0.27) {
    const request = Buffer.from(head(method, target, [...headers, ['transfer-encoding', 'chunked']]));
    const broken = pick(random, [
      'zz\r\nabc\r\n0\r\n\r\n',
      '5\r\nabc\r\n0\r\n\r\n',
      '-1\r\n\r\n',
      'ffffffffffffffff\r\n',
    ]);
    return shot('broken-chunking', [request, Buffer.from(broken)], { halfClose: true });
  }
  if (roll < 0.32) {
    const whole = Buffer.concat([
      Buffer.from(head(method, target, [...headers, ['content-length', String(body.length)]])),
      body,
    ]);
    const cuts = [0.2, 0.5, 0.8].map((f) => Math.floor(whole.length * f));
    const pieces = [
      whole.subarray(0, cuts[0]),
      whole.subarray(cuts[0], cuts[1]),
      whole.subarray(cuts[1], cuts[2]),
      whole.subarray(cuts[2]),
    ];
    return shot('slow', pieces, { pauseMs: 5 + Math.floor(random() * 30) });
  }
  const announced = ['content-length', String(body.length + 100)] as [string, string];
  if (roll < 0.35)
    return shot('short-then-half-close', [Buffer.from(head('POST', target, [...headers, announced])), body], {
      halfClose: true,
    });
  if (roll < 0.37)
    return shot('short-left-open', [Buffer.from(head('POST', target, [...headers, announced])), body]);
  if (roll < 0.4) {
    const whole = Buffer.from(head(method, target, headers));
    return shot('cut-off', [whole.subarray(0, Math.floor(whole.length / 2))], { vanish: true });
  }
  return shot('content-length', [
    Buffer.concat([
      Buffer.from(head(method, target, [...headers, ['content-length', String(body.length)]])),
      body,
    ]),
  ]);
}

/** Sends one shot over a raw socket; resolves with the status it got ('-' for none, 'error' for a reset). */
function fire(port: number, shot: Shot): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let done = false;
    const finish = (status: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(
      () => finish('-'),
      WHOLE.has(shot.framing) ? ANSWER_WAIT_MS : INCOMPLETE_WAIT_MS,
    );
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // Skip interim answers (100 Continue) and wait for the final status line.
      const final = /HTTP\/1\.[01] ([2-5]\d\d)/.exec(received);
      if (final) finish(final[1]);
    });
    socket.on('error', () => finish(received.startsWith('HTTP/') ? received.slice(9, 12) : 'error'));
    socket.on('close', () => finish(received.startsWith('HTTP/') ? received.slice(9, 12) : '-'));
    socket.on('connect', async () => {
      for (const [i, piece] of shot.pieces.entries()) {
        if (done) return;
        socket.write(piece);
        if (shot.pauseMs > 0 && i < shot.pieces.length - 1)
          await new Promise((r) => setTimeout(r, shot.pauseMs));
      }
      if (shot.vanish) finish('-');
      else if (shot.halfClose) socket.end();
    });
  });
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

it(`survives ${REQUESTS} generated requests and still answers /healthz and a signed command`, async () => {
  const port = Number(new URL(bot.url).port);
  const pid = bot.child.pid as number;
  rssBeforeMb = rssMb(pid);
  const random = seededRandom(20_261_206);
  const shots = Array.from({ length: REQUESTS }, () => generate(random));
  const started = Date.now();
  let next = 0;
  const unanswered: string[] = [];
  const worker = async () => {
    while (next < shots.length) {
      const shot = shots[next];
      next += 1;
      const status = await fire(port, shot);
      const entry = tally.get(shot.framing) ?? { sent: 0, answered: 0, statuses: new Map<string, number>() };
      entry.sent += 1;
      if (/^\d{3}$/.test(status)) entry.answered += 1;
      // Only a correctly signed payload that Bolt cannot read may get Bolt's own 500.
      const wrong = status === '500' ? shot.framing !== 'signed' : !/^\d{3}$/.test(status);
      if (wrong && WHOLE.has(shot.framing))
        unanswered.push(`${status} ${shot.framing}: ${shot.pieces[0].subarray(0, 400).toString('latin1')}`);
      entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + 1);
      tally.set(shot.framing, entry);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  elapsedS = (Date.now() - started) / 1000;
  rssAfterMb = rssMb(pid);

  expect(unanswered.slice(0, 8)).toEqual([]);
  expect(bot.child.exitCode).toBeNull();
  expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
  expect((await fetch(`${bot.url}/readyz`)).status).toBe(200);
  const responseUrl = `${slack.responseUrlBase}after-fuzz`;
  const command = slashCommandBody('/iam-get-user', 'after-fuzz@example.com', 'UADMIN', responseUrl);
  expect((await postSigned(bot.url, command)).status).toBe(200);
  await slack.waitFor((c) => JSON.stringify(c.args).includes('after-fuzz@example.com'));
  expect(rssAfterMb - rssBeforeMb).toBeLessThan(RSS_GROWTH_LIMIT_MB);
  survived = REQUESTS;
}, 300_000);
