import util from 'node:util';
import nock from 'nock';
import type { AxiosAdapter, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import {
  createScimClient,
  parseRetryAfter,
  type ScimClient,
  type ScimClientOptions,
} from '../../src/scim/client';
import { ScimRequestError } from '../../src/scim/errors';
import { InvalidUserIdError } from '../../src/scim/user-id';
import { scimFailure } from '../support/scim-failure';
import { equalityFilter } from '../../src/scim/filter';
import { PATCH_SCHEMA, USER_SCHEMA, type ScimUser } from '../../src/scim/types';
import { createLogger } from '../../src/log';

const BASE = 'https://scim.test.example';
const HOST = 'scim.test.example';
const DIR = 'dir-1';
const PREFIX = `/scim/directory/${DIR}`;
const TOKEN = 'tok-SECRET-123';

const JANE: ScimUser = {
  schemas: [USER_SCHEMA],
  id: 'u-1',
  userName: 'jane@example.com',
  emails: [{ value: 'jane@example.com', primary: true }],
  active: true,
};

interface Harness {
  client: ScimClient;
  sleeps: number[];
  lines: string[];
}

const clients: ScimClient[] = [];

/** A client with recorded sleeps, fixed jitter (0.5) and a logger that keeps every debug line. */
function setup(overrides: Partial<ScimClientOptions> = {}, lines: string[] = []): Harness {
  const sleeps: number[] = [];
  const client = createScimClient({
    baseUrl: BASE,
    directoryId: DIR,
    accessToken: TOKEN,
    timeoutMs: 2000,
    insecure: false,
    proxy: null,
    logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
  clients.push(client);
  return { client, sleeps, lines };
}

function atlassian(): nock.Scope {
  return nock(BASE);
}

function networkError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

const scimError = (status: number, detail: string, scimType?: string) => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
  status: String(status),
  ...(scimType === undefined ? {} : { scimType }),
  detail,
});

beforeAll(() => {
  nock.disableNetConnect();
});

afterEach(() => {
  nock.cleanAll();
  for (const client of clients.splice(0)) client.close();
});

afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

describe('requests', () => {
  it('getUserById sends GET /Users/{id} with the token and SCIM accept header', async () => {
    const scope = atlassian()
      .get(`${PREFIX}/Users/u-1`)
      .matchHeader('authorization', `Bearer ${TOKEN}`)
      .matchHeader('accept', 'application/scim+json, application/json')
      .matchHeader('content-type', (value) => value === undefined)
      .reply(200, JANE, { 'Content-Type': 'application/scim+json' });
    const { client } = setup();
    await expect(client.getUserById('u-1')).resolves.toEqual(JANE);
    scope.done();
  });

  it('encodes the user id and the directory id in the path', async () => {
    const scope = nock(BASE).get('/scim/directory/dir%20%2F2/Users/a%20b%2Bc%25').reply(200, JANE);
    const { client } = setup({ directoryId: 'dir /2', baseUrl: `${BASE}/` });
    await expect(client.getUserById('a b+c%')).resolves.toEqual(JANE);
    scope.done();
  });

  it('getUserById answers null on 404', async () => {
    const scope = atlassian()
      .get(`${PREFIX}/Users/missing`)
      .reply(404, scimError(404, 'Resource [user] not found'));
    const { client, sleeps } = setup();
    await expect(client.getUserById('missing')).resolves.toBeNull();
    expect(sleeps).toEqual([]);
    scope.done();
  });

  it('getUserById does not read an HTML 404 (wrong URL) as a missing user', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).reply(404, '<html><body>Not Found</body></html>', {
      'Content-Type': 'text/html',
    });
    const { client } = setup();
    const error = await scimFailure(client.getUserById('u-1'));
    expect(error.status).toBe(404);
    expect(error.message).toContain(`unexpected non-JSON response (HTTP 404) from ${HOST}`);
  });

  it('findUsers sends the escaped eq filter and returns Resources', async () => {
    const scope = atlassian()
      .get(`${PREFIX}/Users`)
      .query({ filter: 'userName eq "jane@example.com"' })
      .matchHeader('authorization', `Bearer ${TOKEN}`)
      .reply(200, { schemas: ['x'], totalResults: 1, Resources: [JANE] });
    const { client } = setup();
    await expect(client.findUsers('userName', 'jane@example.com')).resolves.toEqual([JANE]);
    scope.done();
  });

  it('findUsers answers [] when Resources is absent', async () => {
    atlassian()
      .get(`${PREFIX}/Users`)
      .query({ filter: 'externalId eq "42"' })
      .reply(200, { totalResults: 0, itemsPerPage: 0, startIndex: 1 });
    const { client } = setup();
    await expect(client.findUsers('externalId', '42')).resolves.toEqual([]);
  });

  it.each([
    'quo"te@example.com',
    'back\\slash@example.com',
    'a" or userName pr or userName eq "b',
    'x") or (userName pr',
    'amp&filter=userName pr#frag',
  ])('findUsers sends %j as one escaped literal', async (value) => {
    const seen: string[] = [];
    const scope = atlassian()
      .get((uri) => {
        if (uri.includes('?')) seen.push(uri);
        return uri.startsWith(`${PREFIX}/Users?`);
      })
      .reply(200, { totalResults: 0 });
    const { client } = setup();
    await client.findUsers('userName', value);
    scope.done();
    expect(seen).toHaveLength(1);
    const url = new URL(seen[0], BASE);
    expect([...url.searchParams.keys()]).toEqual(['filter']);
    const filter = url.searchParams.get('filter') as string;
    expect(filter).toBe(equalityFilter('userName', value));
    expect(JSON.parse(filter.slice('userName eq '.length))).toBe(value);
    // The raw query carries no bare quote, space or ampersand that could split it.
    expect(seen[0].split('?')[1]).toMatch(/^filter=[^"& #]*$/);
  });

  it('createUser POSTs the user with the core schema added and JSON booleans', async () => {
    let raw = '';
    const scope = atlassian()
      .post(`${PREFIX}/Users`)
      .matchHeader('content-type', 'application/scim+json')
      .matchHeader('authorization', `Bearer ${TOKEN}`)
      .matchHeader('accept', 'application/scim+json, application/json')
      .reply(201, function (_uri, body) {
        raw = typeof body === 'string' ? body : JSON.stringify(body);
        return { ...JANE, id: 'new-1' };
      });
    const { client } = setup();
    const input: ScimUser = {
      userName: 'jane@example.com',
      emails: [{ value: 'jane@example.com', primary: true }],
      active: false,
    };
    const created = await client.createUser(input);
    scope.done();
    expect(created).toEqual({ user: { ...JANE, id: 'new-1' }, recovered: false });
    expect(JSON.parse(raw)).toEqual({ schemas: [USER_SCHEMA], ...input });
    expect(raw).toContain('"active":false');
    expect(raw).toContain('"primary":true');
    expect(input.schemas).toBeUndefined();
  });

  it('createUser keeps schemas that already name the core schema', async () => {
    let body: unknown;
    atlassian()
      .post(`${PREFIX}/Users`, (b) => {
        body = b;
        return true;
      })
      .reply(201, JANE);
    const { client } = setup();
    const schemas = [USER_SCHEMA, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'];
    await client.createUser({ schemas, userName: 'jane@example.com' });
    expect(body).toEqual({ schemas, userName: 'jane@example.com' });
  });

  it('patchUser sends exactly {"schemas":[PatchOp],"Operations":[…]}', async () => {
    let raw = '';
    const scope = atlassian()
      .patch(`${PREFIX}/Users/u%201`)
      .matchHeader('content-type', 'application/scim+json')
      .matchHeader('authorization', `Bearer ${TOKEN}`)
      .reply(200, function (_uri, body) {
        raw = typeof body === 'string' ? body : JSON.stringify(body);
        return { ...JANE, active: false };
      });
    const { client } = setup();
    const user = await client.patchUser('u 1', [{ op: 'replace', value: { active: false } }]);
    scope.done();
    expect(user.active).toBe(false);
    expect(raw).toBe(
      JSON.stringify({ schemas: [PATCH_SCHEMA], Operations: [{ op: 'replace', value: { active: false } }] }),
    );
    expect(raw).not.toContain('"operations"');
  });

  it('patchUser reads the user when Atlassian answers 204', async () => {
    atlassian().patch(`${PREFIX}/Users/u-1`).reply(204);
    atlassian().get(`${PREFIX}/Users/u-1`).reply(200, JANE);
    const { client } = setup();
    await expect(client.patchUser('u-1', [{ op: 'replace', value: { active: true } }])).resolves.toEqual(
      JANE,
    );
  });

  it('getUserSchema reads /Schemas/<core user schema>', async () => {
    const schema = { id: USER_SCHEMA, attributes: [{ name: 'userName' }] };
    const scope = atlassian()
      .get(`${PREFIX}/Schemas/urn:ietf:params:scim:schemas:core:2.0:User`)
      .matchHeader('authorization', `Bearer ${TOKEN}`)
      .reply(200, schema);
    const { client } = setup();
    await expect(client.getUserSchema()).resolves.toEqual(schema);
    scope.done();
  });

  it('testConnection sends GET /Users?count=1', async () => {
    const scope = atlassian()
      .get(`${PREFIX}/Users`)
      .query({ count: '1' })
      .matchHeader('authorization', `Bearer ${TOKEN}`)
      .matchHeader('accept', 'application/scim+json, application/json')
      .reply(200, { totalResults: 3, Resources: [JANE] });
    const { client } = setup();
    await expect(client.testConnection()).resolves.toBeUndefined();
    scope.done();
  });

  it('logs every request at debug level without headers', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).reply(503);
    atlassian().get(`${PREFIX}/Users/u-1`).reply(200, JANE);
    const { client, lines } = setup();
    await client.getUserById('u-1');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = entries.filter((e) => e.message === 'SCIM request');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      level: 'debug',
      method: 'GET',
      path: '/Users/u-1',
      status: 503,
      attempt: 1,
    });
    expect(requests[1]).toMatchObject({ level: 'debug', status: 200, attempt: 2 });
    expect(typeof requests[1].ms).toBe('number');
    const retries = entries.filter((e) => e.level === 'warn');
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({
      method: 'GET',
      path: '/Users/u-1',
      attempt: 1,
      status: 503,
      waitMs: 125,
    });
    expect(lines.join('\n')).not.toMatch(/authorization|bearer/i);
  });
});

