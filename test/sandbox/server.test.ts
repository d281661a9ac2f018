import { Agent } from 'node:http';
import axios, { type AxiosInstance } from 'axios';
import { type RecordedRequest, type ScimServer, startScimServer } from '../../src/sandbox';
import { equalityFilter } from '../../src/scim/filter';
import { ERROR_SCHEMA, USER_SCHEMA, memoryDirectory, newUser, patchBody } from './fixtures';

const TOKEN = 'test-token-123';
const DIRECTORY_ID = 'dir-42';

let server: ScimServer;
let agent: Agent;
let http: AxiosInstance;
let seen: RecordedRequest[];

async function start(latencyMs?: number): Promise<void> {
  seen = [];
  server = await startScimServer({
    directory: memoryDirectory().directory,
    directoryId: DIRECTORY_ID,
    token: TOKEN,
    latencyMs,
    onRequest: (request) => seen.push(request),
  });
  agent = new Agent({ keepAlive: true });
  http = axios.create({
    baseURL: `${server.url}/scim/directory/${DIRECTORY_ID}`,
    headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'application/scim+json, application/json' },
    httpAgent: agent,
    validateStatus: () => true,
  });
}

afterEach(async () => {
  agent.destroy();
  await server.close();
});

describe('startScimServer', () => {
  beforeEach(() => start());

  it('listens on loopback with an ephemeral port', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the directory: create, filter, patch, get, delete', async () => {
    const created = await http.post('/Users', newUser('jane@example.com'));
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toBe('application/scim+json');
    expect(created.data).toMatchObject({
      schemas: [USER_SCHEMA],
      id: 'user-1',
      meta: { location: `${server.url}/scim/directory/${DIRECTORY_ID}/Users/user-1` },
    });
    const found = await http.get('/Users', {
      params: { filter: equalityFilter('userName', 'JANE@example.com') },
    });
    expect(found.data).toMatchObject({ totalResults: 1 });
    const patched = await http.patch('/Users/user-1', patchBody({ op: 'replace', value: { active: false } }));
    expect(patched.data).toMatchObject({ active: false });
    expect((await http.delete('/Users/user-1')).status).toBe(204);
    expect((await http.get('/Users/user-1')).status).toBe(404);
  });

  it('answers 401 with a Failure body without a token or with a wrong one', async () => {
    const anonymous = await axios.get(`${server.url}/scim/directory/${DIRECTORY_ID}/Users`, {
      validateStatus: () => true,
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.data).toEqual({ error: expect.any(String), traceId: expect.any(String) });
    expect(anonymous.data).not.toHaveProperty('detail');

    const wrong = await http.get('/Users', { headers: { Authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    expect(wrong.data).toEqual({ error: expect.any(String), traceId: expect.any(String) });

    const basic = await http.get('/Users', { headers: { Authorization: `Basic ${TOKEN}` } });
    expect(basic.status).toBe(401);
  });

  it('answers 404 ScimError for another directory id', async () => {
    const response = await http.get(`${server.url}/scim/directory/other/Users`);
    expect(response.status).toBe(404);
    expect(response.data).toMatchObject({
      schemas: [ERROR_SCHEMA],
      status: '404',
      detail: 'Directory does not exist.',
    });
  });

  it('answers 400 invalidSyntax for a body that is not JSON', async () => {
    const response = await http.post('/Users', 'not json', {
      headers: { 'Content-Type': 'application/scim+json' },
    });
    expect(response.status).toBe(400);
    expect(response.data).toMatchObject({ scimType: 'invalidSyntax' });
  });

  it('records every request with method, path, query, headers and body', async () => {
    await http.post('/Users', newUser('jane@example.com'));
    await http.get('/Users?count=1');
    await http.post('/Users', 'not json', { headers: { 'Content-Type': 'text/plain' } });
    expect(server.requests).toHaveLength(3);
    expect(seen).toEqual(server.requests);
    const [create, list, raw] = server.requests;
    expect(create).toMatchObject({
      method: 'POST',
      path: `/scim/directory/${DIRECTORY_ID}/Users`,
      query: '',
      body: newUser('jane@example.com'),
    });
    expect(create?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(create?.headers['content-type']).toMatch(/json/);
    expect(list).toMatchObject({ method: 'GET', query: 'count=1', body: undefined });
    expect(raw?.body).toBe('not json');
  });

  it('keeps connections alive between requests', async () => {
    await http.get('/Users');
    const second = await http.get('/Users');
    expect((second.request as { reusedSocket: boolean }).reusedSocket).toBe(true);
  });
});

describe('startScimServer latency', () => {
  it('waits about latencyMs before answering', async () => {
    await start(150);
    const started = performance.now();
    const response = await http.get('/Users');
    const elapsed = performance.now() - started;
    expect(response.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(100);
  });
});

describe('startScimServer intercept', () => {
  it('answers the scripted response instead of the directory', async () => {
    const directory = memoryDirectory().directory;
    let calls = 0;
    server = await startScimServer({
      directory,
      directoryId: DIRECTORY_ID,
      token: TOKEN,
      intercept: () => (++calls === 1 ? { status: 429, headers: { 'retry-after': '1' } } : undefined),
    });
    agent = new Agent();
    const url = `${server.url}/scim/directory/${DIRECTORY_ID}/Users`;
    const options = {
      headers: { Authorization: `Bearer ${TOKEN}` },
      validateStatus: () => true,
      httpAgent: agent,
    };
    const first = await axios.get(url, options);
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('1');
    expect((await axios.get(url, options)).status).toBe(200);
    expect(server.requests).toHaveLength(2);
  });
});
