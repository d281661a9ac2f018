/**
 * A raw node:http front that sits between a client and the emulated Atlassian server and injects
 * faults the emulated server alone cannot: connections reset before or after the request was
 * forwarded (so after the directory acted), answers held back past the client's timeout, bodies that
 * are not JSON, a proxy's HTML error page, or a canned status in place of (or after) the real answer.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export type FaultAction =
  /** Forward untouched. */
  | { kind: 'pass' }
  /** Answer this instead of forwarding: the directory never sees the request. */
  | { kind: 'answer'; status: number; body?: string; headers?: Record<string, string> }
  /** Forward (the directory acts), then answer this instead of the directory's answer. */
  | { kind: 'answer-after'; status: number; body?: string; headers?: Record<string, string> }
  /** Destroy the connection without forwarding. */
  | { kind: 'reset-before' }
  /** Forward, let the directory act, then destroy the connection instead of answering. */
  | { kind: 'reset-after' }
  /** Wait, then forward (even when the client has given up by then) and answer. */
  | { kind: 'delay-before'; ms: number }
  /** Forward at once, then hold the answer back this long. */
  | { kind: 'delay-after'; ms: number };

export interface FaultRule {
  /** HTTP method to match; any when absent. */
  method?: string;
  /** Tested against the path below `/scim/directory/{id}` (e.g. `/Users`, `/Users/abc`). */
  path?: RegExp;
  /** Consumed one per matching request; when spent, `then` applies (default: pass). */
  actions: FaultAction[];
  /** The action for matching requests once `actions` are spent. */
  then?: FaultAction;
}

export interface ProxiedRequest {
  method: string;
  /** Below `/scim/directory/{id}`. */
  path: string;
  action: FaultAction['kind'];
  /** The directory's status when the request was forwarded. */
  upstreamStatus?: number;
}

export interface FaultProxy {
  url: string;
  requests: ProxiedRequest[];
  /** Resolves once no request is being handled (delayed forwards included). */
  settled(): Promise<void>;
  close(): Promise<void>;
}

interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function forward(target: URL, request: http.IncomingMessage, body: Buffer): Promise<Upstream> {
  const headers = Object.fromEntries(
    Object.entries(request.headers).filter(([name]) => !HOP_BY_HOP.has(name) && name !== 'host'),
  );
  return new Promise((resolve, reject) => {
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: request.url,
        method: request.method,
        headers: { ...headers, 'content-length': body.length },
        agent: false,
      },
      (answer) => {
        readAll(answer).then(
          (data) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: data }),
          reject,
        );
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

function respond(
  response: http.ServerResponse,
  status: number,
  headers: http.OutgoingHttpHeaders,
  body: Buffer | string,
): void {
  if (response.destroyed || response.writableEnded) return;
  const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const kept = Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
  response.writeHead(status, { ...kept, 'content-length': data.length });
  response.end(data);
}

export interface FaultProxyOptions {
  /**
   * Called just before a request is forwarded; the function it returns, if any, is called once the
   * directory has answered (e.g. to see whether a PATCH changed the user).
   */
  onForward?: (method: string, path: string) => (() => void) | void;
}

/** Starts the proxy in front of `targetUrl` (the emulated server's origin) on 127.0.0.1. */
export async function startFaultProxy(
  targetUrl: string,
  rules: FaultRule[],
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let waiters: (() => void)[] = [];

  function choose(method: string, path: string): FaultAction {
    for (const rule of rules) {
      if (rule.method !== undefined && rule.method !== method) continue;
      if (rule.path !== undefined && !rule.path.test(path)) continue;
      return rule.actions.shift() ?? rule.then ?? { kind: 'pass' };
    }
    return { kind: 'pass' };
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const body = await readAll(request);
    const method = request.method ?? 'GET';
    const pathname = new URL(request.url ?? '/', 'http://proxy').pathname;
    const below = pathname.replace(/^\/scim\/directory\/[^/]+/, '');
    const action = choose(method, below);
    const record: ProxiedRequest = { method, path: below, action: action.kind };
    requests.push(record);
    const pass = async (): Promise<Upstream> => {
      const after = options.onForward?.(method, below);
      const answer = await forward(target, request, body);
      after?.();
      record.upstreamStatus = answer.status;
      return answer;
    };
    switch (action.kind) {
      case 'pass': {
        const answer = await pass();
        respond(response, answer.status, answer.headers, answer.body);
        return;
      }
      case 'answer':
        respond(response, action.status, action.headers ?? {}, action.body ?? '');
        return;
      case 'answer-after':
        await pass();
        respond(response, action.status, action.headers ?? {}, action.body ?? '');
        return;
      case 'reset-before':
        request.socket.destroy();
        return;
      case 'reset-after':
        await pass();
        request.socket.destroy();
        return;
      case 'delay-before': {
        await delay(action.ms);
        const answer = await pass();
        respond(response, answer.status, answer.headers, answer.body);
        return;
      }
      case 'delay-after': {
        const answer = await pass();
        await delay(action.ms);
        respond(response, answer.status, answer.headers, answer.body);
        return;
      }
    }
  }

  const server = http.createServer((request, response) => {
    inFlight++;
    handle(request, response)
      .catch(() => {
        if (!response.headersSent && !response.destroyed) respond(response, 502, {}, '');
      })
      .finally(() => {
        inFlight--;
        if (inFlight === 0) {
          const ready = waiters;
          waiters = [];
          for (const wake of ready) wake();
        }
      });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    settled: () =>
      inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        for (const socket of sockets) socket.destroy();
      }),
  };
}