describe('errors', () => {
  it('401 with a Failure body gives its error text, without retrying', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).reply(401, { error: 'Invalid API key', traceId: 't-1' });
    const { client, sleeps } = setup();
    const error = await scimFailure(client.getUserById('u-1'));
    expect(error.status).toBe(401);
    expect(error.message).toBe('Invalid API key');
    expect(sleeps).toEqual([]);
  });

  it('401 without a body names the token variable', async () => {
    atlassian().get(`${PREFIX}/Users`).query({ count: '1' }).reply(401);
    const { client } = setup();
    const error = await scimFailure(client.testConnection());
    expect(error.status).toBe(401);
    expect(error.message).toBe('Atlassian rejected the access token (401): check ATLASSIAN_ACCESS_TOKEN');
  });

  it('403 with a Failure body gives its error text; without one, a sentence', async () => {
    atlassian().get(`${PREFIX}/Users`).query({ count: '1' }).reply(403, { error: 'Forbidden for org' });
    atlassian().get(`${PREFIX}/Users`).query({ count: '1' }).reply(403, {});
    const { client, sleeps } = setup();
    const first = await scimFailure(client.testConnection());
    expect(first.status).toBe(403);
    expect(first.message).toBe('Forbidden for org');
    const second = await scimFailure(client.testConnection());
    expect(second.status).toBe(403);
    expect(second.message).toContain('not authorized for this directory');
    expect(sleeps).toEqual([]);
  });

  it('400 ScimError gives its detail, without retrying', async () => {
    atlassian()
      .get(`${PREFIX}/Users`)
      .query(true)
      .reply(400, scimError(400, 'Unsupported filter attribute: emails', 'invalidFilter'));
    const { client, sleeps } = setup();
    const error = await scimFailure(client.findUsers('userName', 'x'));
    expect(error.status).toBe(400);
    expect(error.message).toBe('Unsupported filter attribute: emails');
    expect(sleeps).toEqual([]);
  });

  it('404 ScimError on a directory call gives its detail; without one, names the directory variable', async () => {
    atlassian()
      .get(`${PREFIX}/Users`)
      .query(true)
      .reply(404, scimError(404, 'Directory dir-1 was not found'));
    atlassian().get(`${PREFIX}/Users`).query({ count: '1' }).reply(404);
    const { client } = setup();
    const first = await scimFailure(client.findUsers('userName', 'x'));
    expect(first.status).toBe(404);
    expect(first.message).toBe('Directory dir-1 was not found');
    const second = await scimFailure(client.testConnection());
    expect(second.status).toBe(404);
    expect(second.message).toContain('directory not found');
    expect(second.message).toContain('ATLASSIAN_DIRECTORY_ID');
  });

  it('404 on patchUser is an error, not null', async () => {
    atlassian().patch(`${PREFIX}/Users/gone`).reply(404, scimError(404, 'User gone not found'));
    const { client } = setup();
    const error = await scimFailure(client.patchUser('gone', [{ op: 'replace', value: { active: false } }]));
    expect(error.status).toBe(404);
    expect(error.message).toBe('User gone not found');
  });

  it('a 409 on the first create attempt is a real conflict', async () => {
    const scope = atlassian()
      .post(`${PREFIX}/Users`)
      .reply(409, scimError(409, 'A user with userName jane@example.com already exists', 'uniqueness'));
    const { client, sleeps } = setup();
    const error = await scimFailure(client.createUser({ userName: 'jane@example.com' }));
    expect(error.status).toBe(409);
    expect(error.message).toBe('A user with userName jane@example.com already exists');
    expect(sleeps).toEqual([]);
    scope.done();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it.each(['None', 'undefined', 'null', '', '   '])('never reports a server text of %j', async (text) => {
    atlassian().get(`${PREFIX}/Users`).query({ count: '1' }).reply(401, { error: text, detail: text });
    const { client } = setup();
    const error = await scimFailure(client.testConnection());
    expect(error.message).toBe('Atlassian rejected the access token (401): check ATLASSIAN_ACCESS_TOKEN');
  });

  it('a non-JSON error page (HTML from a proxy) gives a clear sentence', async () => {
    atlassian()
      .get(`${PREFIX}/Users/u-1`)
      .times(5)
      .reply(502, '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', {
        'Content-Type': 'text/html',
      });
    const { client, sleeps } = setup();
    const error = await scimFailure(client.getUserById('u-1'));
    expect(error.status).toBe(502);
    expect(error.message).toContain(`unexpected non-JSON response (HTTP 502) from ${HOST}`);
    expect(error.message).not.toContain('<html>');
    expect(sleeps).toHaveLength(4);
  });

  it('a 200 that is not JSON (captive portal) is an error and not retried', async () => {
    atlassian().get(`${PREFIX}/Users`).query({ count: '1' }).reply(200, '<html>Sign in to the Wi-Fi</html>');
    const { client, sleeps } = setup();
    const error = await scimFailure(client.testConnection());
    expect(error.status).toBe(200);
    expect(error.message).toContain(`unexpected non-JSON response (HTTP 200) from ${HOST}`);
    expect(sleeps).toEqual([]);
  });

  it('a 200 whose JSON is not an object is an error', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).reply(200, '[1,2]');
    const { client } = setup();
    const error = await scimFailure(client.getUserById('u-1'));
    expect(error.status).toBe(200);
    expect(error.message).toContain('expected a JSON object');
  });

  it('does not follow redirects', async () => {
    atlassian()
      .get(`${PREFIX}/Users`)
      .query({ count: '1' })
      .reply(302, '', { Location: 'https://elsewhere.example/login' });
    const { client } = setup();
    const error = await scimFailure(client.testConnection());
    expect(error.status).toBe(302);
    expect(error.message).toContain('redirect');
  });

  it('a TLS certificate error is not retried and says what to do', async () => {
    atlassian()
      .get(`${PREFIX}/Users`)
      .query({ count: '1' })
      .replyWithError(
        networkError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
      );
    const { client, sleeps } = setup();
    const error = await scimFailure(client.testConnection());
    expect(error.status).toBeNull();
    expect(error.message).toBe(
      `TLS certificate of ${HOST} is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE); fix the certificate or set ATLASSIAN_INSECURE=true`,
    );
    expect(sleeps).toEqual([]);
  });

  it('an unknown host is not retried', async () => {
    atlassian()
      .get(`${PREFIX}/Users`)
      .query({ count: '1' })
      .replyWithError(networkError('ENOTFOUND', `getaddrinfo ENOTFOUND ${HOST}`));
    const { client, sleeps } = setup();
    const error = await scimFailure(client.testConnection());
    expect(error.status).toBeNull();
    expect(error.message).toBe(`cannot reach ${HOST}: ENOTFOUND`);
    expect(sleeps).toEqual([]);
  });

  it('a refused connection is retried, then reported', async () => {
    atlassian()
      .get(`${PREFIX}/Users`)
      .query({ count: '1' })
      .times(3)
      .replyWithError(networkError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:443'));
    const { client, sleeps } = setup({ retry: { maxAttempts: 3 } });
    const error = await scimFailure(client.testConnection());
    expect(error.status).toBeNull();
    expect(error.message).toBe(`cannot reach ${HOST}: ECONNREFUSED (gave up after 3 attempts)`);
    expect(sleeps).toEqual([125, 250]);
  });

  it('an error without a code reports its short message', async () => {
    atlassian().get(`${PREFIX}/Users`).query({ count: '1' }).replyWithError('something odd happened');
    const { client, sleeps } = setup();
    const error = await scimFailure(client.testConnection());
    expect(error.status).toBeNull();
    expect(error.message).toBe(`request to ${HOST} failed: something odd happened`);
    expect(sleeps).toEqual([]);
  });

  it('an unusable proxy setting fails every request with a sentence', async () => {
    const { client, sleeps } = setup({ proxy: { httpsProxy: 'socks5://user:pw@127.0.0.1:1080' } });
    const error = await scimFailure(client.testConnection());
    expect(error.status).toBeNull();
    expect(error.message).toBe(
      'HTTPS_PROXY uses socks5, but only http:// and https:// proxies are supported',
    );
    expect(error.message).not.toContain('pw');
    expect(sleeps).toEqual([]);
  });
});

