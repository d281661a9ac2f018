import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createScimClient, type ScimClient, type ScimClientOptions } from '../../src/scim/client';
import { forwardRequest } from '../support/forward';
import { scimFailure } from '../support/scim-failure';
import { chooseProxy, matchesNoProxy } from '../../src/scim/http-agent';
import { assertValidRequests, type RequestToCheck } from '../support/openapi';

// Real sockets on 127.0.0.1 only (no nock in this file): keep-alive, TLS, proxies, refused ports.

// Self-signed test certificate for CN=localhost, IP:127.0.0.1 (valid until 2126); test use only.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSeDp5XifOVaiSGgj
vXH1hT0RYmYG8yvHGPgLhxp4oAOhRANCAASmBoipesJg7N7oHf9fE4Mv8Xh5uJBr
cObg16NnecqhdKnmD8QICxdMjn9azmYT3jXHHsh8TaoBs09H1rSt81uw
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmjCCAUGgAwIBAgIUK88ZzThBWDAz5ev8ExFHVlkxxTAwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyOTE3MzYzMFoYDzIxMjYxMTA1
MTczNjMwWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASmBoipesJg7N7oHf9fE4Mv8Xh5uJBrcObg16NnecqhdKnmD8QICxdM
jn9azmYT3jXHHsh8TaoBs09H1rSt81uwo28wbTAdBgNVHQ4EFgQUD1dVBHOMgRTs
XDmB9GO5owH8kCIwHwYDVR0jBBgwFoAUD1dVBHOMgRTsXDmB9GO5owH8kCIwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDRwAwRAIgZ5VIfQyqh7l2zP84Sgmqymz8qbaFwCDmiom/2SwU0KMCIDM8
75xunAhsKuxQzqaZlvVr/+a5rh+1tLR2z0y1FYNH
-----END CERTIFICATE-----`;

const TOKEN = 'tok-SECRET-123';
const DIR = 'dir-1';
const USER = { id: 'u-1', userName: 'jane@example.com', active: true };

interface Target {
  url: string;
  port: number;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
  connections: number;
  close(): Promise<void>;
}

interface Proxy {
  url: string;
  /** Request lines seen: `CONNECT host:port` or `GET http://…`. */
  seen: string[];
  headers: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closer(server: http.Server | net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

function track(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

/** A SCIM stand-in answering a list request with a one-user list, any other with the user. */
const answerFor = (req: http.IncomingMessage): unknown =>
  req.method === 'GET' && /\/Users(\?|$)/.test(req.url ?? '') ? { totalResults: 1, Resources: [USER] } : USER;

async function startTarget(secure: boolean, handler?: http.RequestListener): Promise<Target> {
  const requests: Target['requests'] = [];
  const listener: http.RequestListener = (req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (handler) return handler(req, res);
    res.writeHead(200, { 'Content-Type': 'application/scim+json' });
    res.end(JSON.stringify(answerFor(req)));
  };
  const server = secure
    ? https.createServer({ key: TEST_KEY, cert: TEST_CERT }, listener)
    : http.createServer(listener);
  const target: Target = {
    url: '',
    port: 0,
    requests,
    connections: 0,
    close: async () => undefined,
  };
  server.on(secure ? 'secureConnection' : 'connection', () => {
    target.connections += 1;
  });
  const sockets = track(server);
  target.port = await listen(server);
  target.url = `${secure ? 'https' : 'http'}://127.0.0.1:${target.port}`;
  target.close = closer(server, sockets);
  cleanups.push(target.close);
  return target;
}

/** A tiny forward proxy: CONNECT tunnels and absolute-URI HTTP requests. */
async function startProxy(): Promise<Proxy> {
  const seen: string[] = [];
  const headers: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    headers.push(req.headers);
    const target = new URL(req.url ?? '');
    forwardRequest(req, res, {
      hostname: target.hostname,
      port: target.port,
      path: `${target.pathname}${target.search}`,
    });
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    headers.push(req.headers);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  const sockets = track(server);
  const port = await listen(server);
  const proxy: Proxy = { url: `http://127.0.0.1:${port}`, seen, headers, close: closer(server, sockets) };
  cleanups.push(proxy.close);
  return proxy;
}

function client(
  baseUrl: string,
  overrides: Partial<ScimClientOptions> = {},
): { client: ScimClient; sleeps: number[] } {
  const sleeps: number[] = [];
  const scim = createScimClient({
    baseUrl,
    directoryId: DIR,
    accessToken: TOKEN,
    timeoutMs: 5000,
    insecure: false,
    proxy: null,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
  cleanups.push(() => scim.close());
  return { client: scim, sleeps };
}

describe('keep-alive', () => {
  it('reuses one connection for consecutive requests', async () => {
    const target = await startTarget(false);
    const { client: scim } = client(target.url);
    await scim.getUserById('u-1');
    await scim.findUsers('userName', 'jane@example.com');
    await scim.testConnection();
    expect(target.requests).toHaveLength(3);
    expect(target.connections).toBe(1);
    expect(target.requests[0].headers.connection).toBe('keep-alive');
    expect(target.requests[0].headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('reuses one TLS connection too', async () => {
    const target = await startTarget(true);
    const { client: scim } = client(target.url, { insecure: true });
    await scim.getUserById('u-1');
    await scim.getUserById('u-1');
    expect(target.requests).toHaveLength(2);
    expect(target.connections).toBe(1);
  });
});

describe('TLS', () => {
  it('an untrusted certificate fails at once with the TLS sentence', async () => {
    const target = await startTarget(true);
    const { client: scim, sleeps } = client(target.url);
    const error = await scimFailure(scim.testConnection());
    expect(error.status).toBeNull();
    expect(error.message).toMatch(
      new RegExp(
        `^TLS certificate of 127\\.0\\.0\\.1:${target.port} is not trusted \\([A-Z_]+\\); fix the certificate or set ATLASSIAN_INSECURE=true$`,
      ),
    );
    expect(sleeps).toEqual([]);
    expect(target.requests).toHaveLength(0);
  });

  it('insecure accepts the self-signed certificate', async () => {
    const target = await startTarget(true);
    const { client: scim } = client(target.url, { insecure: true });
    await expect(scim.getUserById('u-1')).resolves.toMatchObject({ id: 'u-1' });
  });
});

describe('network failures on real sockets', () => {
  it('a refused port is retried, then reported without a status', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { client: scim, sleeps } = client(`http://127.0.0.1:${port}`, { retry: { maxAttempts: 3 } });
    const error = await scimFailure(scim.testConnection());
    expect(error.status).toBeNull();
    expect(error.message).toBe(`cannot reach 127.0.0.1:${port}: ECONNREFUSED (gave up after 3 attempts)`);
    expect(sleeps).toEqual([125, 250]);
  });

  it('a server that never answers hits the timeout', async () => {
    const target = await startTarget(false, () => undefined);
    const { client: scim } = client(target.url, { timeoutMs: 200, retry: { maxAttempts: 2 } });
    const error = await scimFailure(scim.testConnection());
    expect(error.status).toBeNull();
    expect(error.message).toBe('Atlassian did not answer within 200 ms (gave up after 2 attempts)');
    expect(target.requests).toHaveLength(2);
  });

  it('a connection closed mid-answer is retried', async () => {
    let calls = 0;
    const target = await startTarget(false, (req, res) => {
      calls += 1;
      if (calls === 1) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(USER));
    });
    const { client: scim, sleeps } = client(target.url);
    await expect(scim.getUserById('u-1')).resolves.toEqual(USER);
    expect(sleeps).toEqual([125]);
  });
});

describe('proxy', () => {
  const saved: Record<string, string | undefined> = {};
  const names = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

  beforeEach(() => {
    for (const name of names) {
      saved[name] = process.env[name];
      delete process.env[name];
    }
  });

  afterEach(() => {
    for (const name of names) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('tunnels https traffic through HTTPS_PROXY with CONNECT', async () => {
    const target = await startTarget(true);
    const proxy = await startProxy();
    const { client: scim } = client(target.url, { insecure: true, proxy: { httpsProxy: proxy.url } });
    await expect(scim.getUserById('u-1')).resolves.toMatchObject({ id: 'u-1' });
    expect(proxy.seen).toEqual([`CONNECT 127.0.0.1:${target.port}`]);
    expect(target.requests).toHaveLength(1);
    expect(target.requests[0].url).toBe(`/scim/directory/${DIR}/Users/u-1`);
    // The token travels inside the tunnel, never to the proxy.
    expect(JSON.stringify(proxy.headers)).not.toContain(TOKEN);
  });

  it('keeps verifying the certificate through the tunnel unless insecure', async () => {
    const target = await startTarget(true);
    const proxy = await startProxy();
    const { client: scim } = client(target.url, { proxy: { httpsProxy: proxy.url } });
    const error = await scimFailure(scim.testConnection());
    expect(error.message).toContain('is not trusted');
    expect(proxy.seen).toEqual([`CONNECT 127.0.0.1:${target.port}`]);
  });

  it('sends proxy credentials as Proxy-Authorization', async () => {
    const target = await startTarget(true);
    const proxy = await startProxy();
    const withAuth = proxy.url.replace('http://', 'http://alice:s%40cret@');
    const { client: scim } = client(target.url, { insecure: true, proxy: { httpsProxy: withAuth } });
    await scim.testConnection();
    expect(proxy.headers[0]['proxy-authorization']).toBe(
      `Basic ${Buffer.from('alice:s@cret').toString('base64')}`,
    );
  });

  it('sends http traffic to HTTP_PROXY as absolute-URI requests', async () => {
    const target = await startTarget(false);
    const proxy = await startProxy();
    const { client: scim } = client(target.url, { proxy: { httpProxy: proxy.url } });
    await scim.testConnection();
    expect(proxy.seen).toEqual([`GET http://127.0.0.1:${target.port}/scim/directory/${DIR}/Users?count=1`]);
    expect(target.requests).toHaveLength(1);
  });

  it.each(['127.0.0.1', 'localhost,127.0.0.1', '127.0.0.0/8', '*'])(
    'goes direct when NO_PROXY=%s matches the host',
    async (noProxy) => {
      const target = await startTarget(true);
      const proxy = await startProxy();
      const { client: scim } = client(target.url, {
        insecure: true,
        proxy: { httpsProxy: proxy.url, httpProxy: proxy.url, noProxy },
      });
      await scim.testConnection();
      expect(proxy.seen).toEqual([]);
      expect(target.requests).toHaveLength(1);
    },
  );

  it('still uses the proxy when NO_PROXY names another port of the host', async () => {
    const target = await startTarget(false);
    const proxy = await startProxy();
    const { client: scim } = client(target.url, {
      proxy: { httpProxy: proxy.url, noProxy: `127.0.0.1:${target.port + 1}` },
    });
    await scim.testConnection();
    expect(proxy.seen).toHaveLength(1);
  });

  it('never uses a proxy when proxy is null, even with proxy variables in the environment', async () => {
    const target = await startTarget(false);
    const proxy = await startProxy();
    process.env.HTTP_PROXY = proxy.url;
    process.env.http_proxy = proxy.url;
    process.env.HTTPS_PROXY = proxy.url;
    const { client: scim } = client(target.url, { proxy: null });
    await scim.testConnection();
    expect(proxy.seen).toEqual([]);
    expect(target.requests).toHaveLength(1);
  });

  it('a proxy that refuses connections is reported as unreachable', async () => {
    const target = await startTarget(true);
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { client: scim } = client(target.url, {
      insecure: true,
      proxy: { httpsProxy: `http://127.0.0.1:${port}` },
      retry: { maxAttempts: 1 },
    });
    const error = await scimFailure(scim.testConnection());
    expect(error.status).toBeNull();
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('contract', () => {
  it("every request the client sends is valid against Atlassian's OpenAPI document", async () => {
    const recorded: RequestToCheck[] = [];
    const target = await startTarget(false, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '', 'http://127.0.0.1');
        recorded.push({
          method: req.method ?? '',
          path: url.pathname,
          query: url.search.replace(/^\?/, ''),
          headers: req.headers,
          body: text === '' ? undefined : (JSON.parse(text) as unknown),
        });
        res.writeHead(req.method === 'POST' ? 201 : 200, { 'Content-Type': 'application/scim+json' });
        res.end(JSON.stringify(answerFor(req)));
      });
    });
    const { client: scim } = client(target.url);
    await scim.getUserById('u-1');
    await scim.findUsers('userName', 'a" or userName pr or userName eq "b');
    await scim.findUsers('externalId', 'ext-1');
    await scim.createUser({
      userName: 'jane@example.com',
      emails: [{ value: 'jane@example.com', type: 'work', primary: true }],
      name: { givenName: 'Jane', familyName: 'Doe' },
      displayName: 'Jane Doe',
      active: true,
    });
    await scim.patchUser('u-1', [{ op: 'replace', value: { active: false, title: 'Engineer' } }]);
    await scim.getUserSchema();
    await scim.testConnection();
    expect(recorded).toHaveLength(7);
    assertValidRequests(recorded);
  });
});

describe('chooseProxy and NO_PROXY', () => {
  const target = 'https://api.atlassian.com';

  it('is direct without settings or without a proxy for the scheme', () => {
    expect(chooseProxy(target, null).proxy).toBe(false);
    expect(chooseProxy(target, {}).proxy).toBe(false);
    expect(chooseProxy('http://scim.local', { httpsProxy: 'http://p:3128' }).proxy).toBe(false);
  });

  it('prefers HTTPS_PROXY for https and falls back to HTTP_PROXY', () => {
    expect(chooseProxy(target, { httpsProxy: 'http://a:1', httpProxy: 'http://b:2' }).proxy).toEqual({
      protocol: 'http',
      host: 'a',
      port: 1,
    });
    expect(chooseProxy(target, { httpProxy: 'http://b:2' }).proxy).toEqual({
      protocol: 'http',
      host: 'b',
      port: 2,
    });
  });

  it('reads host:port without a scheme, default ports and credentials, and hides the credentials', () => {
    expect(chooseProxy(target, { httpsProxy: 'proxy.corp:8080' }).proxy).toEqual({
      protocol: 'http',
      host: 'proxy.corp',
      port: 8080,
    });
    const choice = chooseProxy(target, { httpsProxy: 'https://u%20x:p%40w@proxy.corp' });
    expect(choice.proxy).toEqual({
      protocol: 'https',
      host: 'proxy.corp',
      port: 443,
      auth: { username: 'u x', password: 'p@w' },
    });
    expect(choice.via).toBe('https://proxy.corp');
  });

  it('reports an unusable proxy without echoing it', () => {
    const choice = chooseProxy(target, { httpsProxy: 'http://user:secret@[bad' });
    expect(choice.problem).toBe('HTTPS_PROXY is not a valid proxy URL');
    expect(chooseProxy(target, { httpsProxy: 'socks5://h:1' }).problem).toContain(
      'only http:// and https://',
    );
  });

  it.each([
    ['api.atlassian.com', true],
    ['atlassian.com', true],
    ['.atlassian.com', true],
    ['*.atlassian.com', true],
    ['ATLASSIAN.COM', true],
    ['other.com, atlassian.com', true],
    ['other.com atlassian.com', true],
    ['api.atlassian.com:443', true],
    ['api.atlassian.com:8443', false],
    ['lassian.com', false],
    ['api.atlassian.com.evil', false],
    ['*', true],
    ['', false],
  ])('NO_PROXY=%j matches https://api.atlassian.com: %s', (noProxy, expected) => {
    expect(matchesNoProxy(new URL(target), noProxy)).toBe(expected);
  });

  it('matches IPv4 blocks and bracketed IPv6', () => {
    expect(matchesNoProxy(new URL('http://10.1.2.3/'), '10.0.0.0/8')).toBe(true);
    expect(matchesNoProxy(new URL('http://11.1.2.3/'), '10.0.0.0/8')).toBe(false);
    expect(matchesNoProxy(new URL('http://[::1]:8080/'), '[::1]:8080')).toBe(true);
    expect(matchesNoProxy(new URL('http://[::1]:8080/'), '::1')).toBe(true);
  });
});
