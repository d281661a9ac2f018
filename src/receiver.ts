/**
 * The bot's HTTP surface. In HTTP mode Bolt's own receiver serves Slack at POST /slack/events (signature,
 * replay window, body limit) and the read-only routes below; in Socket Mode the same routes are served on
 * HEALTH_PORT. Whatever arrives (any method, path, header or body) gets an answer and nothing is thrown
 * out of a request: 404 unknown path, 405 wrong method with Allow, 400 an unreadable URL.
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Duplex } from 'node:stream';
import {
  type CustomRoute,
  HTTPReceiver,
  HTTPReceiverDeferredRequestError,
  type Logger as BoltLogger,
  verifySlackRequest,
} from '@slack/bolt';
import type { Logger } from './log';
import type { Metrics } from './metrics';

export const EVENTS_PATH = '/slack/events';
const READ_METHODS = 'GET, HEAD';

/** A read-only route (health, readiness, metrics): answers GET, and HEAD alike without the body. */
export interface Route {
  path: string;
  handle(res: ServerResponse): void | Promise<void>;
}

export interface Readiness {
  /** The live facts: the healthz body. */
  alive(): Record<string, unknown>;
  /** Why the bot should not get traffic now, or null when it is ready. */
  notReadyBecause(): Promise<string | null>;
}

export function sendJson(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** GET /metrics: Prometheus text. */
export function metricsRoute(metrics: Pick<Metrics, 'render'>): Route {
  return {
    path: '/metrics',
    handle: async (res) => {
      const { contentType, body } = await metrics.render();
      res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
      res.end(body);
    },
  };
}

/** GET /healthz (the process is alive) and GET /readyz (it should get traffic: 503 with the reason if not). */
export function healthRoutes(readiness: Readiness): Route[] {
  return [
    { path: '/healthz', handle: (res) => sendJson(res, 200, { ok: true, ...readiness.alive() }) },
    {
      path: '/readyz',
      handle: async (res) => {
        const reason = await readiness.notReadyBecause();
        if (reason === null) sendJson(res, 200, { ready: true });
        else sendJson(res, 503, { ready: false, reason });
      },
    },
  ];
}

/** Runs a route so that nothing it throws or rejects escapes the request: it becomes a 500. */
function runRoute(route: Route, res: ServerResponse, logger: Logger): void {
  Promise.resolve()
    .then(() => route.handle(res))
    .catch((error: unknown) => {
      logger.error('an HTTP route failed', { path: route.path, error: (error as Error).message });
      if (!res.headersSent) sendJson(res, 500, { ok: false });
      else res.end();
    });
}

/**
 * The answer to a request no route took: 405 with Allow on a known path, 404 otherwise. A body still
 * arriving is read and dropped by Node after the answer (bounded by the server's requestTimeout), so the
 * client can finish sending and read the answer instead of meeting a reset.
 */
function answerUnrouted(req: IncomingMessage, res: ServerResponse, allowed: Map<string, string>): void {
  if (res.headersSent) return;
  const allow = allowed.get(pathOf(req) ?? '');
  if (allow !== undefined) res.writeHead(405, { Allow: allow });
  else res.writeHead(404);
  res.end();
}

function pathOf(req: IncomingMessage): string | null {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return null;
  }
}

function allowedMethods(routes: Route[]): Map<string, string> {
  return new Map(routes.map((r) => [r.path, READ_METHODS]));
}

/**
 * Guards a listening server: a slow or half-open connection is cut instead of held (Slack's requests
 * arrive whole in well under a second), and CONNECT, which Node would drop without a word, gets 405.
 */
export function guardServer(server: Server, allow: string): void {
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nAllow: ${allow}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
    );
  });
}

/** Slack's replay window: a request more than this far from our clock, either way, is refused. */
const SIGNATURE_WINDOW_S = 5 * 60;

/**
 * HTTP mode: Bolt's HTTPReceiver, configured so that no request ends the process. A request Bolt does not
 * route comes to dispatchErrorHandler (404 / 405); a URL or path Bolt cannot decode gets 400. Bolt
 * accepts timestamps from the future; Slack's rule is "within five minutes of local time" either way, so
 * those get 401 before Bolt's listener sees them (its own checks still run on everything else).
 * Longer than 50 lines: the options of one Bolt receiver, each answering one way a request can go wrong.
 */
