import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  createServer,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { SCIM_CONTENT_TYPE } from './constants';
import type { SandboxDirectory } from './directory';
import { dispatch } from './route';

export interface RecordedRequest {
  method: string;
  /** The URL path, without the query string. */
  path: string;
  /** The raw query string without the leading `?` (empty when none). */
  query: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, the raw text when it is not JSON, undefined when empty. */
  body: unknown;
}

/** A canned answer from `intercept`, e.g. a 429 with `Retry-After` to exercise a client's retries. */
export interface ScriptedResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ScimServerOptions {
  directory: SandboxDirectory;
  directoryId: string;
  /** The API key clients must send as `Authorization: Bearer <token>`. */
  token: string;
  /** Wait this long before answering each request. */
  latencyMs?: number;
  /** Called with every request as it arrives. */
  onRequest?: (request: RecordedRequest) => void;
  /** Return a response to send it instead of the directory's (checked after latency, before auth). */
  intercept?: (request: RecordedRequest) => ScriptedResponse | undefined;
  host?: string;
  port?: number;
}

export interface ScimServer {
  /** Origin of the server, e.g. `http://127.0.0.1:41234`: the value for ATLASSIAN_URL. */
  url: string;
  /** Every request received so far, in arrival order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function lenientJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Atlassian answers a missing or wrong API key with 401 and a `Failure` body `{error, traceId}`. */
function checkToken(header: string | undefined, expected: Buffer): ScriptedResponse | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (match && timingSafeEqual(digest(match[1]?.trim() ?? ''), expected)) return undefined;
  const error =
    header === undefined ? 'Missing authorization header.' : 'Unauthorized: the API key is not valid.';
  return { status: 401, body: { error, traceId: randomBytes(8).toString('hex') } };
}

function send(response: ServerResponse, answer: ScriptedResponse): void {
  const text = answer.body === undefined ? '' : JSON.stringify(answer.body);
  const headers: Record<string, string | number> = Object.fromEntries(
    Object.entries(answer.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  headers['content-length'] = Buffer.byteLength(text);
  if (text !== '') headers['content-type'] ??= SCIM_CONTENT_TYPE;
  response.writeHead(answer.status, headers);
  response.end(text);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * A real HTTP server on loopback that emulates Atlassian's user-provisioning API in front of a
 * sandbox directory: `/scim/directory/{directoryId}/…`, bearer-token check, optional latency,
 * keep-alive, and a record of every request. Usable from plain JavaScript (`dist/sandbox/server.js`).
 * Longer than 50 lines: one server and its request handler, whose parts share the record of requests.
 */
export async function startScimServer(options: ScimServerOptions): Promise<ScimServer> {
  const host = options.host ?? '127.0.0.1';
  const expectedToken = digest(options.token);
  const requests: RecordedRequest[] = [];
  let origin = '';

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await readBody(request);
    const url = new URL(request.url ?? '/', origin);
    const method = request.method ?? 'GET';
    const recorded: RecordedRequest = {
      method,
      path: url.pathname,
      query: url.search.slice(1),
      headers: { ...request.headers },
      body: lenientJson(raw),
    };
    requests.push(recorded);
    options.onRequest?.(recorded);
    if (options.latencyMs !== undefined && options.latencyMs > 0) await delay(options.latencyMs);
    const answer =
      options.intercept?.(recorded) ??
      checkToken(request.headers.authorization, expectedToken) ??
      dispatch(options.directory, options.directoryId, { method, url, body: raw });
    send(response, answer);
  }

  const server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      if (response.headersSent) {
        response.destroy();
        return;
      }
      const detail = error instanceof Error ? error.message : String(error);
      send(response, { status: 500, body: { error: `Sandbox server error: ${detail}` } });
    });
  });
  await listen(server, options.port ?? 0, host);
  const { port } = server.address() as AddressInfo;
  origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url: origin,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
