import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Web API call (or response_url post) the bot made. */
export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
}

export interface SlackUserRecord {
  is_admin?: boolean;
  is_owner?: boolean;
  is_restricted?: boolean;
  is_ultra_restricted?: boolean;
  is_bot?: boolean;
  deleted?: boolean;
}

export interface SlackStandIn {
  /** Value for SLACK_API_URL (ends in `/`). */
  apiUrl: string;
  /** Base for response_url values: `${responseUrlBase}<anything>` is recorded as method `response_url`. */
  responseUrlBase: string;
  calls: SlackCall[];
  users: Map<string, SlackUserRecord>;
  groups: Map<string, string[]>;
  /** Channels the bot may not post in (chat.postMessage answers not_in_channel). */
  closedChannels: Set<string>;
  /** What apps.connections.open answers as the Socket Mode WebSocket URL. */
  socketModeUrl: string | null;
  /** Resolves when a call matching `predicate` has been recorded (already or later). */
  waitFor(predicate: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  callsTo(method: string): SlackCall[];
  close(): Promise<void>;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function jsonOrText(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** The Web API sends form bodies whose structured values (blocks, view) are JSON text. */
function parseArgs(body: string, contentType: string | undefined): Record<string, unknown> {
  if (body === '') return {};
  if (contentType?.includes('application/json')) return JSON.parse(body) as Record<string, unknown>;
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    args[key] = /^[[{]/.test(value) ? jsonOrText(value) : value;
  }
  return args;
}

/**
 * A small local stand-in for Slack's Web API, reached through SLACK_API_URL: it answers the methods
 * the bot uses with Slack-shaped JSON and records every call.
 */
export async function startSlackStandIn(): Promise<SlackStandIn> {
  const calls: SlackCall[] = [];
  const users = new Map<string, SlackUserRecord>();
  const groups = new Map<string, string[]>();
  const closedChannels = new Set<string>();
  const waiters: { predicate: (c: SlackCall) => boolean; resolve: (c: SlackCall) => void }[] = [];
  let ts = 1_700_000_000;
  let viewId = 0;

  const answer = (method: string, args: Record<string, unknown>): Record<string, unknown> => {
    switch (method) {
      case 'apps.connections.open':
        return standIn.socketModeUrl
          ? { ok: true, url: standIn.socketModeUrl }
          : { ok: false, error: 'not_allowed' };
      case 'auth.test':
        return {
          ok: true,
          url: 'https://example.slack.com/',
          team: 'Example',
          user: 'iam',
          team_id: 'T1',
          user_id: 'UBOT',
          bot_id: 'BBOT',
        };
      case 'chat.postMessage':
        if (closedChannels.has(String(args.channel))) return { ok: false, error: 'not_in_channel' };
        return { ok: true, channel: args.channel, ts: `${++ts}.000100`, message: { text: args.text } };
      case 'chat.update':
        return { ok: true, channel: args.channel, ts: args.ts };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: `${++ts}.000200` };
      case 'views.open':
      case 'views.update':
      case 'views.publish':
        return { ok: true, view: { id: `V${++viewId}`, hash: `h${viewId}` } };
      case 'users.info': {
        const record = users.get(String(args.user));
        if (!record) return { ok: false, error: 'user_not_found' };
        return { ok: true, user: { id: args.user, ...record } };
      }
      case 'usergroups.users.list':
        return { ok: true, users: groups.get(String(args.usergroup)) ?? [] };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };

  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const isResponseUrl = url.pathname.startsWith('/response/');
    const method = isResponseUrl ? 'response_url' : url.pathname.replace(/^\/api\//, '');
    const args = parseArgs(body, req.headers['content-type']);
    const call = { method, args };
    calls.push(call);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(call)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(isResponseUrl ? { ok: true } : answer(method, args)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;

  const standIn: SlackStandIn = {
    socketModeUrl: null,
    apiUrl: `${base}/api/`,
    responseUrlBase: `${base}/response/`,
    calls,
    users,
    groups,
    closedChannels,
    callsTo: (method) => calls.filter((c) => c.method === method),
    waitFor(predicate, timeoutMs = 10_000) {
      const done = calls.find(predicate);
      if (done) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('the bot did not make the expected Slack call in time')),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (c) => {
            clearTimeout(timer);
            resolve(c);
          },
        });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return standIn;
}