export function slackHttpReceiver(options: {
  signingSecret: string;
  routes: Route[];
  logger: Logger;
  boltLogger: BoltLogger;
  /** Told how long each request to /slack/events took to be answered (Slack's acknowledgement). */
  onAnswered?: (seconds: number) => void;
}): HTTPReceiver {
  const { logger } = options;
  const allowed = allowedMethods(options.routes).set(EVENTS_PATH, 'POST');
  const customRoutes: CustomRoute[] = options.routes.map((route) => ({
    path: route.path,
    method: ['GET', 'HEAD'],
    handler: (_req, res) => runRoute(route, res, logger),
  }));
  const receiver = new HTTPReceiver({
    signingSecret: options.signingSecret,
    endpoints: EVENTS_PATH,
    customRoutes,
    logger: options.boltLogger,
    dispatchErrorHandler: ({ error, request, response }) => {
      if (error instanceof HTTPReceiverDeferredRequestError)
        return answerUnrouted(request, response, allowed);
      logger.warn('unreadable HTTP request refused', { error: error.message });
      if (!response.headersSent) response.writeHead(400, { Connection: 'close' });
      response.end();
    },
  });
  const bolt = receiver.requestListener;
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    const stamp = Number(req.headers['x-slack-request-timestamp']);
    if (Number.isFinite(stamp) && stamp > Date.now() / 1000 + SIGNATURE_WINDOW_S) {
      res.writeHead(401, { Connection: 'close' });
      res.end();
      return;
    }
    if (options.onAnswered && req.method === 'POST' && pathOf(req) === EVENTS_PATH) {
      const started = performance.now();
      const observe = options.onAnswered;
      res.once('finish', () => observe((performance.now() - started) / 1000));
    }
    if (req.method !== 'POST' || pathOf(req) !== EVENTS_PATH) return bolt(req, res);
    // A body announced as too long is Bolt's to refuse (413, read and dropped while the client sends).
    if (Number(req.headers['content-length']) > SLACK_BODY_LIMIT) return bolt(req, res);
    readBody(req, SLACK_BODY_LIMIT).then(
      (body) => {
        if (body === null) return answerEmpty(res, 413);
        // Bolt reads a body already buffered on the request (its own convention) and verifies it as usual.
        Object.assign(req, { rawBody: body });
        if (!bodyIsAnObject(req, body)) return answerMalformed(req, res, body, options.signingSecret, logger);
        bolt(req, res);
      },
      () => answerEmpty(res, 400),
    );
  };
  return receiver;
}

/** Bolt's own limit for a Slack request body. */
const SLACK_BODY_LIMIT = 4 * 1024 * 1024;

/** The whole body, or null when it is longer than `limit` (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        req.removeAllListeners('data');
        req.resume();
        resolve(null);
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function answerEmpty(res: ServerResponse, status: number): void {
  if (res.headersSent) return;
  res.writeHead(status, { Connection: 'close' });
  res.end();
}

/**
 * Whether Bolt will find an object where it looks: the JSON body, or a form's `payload`. Bolt parses
 * `null` (or a number) without complaint and then fails on it outside its own error handling, which
 * would end the process; such a body never comes from Slack. A body that does not parse at all is left
 * to Bolt, which answers 400 itself.
 */
function bodyIsAnObject(req: IncomingMessage, body: Buffer): boolean {
  const text = body.toString('utf8');
  // The same choice as Bolt's parseHTTPRequestBody: exactly this content type is a form (its `payload`,
  // when it has one, is JSON), anything else is JSON.
  let json = text;
  if (req.headers['content-type'] === 'application/x-www-form-urlencoded') {
    const { payload } = parseQuery(text);
    if (typeof payload !== 'string') return true;
    json = payload;
  }
  try {
    const parsed: unknown = JSON.parse(json);
    return typeof parsed === 'object' && parsed !== null;
  } catch {
    return true;
  }
}

/** A body Bolt cannot take: 401 unless it is correctly signed (Bolt's own check), then 400. */
function answerMalformed(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  signingSecret: string,
  logger: Logger,
): void {
  try {
    verifySlackRequest({
      signingSecret,
      body: body.toString('utf8'),
      headers: {
        'x-slack-signature': String(req.headers['x-slack-signature'] ?? ''),
        'x-slack-request-timestamp': Number(req.headers['x-slack-request-timestamp']),
      },
    });
  } catch {
    return answerEmpty(res, 401);
  }
  logger.warn('a signed Slack request whose body is not an object was refused');
  answerEmpty(res, 400);
}

/** Socket Mode: the read-only routes on their own port (HEALTH_PORT), with the same 404 / 405 answers. */
export async function startRouteServer(port: number, routes: Route[], logger: Logger): Promise<Server> {
  const allowed = allowedMethods(routes);
  const server = http.createServer((req, res) => {
    const route = routes.find((r) => r.path === pathOf(req));
    if (route && (req.method === 'GET' || req.method === 'HEAD')) runRoute(route, res, logger);
    else answerUnrouted(req, res, allowed);
  });
  guardServer(server, READ_METHODS);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/**
 * Closes a server with `close` (default: server.close): idle connections end at once, and any still open
 * after `graceMs` (a slow or stuck client) are cut, so closing never waits on a client.
 */
export async function closeServer(
  server: Server,
  graceMs: number,
  close: () => Promise<unknown> = () => new Promise<void>((resolve) => server.close(() => resolve())),
): Promise<void> {
  const cut = setTimeout(() => server.closeAllConnections(), graceMs);
  cut.unref();
  try {
    await close();
  } finally {
    clearTimeout(cut);
  }
}