describe('retries', () => {
  it('429 with Retry-After: 2 waits 2000 ms, then succeeds', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).reply(429, '', { 'Retry-After': '2' });
    atlassian().get(`${PREFIX}/Users/u-1`).reply(200, JANE);
    const { client, sleeps } = setup();
    await expect(client.getUserById('u-1')).resolves.toEqual(JANE);
    expect(sleeps).toEqual([2000]);
  });

  it('429 with Retry-After as an HTTP date waits until then', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    atlassian()
      .get(`${PREFIX}/Users/u-1`)
      .reply(429, '', { 'Retry-After': new Date(now + 3000).toUTCString() });
    atlassian().get(`${PREFIX}/Users/u-1`).reply(200, JANE);
    const { client, sleeps } = setup({ now: () => now });
    await expect(client.getUserById('u-1')).resolves.toEqual(JANE);
    expect(sleeps).toEqual([3000]);
  });

  it('429 without Retry-After backs off with jitter', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).times(2).reply(429);
    atlassian().get(`${PREFIX}/Users/u-1`).reply(200, JANE);
    const { client, sleeps } = setup();
    await expect(client.getUserById('u-1')).resolves.toEqual(JANE);
    // full jitter: random (0.5) × min(maxDelay, base × 2^(n-1))
    expect(sleeps).toEqual([125, 250]);
  });

  it('500 and 503 are retried, then the answer is returned', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).reply(500, scimError(500, 'Internal error'));
    atlassian().get(`${PREFIX}/Users/u-1`).reply(503, scimError(503, 'Service unavailable'));
    atlassian().get(`${PREFIX}/Users/u-1`).reply(200, JANE);
    const { client, sleeps } = setup();
    await expect(client.getUserById('u-1')).resolves.toEqual(JANE);
    expect(sleeps).toEqual([125, 250]);
  });

  it.each([502, 504])('%i is retried', async (status) => {
    atlassian().get(`${PREFIX}/Users/u-1`).reply(status);
    atlassian().get(`${PREFIX}/Users/u-1`).reply(200, JANE);
    const { client, sleeps } = setup();
    await expect(client.getUserById('u-1')).resolves.toEqual(JANE);
    expect(sleeps).toHaveLength(1);
  });

  it('gives up after maxAttempts with the last status and message', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).times(4).reply(500, scimError(500, 'Internal error'));
    atlassian().get(`${PREFIX}/Users/u-1`).reply(503, scimError(503, 'Down for maintenance'));
    const { client, sleeps } = setup();
    const error = await scimFailure(client.getUserById('u-1'));
    expect(error.status).toBe(503);
    expect(error.message).toBe('Down for maintenance (gave up after 5 attempts)');
    expect(sleeps).toEqual([125, 250, 500, 1000]);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('caps each backoff at maxDelayMs', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).times(6).reply(503);
    const { client, sleeps } = setup({
      random: () => 0.999,
      retry: { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 3000, maxTotalWaitMs: 100_000 },
    });
    await scimFailure(client.getUserById('u-1'));
    expect(sleeps).toEqual([999, 1998, 2997, 2997, 2997]);
  });

  it('honours the total wait budget', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).times(2).reply(503);
    atlassian().get(`${PREFIX}/Users/u-1`).reply(200, JANE);
    const { client, sleeps } = setup({ retry: { maxTotalWaitMs: 300 } });
    const error = await scimFailure(client.getUserById('u-1'));
    // 125 ms fits; the next 250 ms would make 375 ms > 300 ms.
    expect(sleeps).toEqual([125]);
    expect(error.status).toBe(503);
    expect(error.message).toContain('retry budget');
    expect(error.message).toContain('gave up after 2 attempts');
  });

  it('a Retry-After longer than the budget fails at once with a clear message', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).reply(429, '', { 'Retry-After': '120' });
    const { client, sleeps } = setup();
    const error = await scimFailure(client.getUserById('u-1'));
    expect(sleeps).toEqual([]);
    expect(error.status).toBe(429);
    expect(error.message).toBe(
      'Atlassian is rate limiting requests (HTTP 429); Atlassian asked to wait 120 s before retrying, more than the 30 s left of the retry budget: try again later',
    );
  });

  it('does not retry 4xx other than 429', async () => {
    for (const status of [400, 401, 403, 404, 405, 409, 422]) {
      atlassian()
        .get(`${PREFIX}/Users`)
        .query({ count: '1' })
        .reply(status, scimError(status, `no ${status}`));
    }
    const { client, sleeps } = setup();
    for (const status of [400, 401, 403, 404, 405, 409, 422]) {
      const error = await scimFailure(client.testConnection());
      expect(error.status).toBe(status);
      expect(error.message).toBe(`no ${status}`);
    }
    expect(sleeps).toEqual([]);
  });

  it('a timeout gives status null and says how long it waited', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).times(2).delay(1000).reply(200, JANE);
    const { client, sleeps } = setup({ timeoutMs: 100, retry: { maxAttempts: 2 } });
    const started = Date.now();
    const error = await scimFailure(client.getUserById('u-1'));
    expect(Date.now() - started).toBeLessThan(900);
    expect(error.status).toBeNull();
    expect(error.message).toBe('Atlassian did not answer within 100 ms (gave up after 2 attempts)');
    expect(sleeps).toEqual([125]);
  });

  it('a timeout is retried and the next answer used', async () => {
    atlassian()
      .get(`${PREFIX}/Users/u-1`)
      .delay(1000)
      .reply(200, { ...JANE, id: 'late' });
    atlassian().get(`${PREFIX}/Users/u-1`).reply(200, JANE);
    const { client } = setup({ timeoutMs: 100 });
    await expect(client.getUserById('u-1')).resolves.toEqual(JANE);
  });

  it('ECONNRESET is retried', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).replyWithError(networkError('ECONNRESET', 'socket hang up'));
    atlassian().get(`${PREFIX}/Users/u-1`).reply(200, JANE);
    const { client, sleeps } = setup();
    await expect(client.getUserById('u-1')).resolves.toEqual(JANE);
    expect(sleeps).toEqual([125]);
  });

  it('"socket hang up" without a code is retried as a reset', async () => {
    atlassian().get(`${PREFIX}/Users/u-1`).replyWithError('socket hang up');
    atlassian().get(`${PREFIX}/Users/u-1`).reply(200, JANE);
    const { client, sleeps } = setup();
    await expect(client.getUserById('u-1')).resolves.toEqual(JANE);
    expect(sleeps).toEqual([125]);
  });

  it('parseRetryAfter reads seconds and HTTP dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});

describe('create never duplicates a user', () => {
  const newUser: ScimUser = { userName: 'Jane@Example.com', emails: [{ value: 'jane@example.com' }] };

  it('a POST that reset, then met 409 on retry, looks the user up: recovered', async () => {
    const post1 = atlassian()
      .post(`${PREFIX}/Users`)
      .replyWithError(networkError('ECONNRESET', 'socket hang up'));
    const post2 = atlassian()
      .post(`${PREFIX}/Users`)
      .reply(409, scimError(409, 'userName already exists', 'uniqueness'));
    const lookup = atlassian()
      .get(`${PREFIX}/Users`)
      .query({ filter: 'userName eq "Jane@Example.com"' })
      .reply(200, { totalResults: 1, Resources: [{ ...JANE, userName: 'jane@example.com' }] });
    const { client, sleeps } = setup();
    const created = await client.createUser(newUser);
    expect(created).toEqual({ user: { ...JANE, userName: 'jane@example.com' }, recovered: true });
    post1.done();
    post2.done();
    lookup.done();
    expect(nock.pendingMocks()).toEqual([]);
    expect(sleeps).toEqual([125]);
  });

  it.each([
    ['a 503', (s: nock.Interceptor) => s.reply(503)],
    ['a timeout', (s: nock.Interceptor) => s.delay(1000).reply(201, JANE)],
  ])('a POST that met %s, then 409, is recovered', async (_label, first) => {
    first(atlassian().post(`${PREFIX}/Users`));
    atlassian().post(`${PREFIX}/Users`).reply(409, scimError(409, 'exists'));
    atlassian()
      .get(`${PREFIX}/Users`)
      .query(true)
      .reply(200, { totalResults: 1, Resources: [JANE] });
    const { client } = setup({ timeoutMs: 100 });
    await expect(client.createUser(newUser)).resolves.toEqual({ user: JANE, recovered: true });
  });

  it('a POST refused before connecting, then 409, is a real conflict', async () => {
    atlassian().post(`${PREFIX}/Users`).replyWithError(networkError('ECONNREFUSED'));
    atlassian().post(`${PREFIX}/Users`).reply(409, scimError(409, 'userName already exists'));
    const { client } = setup();
    const error = await scimFailure(client.createUser(newUser));
    expect(error.status).toBe(409);
    expect(error.message).toBe('userName already exists');
  });

  it('a POST rate limited (429), then 409, is a real conflict', async () => {
    atlassian().post(`${PREFIX}/Users`).reply(429, '', { 'Retry-After': '1' });
    atlassian().post(`${PREFIX}/Users`).reply(409, scimError(409, 'userName already exists'));
    const { client } = setup();
    const error = await scimFailure(client.createUser(newUser));
    expect(error.status).toBe(409);
  });

  it('when the lookup after a retried 409 finds nobody, the 409 stands', async () => {
    atlassian().post(`${PREFIX}/Users`).reply(500);
    atlassian().post(`${PREFIX}/Users`).reply(409, scimError(409, 'userName already exists'));
    atlassian().get(`${PREFIX}/Users`).query(true).reply(200, { totalResults: 0 });
    const { client } = setup();
    const error = await scimFailure(client.createUser(newUser));
    expect(error.status).toBe(409);
    expect(error.message).toBe('userName already exists');
  });

  it('a retried POST that succeeds creates once', async () => {
    atlassian().post(`${PREFIX}/Users`).reply(503);
    atlassian().post(`${PREFIX}/Users`).reply(201, JANE);
    const { client } = setup();
    await expect(client.createUser(newUser)).resolves.toEqual({ user: JANE, recovered: false });
    expect(nock.pendingMocks()).toEqual([]);
  });
});

describe('a write that failed after it may have reached Atlassian says so', () => {
  const newUser: ScimUser = { userName: 'jane@example.com' };
  const MAY_CREATE = '; the user may have been created all the same: look the user up before trying again';
  const MAY_CHANGE = '; the change may have been made all the same: look the user up before trying again';

  it('a POST answered 200 with a body that is not JSON (the user was created)', async () => {
    atlassian().post(`${PREFIX}/Users`).reply(200, '{"id":"u-1","userName":"ja');
    const { client, sleeps } = setup();
    const error = await scimFailure(client.createUser(newUser));
    expect(error.status).toBe(200);
    expect(error.message).toBe(
      `unexpected non-JSON response (HTTP 200) from ${HOST}; check ATLASSIAN_URL and any proxy in between${MAY_CREATE}`,
    );
    expect(sleeps).toEqual([]);
  });

  it('a PATCH answered 200 with a body that is not JSON', async () => {
    atlassian().patch(`${PREFIX}/Users/u-1`).reply(200, '<html>ok</html>');
    const { client } = setup();
    const error = await scimFailure(client.patchUser('u-1', [{ op: 'replace', value: { active: false } }]));
    expect(error.message).toMatch(
      /^unexpected non-JSON response \(HTTP 200\).*the change may have been made/,
    );
  });

  it('a POST that timed out every time', async () => {
    atlassian().post(`${PREFIX}/Users`).times(2).delay(1000).reply(201, JANE);
    const { client } = setup({ timeoutMs: 100, retry: { maxAttempts: 2 } });
    const error = await scimFailure(client.createUser(newUser));
    expect(error.status).toBeNull();
    expect(error.message).toBe(
      `Atlassian did not answer within 100 ms (gave up after 2 attempts)${MAY_CREATE}`,
    );
  });

  it('a PATCH that met 503 every time', async () => {
    atlassian().patch(`${PREFIX}/Users/u-1`).times(2).reply(503);
    const { client } = setup({ retry: { maxAttempts: 2 } });
    const error = await scimFailure(client.patchUser('u-1', [{ op: 'replace', value: { active: false } }]));
    expect(error.message).toBe(`Atlassian is unavailable (HTTP 503) (gave up after 2 attempts)${MAY_CHANGE}`);
  });

  it('but not a POST that surely did not land, nor a read', async () => {
    atlassian().post(`${PREFIX}/Users`).times(2).reply(429);
    atlassian().post(`${PREFIX}/Users`).reply(400, scimError(400, 'bad userName'));
    atlassian().get(`${PREFIX}/Users/u-1`).times(2).reply(503);
    const { client } = setup({ retry: { maxAttempts: 2 } });
    expect((await scimFailure(client.createUser(newUser))).message).toBe(
      'Atlassian is rate limiting requests (HTTP 429) (gave up after 2 attempts)',
    );
    expect((await scimFailure(client.createUser(newUser))).message).toBe('bad userName');
    expect((await scimFailure(client.getUserById('u-1'))).message).toBe(
      'Atlassian is unavailable (HTTP 503) (gave up after 2 attempts)',
    );
  });
});

describe('adapter', () => {
  it('retries and error mapping happen above a custom adapter', async () => {
    const seen: InternalAxiosRequestConfig[] = [];
    const answers = [
      { status: 503, data: { detail: 'busy' } },
      { status: 200, data: { ...JANE } },
    ];
    const adapter: AxiosAdapter = async (config) => {
      seen.push(config);
      const answer = answers.shift() as { status: number; data: unknown };
      const response: AxiosResponse = {
        status: answer.status,
        statusText: '',
        headers: {},
        config,
        data: answer.data,
      };
      return response;
    };
    const { client, sleeps } = setup({ adapter });
    await expect(client.getUserById('u-1')).resolves.toEqual(JANE);
    expect(sleeps).toEqual([125]);
    expect(seen).toHaveLength(2);
    expect(seen[0].url).toBe(`${BASE}${PREFIX}/Users/u-1`);
    expect(seen[0].method).toBe('get');
  });

  it('hands the adapter a JSON string body and reads string answers', async () => {
    let body: unknown;
    const adapter: AxiosAdapter = async (config) => {
      body = config.data;
      return { status: 201, statusText: '', headers: {}, config, data: JSON.stringify(JANE) };
    };
    const { client } = setup({ adapter });
    await expect(client.createUser({ userName: 'jane@example.com' })).resolves.toEqual({
      user: JANE,
      recovered: false,
    });
    expect(typeof body).toBe('string');
    expect(JSON.parse(body as string)).toEqual({ schemas: [USER_SCHEMA], userName: 'jane@example.com' });
  });
});

describe('agents', () => {
  it('uses keep-alive agents that verify certificates by default', () => {
    const { client } = setup();
    expect((client.agents.httpAgent as unknown as { keepAlive: boolean }).keepAlive).toBe(true);
    expect((client.agents.httpsAgent as unknown as { keepAlive: boolean }).keepAlive).toBe(true);
    expect(client.agents.httpsAgent.options.rejectUnauthorized).toBe(true);
  });

  it('insecure turns certificate verification off and logs a warning', () => {
    const lines: string[] = [];
    const { client } = setup({ insecure: true }, lines);
    expect(client.agents.httpsAgent.options.rejectUnauthorized).toBe(false);
    expect(lines.some((line) => line.includes('"level":"warn"') && line.includes('ATLASSIAN_INSECURE'))).toBe(
      true,
    );
  });
});

describe('the token never leaks', () => {
  it('appears in no error and no log line, whatever goes wrong', async () => {
    const lines: string[] = [];
    const errors: unknown[] = [];
    const P = `${PREFIX}/Users/u-1`;
    const scenarios: Array<[string, () => void, Partial<ScimClientOptions>?]> = [
      ['401 Failure', () => atlassian().get(P).reply(401, { error: 'Unauthorized', traceId: 'x' })],
      ['401 empty', () => atlassian().get(P).reply(401)],
      ['403', () => atlassian().get(P).reply(403, { error: 'Forbidden' })],
      [
        '400 echoing the header',
        () =>
          atlassian()
            .get(P)
            .reply(400, scimError(400, `bad header: Bearer ${TOKEN}`)),
      ],
      ['404 patch', () => atlassian().patch(P).reply(404, scimError(404, 'no such user'))],
      ['409', () => atlassian().post(`${PREFIX}/Users`).reply(409, scimError(409, 'exists'))],
      ['429 budget', () => atlassian().get(P).reply(429, '', { 'Retry-After': '999' })],
      ['503 give up', () => atlassian().get(P).times(5).reply(503, scimError(503, 'down'))],
      ['HTML 502', () => atlassian().get(P).times(5).reply(502, `<html>${TOKEN}</html>`)],
      ['200 HTML', () => atlassian().get(P).reply(200, '<html>login</html>')],
      [
        'redirect',
        () =>
          atlassian()
            .get(P)
            .reply(301, '', { Location: `https://x.example/?t=${TOKEN}` }),
      ],
      [
        'timeout',
        () => atlassian().get(P).times(2).delay(500).reply(200, JANE),
        { timeoutMs: 50, retry: { maxAttempts: 2 } },
      ],
      [
        'reset',
        () => atlassian().get(P).times(5).replyWithError(networkError('ECONNRESET', 'socket hang up')),
      ],
      ['refused', () => atlassian().get(P).times(5).replyWithError(networkError('ECONNREFUSED'))],
      [
        'tls',
        () => atlassian().get(P).replyWithError(networkError('CERT_HAS_EXPIRED', 'certificate has expired')),
      ],
      ['odd error', () => atlassian().get(P).replyWithError(`odd failure near Bearer ${TOKEN}`)],
    ];
    for (const [label, arrange, options] of scenarios) {
      arrange();
      const { client } = setup(options ?? {}, lines);
      const call =
        label === '409'
          ? client.createUser({ userName: 'jane@example.com' })
          : label === '404 patch'
            ? client.patchUser('u-1', [{ op: 'replace', value: { active: false } }])
            : client.getUserById('u-1');
      errors.push(await scimFailure(call));
      nock.cleanAll();
    }
    // A successful recovery logs too.
    atlassian().post(`${PREFIX}/Users`).replyWithError(networkError('ECONNRESET'));
    atlassian().post(`${PREFIX}/Users`).reply(409, scimError(409, 'exists'));
    atlassian()
      .get(`${PREFIX}/Users`)
      .query(true)
      .reply(200, { Resources: [JANE] });
    const { client } = setup({}, lines);
    await client.createUser({ userName: 'jane@example.com' });

    expect(errors).toHaveLength(scenarios.length);
    expect(lines.length).toBeGreaterThan(scenarios.length);
    for (const error of errors) {
      const e = error as ScimRequestError;
      for (const text of [
        e.message,
        String(e.stack),
        JSON.stringify(e),
        String(e),
        util.inspect(e, { depth: 10, showHidden: true }),
      ]) {
        expect(text).not.toContain(TOKEN);
        expect(text).not.toMatch(/\b(None|undefined)\b/);
      }
      // Facts only (status, network code, a 429's wait): nothing from the request.
      expect(Object.keys(e).every((key) => ['code', 'name', 'retryAfterMs', 'status'].includes(key))).toBe(
        true,
      );
    }
    for (const line of lines) {
      expect(line).not.toContain(TOKEN);
      expect(line.toLowerCase()).not.toContain('authorization');
    }
    expect(util.inspect(client, { depth: 10 })).not.toContain(TOKEN);
    expect(JSON.stringify(Object.keys(client))).not.toContain(TOKEN);
  });
});

describe('issue 10 finding 4: ids are checked before any URL is built, answers before they are believed', () => {
  const LIST = {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
    totalResults: 1,
    Resources: [JANE],
  };

  it.each(['.', '..', '', ' ', 'a/b', 'a\\b', 'a?b', 'a#b', 'a\nb', 'a\u0000b', 'a\u007fb', 'a\u0085b'])(
    'refuses the id %j without sending anything',
    async (id) => {
      const any = nock(BASE).get(/.*/).reply(200, JANE).patch(/.*/).reply(200, JANE);
      const { client } = setup();
      await expect(client.getUserById(id)).rejects.toThrow(InvalidUserIdError);
      await expect(client.patchUser(id, [{ op: 'replace', value: { active: false } }])).rejects.toThrow(
        /^the user id .* cannot be used: it /,
      );
      expect(any.pendingMocks()).toHaveLength(2);
    },
  );

  it.each([
    ['a ListResponse', LIST, /a list of users, not a User resource/],
    ['an empty object', {}, /an object without a string id, not a User resource/],
    ['a user with a numeric id', { ...JANE, id: 7 }, /an object without a string id/],
    ['a user whose id is "."', { ...JANE, id: '.' }, /a user whose id is "\.", a path segment/],
    ['HTML', '<html><body>Users</body></html>', /unexpected non-JSON response/],
  ])('a lookup answered with %s is a failure, never a user', async (_what, body, message) => {
    const scope = atlassian()
      .get(`${PREFIX}/Users/u-1`)
      .reply(200, body as nock.Body, {
        'Content-Type': typeof body === 'string' ? 'text/html' : 'application/scim+json',
      });
    const { client } = setup();
    const failure = client.getUserById('u-1');
    await expect(failure).rejects.toThrow(ScimRequestError);
    await expect(failure).rejects.toThrow(message);
    scope.done();
  });

  it('create and PATCH answers that are not a User resource are failures too', async () => {
    const scope = atlassian()
      .post(`${PREFIX}/Users`)
      .reply(201, LIST)
      .patch(`${PREFIX}/Users/u-1`)
      .reply(200, {});
    const { client } = setup();
    await expect(client.createUser({ userName: 'jane@example.com' })).rejects.toThrow(/not a User resource/);
    await expect(client.patchUser('u-1', [{ op: 'replace', value: { active: false } }])).rejects.toThrow(
      /not a User resource/,
    );
    scope.done();
  });

  it('a list whose Resources are not users is a failure', async () => {
    const scope = atlassian()
      .get(`${PREFIX}/Users`)
      .query(true)
      .reply(200, { ...LIST, Resources: [{}] });
    const { client } = setup();
    await expect(client.findUsers('userName', 'jane@example.com')).rejects.toThrow(/not a User resource/);
    scope.done();
  });
});
