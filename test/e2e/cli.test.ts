/**
 * Whole-process tests of the built CLI (`node dist/cli/main.js`) against an emulated Atlassian SCIM server
 * on 127.0.0.1. Every request the server receives is checked against Atlassian's OpenAPI document, and
 * the round trips of each command are the minimum of SPEC.md section 3.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RecordedRequest } from '../../src/sandbox';
import {
  type CliRun,
  describeRun,
  makeTempDir,
  parseJsonOutput,
  removeTempDirs,
  requireBuiltCli,
  runCli,
} from '../support/cli';
import { openApiProblems } from '../support/openapi';
import { type EmulatedAtlassian, startEmulatedAtlassian } from '../support/scim-server';
import { forwardRequest } from '../support/forward';

const TOKEN = 'tok-e2e-SECRET-1';
const DIRECTORY_ID = 'dir-e2e';

/** SPEC.md section 3: the minimum round trips of each command. */
const MINIMUM_REQUESTS = { get: 1, create: 2, update: 2, disable: 2, enable: 2, skip: 1 } as const;

interface Vendor {
  action: string;
  active: boolean | null;
  brand: string;
  details: Record<string, unknown> | null;
  email: string | null;
  errorCode: number | null;
  errorMessage: string | null;
  id: string | null;
  instanceName: string;
  reason: string | null;
  skipped: boolean;
  success: boolean;
  username: string | null;
}

interface IamOutput {
  IAM: { Vendor: Vendor; UserProfile: Record<string, unknown> };
}

const VENDOR_FIELDS = [
  'action',
  'active',
  'brand',
  'details',
  'email',
  'errorCode',
  'errorMessage',
  'id',
  'instanceName',
  'reason',
  'skipped',
  'success',
  'username',
];

let atlassian: EmulatedAtlassian;

function atlassianEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...atlassian.env,
    ATLASSIAN_TIMEOUT: '5s',
    ...extra,
  };
}

/** The token must appear nowhere in what the process prints, whatever happened. */
function expectNoSecret(run: CliRun): void {
  expect(run.stdout).not.toContain(TOKEN);
  expect(run.stderr).not.toContain(TOKEN);
}

async function cli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const run = await runCli(args, { env });
  expectNoSecret(run);
  return run;
}

interface Outcome {
  run: CliRun;
  output: IamOutput;
  vendor: Vendor;
  requests: RecordedRequest[];
}

/** Runs `<command> --user-profile <profile> --json` in Atlassian mode; returns the parsed result and the new requests. */
async function iam(
  command: string,
  profile: Record<string, unknown>,
  options: { args?: string[]; env?: Record<string, string>; target?: EmulatedAtlassian } = {},
): Promise<Outcome> {
  const target = options.target ?? atlassian;
  const before = target.server.requests.length;
  const run = await cli(
    [command, '--user-profile', JSON.stringify(profile), ...(options.args ?? []), '--json'],
    atlassianEnv({ ATLASSIAN_URL: target.server.url, ...options.env }),
  );
  const output = parseJsonOutput<IamOutput>(run);
  expect(Object.keys(output)).toEqual(['IAM']);
  expect(Object.keys(output.IAM.Vendor).sort()).toEqual(VENDOR_FIELDS);
  return { run, output, vendor: output.IAM.Vendor, requests: target.server.requests.slice(before) };
}

/** Exactly these requests (so: the minimum count), every one valid against the OpenAPI document. */
function expectTraffic(requests: RecordedRequest[], methods: string[], minimum: number): void {
  expect(requests).toHaveLength(minimum);
  expect(requests.map((r) => r.method)).toEqual(methods);
  expect(openApiProblems(requests)).toEqual([]);
  for (const request of requests) {
    expect(request.path.startsWith(`/scim/directory/${DIRECTORY_ID}/`)).toBe(true);
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.headers.accept).toBe('application/scim+json, application/json');
    if (request.body !== undefined) expect(request.headers['content-type']).toBe('application/scim+json');
  }
}

function expectExit(run: CliRun, code: number): void {
  if (run.code !== code) throw new Error(`expected exit ${code}, got ${describeRun(run)}`);
}

function patchValue(request: RecordedRequest): Record<string, unknown> {
  const body = request.body as {
    schemas: string[];
    Operations: Array<{ op: string; value: Record<string, unknown> }>;
  };
  expect(body.schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:PatchOp']);
  expect(body.Operations).toHaveLength(1);
  expect(body.Operations[0].op).toBe('replace');
  return body.Operations[0].value;
}

const filterOf = (request: RecordedRequest): string | null =>
  new URLSearchParams(request.query).get('filter');

beforeAll(async () => {
  requireBuiltCli();
  atlassian = await startEmulatedAtlassian({ directoryId: DIRECTORY_ID, token: TOKEN });
});

afterAll(async () => {
  await atlassian?.close();
  removeTempDirs();
});

describe('a user lifecycle through the CLI, in Atlassian mode', () => {
  const email = 'jane.e2e@example.com';
  let id: string;

  it('create: looks the user up, then POSTs it (2 requests)', async () => {
    const { run, vendor, requests } = await iam(
      'iam-create-user',
      { email, givenname: 'Jane', surname: 'Doe' },
      {
        env: { LOG_LEVEL: 'debug' },
      },
    );
    expectExit(run, 0);
    expect(vendor).toMatchObject({
      action: 'create',
      success: true,
      skipped: false,
      active: true,
      email,
      username: email,
    });
    expect(typeof vendor.id).toBe('string');
    id = vendor.id as string;
    expectTraffic(requests, ['GET', 'POST'], MINIMUM_REQUESTS.create);
    expect(filterOf(requests[0])).toBe(`userName eq "${email}"`);
    expect(requests[1].body).toMatchObject({
      userName: email,
      name: { givenName: 'Jane', familyName: 'Doe' },
    });
    // LOG_LEVEL=debug logs every SCIM request on stderr, and still no token (checked in cli()).
    expect(run.stderr).toMatch(/SCIM request/);
  });

  it('get: one request', async () => {
    const { run, vendor, output, requests } = await iam('iam-get-user', { email });
    expectExit(run, 0);
    expect(vendor).toMatchObject({ action: 'get', success: true, id, active: true, username: email, email });
    expect(output.IAM.UserProfile).toMatchObject({ email });
    expectTraffic(requests, ['GET'], MINIMUM_REQUESTS.get);
  });

  it('update: one PATCH of the mapped attributes (title), never PUT', async () => {
    const { run, vendor, requests } = await iam('iam-update-user', { email, title: 'Staff Engineer' });
    expectExit(run, 0);
    expect(vendor).toMatchObject({ action: 'update', success: true, id, active: true });
    expect(vendor.details).toMatchObject({ title: 'Staff Engineer' });
    expectTraffic(requests, ['GET', 'PATCH'], MINIMUM_REQUESTS.update);
    expect(requests[1].path).toBe(`/scim/directory/${DIRECTORY_ID}/Users/${id}`);
    const value = patchValue(requests[1]);
    expect(value).toMatchObject({ title: 'Staff Engineer' });
    expect(value).not.toHaveProperty('active');
  });

  it('disable: PATCH active false', async () => {
    const { run, vendor, requests } = await iam('iam-disable-user', { email });
    expectExit(run, 0);
    expect(vendor).toMatchObject({ action: 'disable', success: true, skipped: false, active: false, id });
    expectTraffic(requests, ['GET', 'PATCH'], MINIMUM_REQUESTS.disable);
    expect(patchValue(requests[1])).toEqual({ active: false });
  });

  it('disable again: skipped, "User is already disabled.", one request', async () => {
    const { run, vendor, requests } = await iam('iam-disable-user', { email });
    expectExit(run, 0);
    expect(vendor).toMatchObject({
      action: 'disable',
      success: true,
      skipped: true,
      reason: 'User is already disabled.',
      active: false,
    });
    expectTraffic(requests, ['GET'], MINIMUM_REQUESTS.skip);
  });

  it('enable: PATCH active true', async () => {
    const { run, vendor, requests } = await iam('iam-enable-user', { email });
    expectExit(run, 0);
    expect(vendor).toMatchObject({ action: 'enable', success: true, skipped: false, active: true, id });
    expectTraffic(requests, ['GET', 'PATCH'], MINIMUM_REQUESTS.enable);
    expect(patchValue(requests[1])).toEqual({ active: true });
  });

  it('enable again: skipped, "User is already enabled.", one request', async () => {
    const { run, vendor, requests } = await iam('enable-user', { email });
    expectExit(run, 0);
    expect(vendor).toMatchObject({
      action: 'enable',
      skipped: true,
      reason: 'User is already enabled.',
      success: true,
    });
    expectTraffic(requests, ['GET'], MINIMUM_REQUESTS.skip);
  });

  it('get after all that: active, with the new title', async () => {
    const { run, vendor, requests } = await iam('get-user', { email });
    expectExit(run, 0);
    expect(vendor).toMatchObject({ action: 'get', success: true, id, active: true });
    expect(vendor.details).toMatchObject({ title: 'Staff Engineer', userName: email });
    expectTraffic(requests, ['GET'], MINIMUM_REQUESTS.get);
  });

  it('create of an existing user reports action update (lookup + PATCH)', async () => {
    const { run, vendor, requests } = await iam('iam-create-user', { email, department: 'Platform' });
    expectExit(run, 0);
    expect(vendor).toMatchObject({ action: 'update', success: true, id });
    expect(vendor.details).toMatchObject({ department: 'Platform', title: 'Staff Engineer' });
    expectTraffic(requests, ['GET', 'PATCH'], MINIMUM_REQUESTS.update);
  });
});

describe('missing users', () => {
  it('update of a missing user creates it (IAM_CREATE_IF_NOT_FOUND default)', async () => {
    const email = 'new.by.update@example.com';
    const { run, vendor, requests } = await iam('iam-update-user', { email, title: 'Analyst' });
    expectExit(run, 0);
    expect(vendor).toMatchObject({ action: 'create', success: true, active: true, username: email });
    expect(vendor.details).toMatchObject({ title: 'Analyst' });
    expectTraffic(requests, ['GET', 'POST'], MINIMUM_REQUESTS.create);
  });

  it('get of a missing user exits 1 with errorCode 404 "User does not exist"', async () => {
    const { run, vendor, requests } = await iam('iam-get-user', { email: 'nobody@example.com' });
    expectExit(run, 1);
    expect(vendor).toMatchObject({
      action: 'get',
      success: false,
      errorCode: 404,
      errorMessage: 'User does not exist',
      details: null,
    });
    expectTraffic(requests, ['GET'], MINIMUM_REQUESTS.get);
  });

  it('disable of a missing user is skipped, "User does not exist"', async () => {
    const { run, vendor, requests } = await iam('iam-disable-user', { email: 'nobody@example.com' });
    expectExit(run, 0);
    expect(vendor).toMatchObject({
      action: 'disable',
      success: true,
      skipped: true,
      reason: 'User does not exist',
    });
    expectTraffic(requests, ['GET'], MINIMUM_REQUESTS.skip);
  });
});

describe('human-readable output', () => {
  it('prints the XSOAR table titled "Create User Results (Atlassian IAM)", within 100 columns when not a terminal (issue 13)', async () => {
    const email = 'table.e2e@example.com';
    const before = atlassian.server.requests.length;
    const run = await cli(['iam-create-user', '--user-profile', JSON.stringify({ email })], atlassianEnv());
    expectExit(run, 0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('Create User Results (Atlassian IAM)');
    expect(lines[1]).toMatch(/^success\s+active\s+id\s+username\s+email\s+details$/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
    expect(run.stdout).toContain(email);
    expectTraffic(atlassian.server.requests.slice(before), ['GET', 'POST'], MINIMUM_REQUESTS.create);
  });

  it('prints the short skipped layout for a skip', async () => {
    const run = await cli(
      ['iam-disable-user', '--user-profile', JSON.stringify({ email: 'ghost@example.com' })],
      atlassianEnv(),
    );
    expectExit(run, 0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('Disable User Results (Atlassian IAM)');
    expect(lines[1]).toMatch(/^skipped\s+reason$/);
    expect(run.stdout).toContain('User does not exist');
  });
});

describe('bad input and configuration: exit 2, a clear message, no request', () => {
  const profile = JSON.stringify({ email: 'jane.e2e@example.com' });
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['a malformed JSON profile', ['iam-get-user', '--user-profile', '{"email":'], {}, /not valid JSON/],
    [
      'a profile with no identifier',
      ['iam-get-user', '--user-profile', '{"title":"x"}'],
      {},
      /no identifier/,
    ],
    [
      'a profile that is not an object',
      ['iam-get-user', '--user-profile', '["a"]'],
      {},
      /must be a JSON object/,
    ],
    ['no --user-profile', ['iam-get-user'], {}, /needs --user-profile/],
    [
      'an unknown command',
      ['iam-frobnicate-user', '--user-profile', profile],
      {},
      /unknown command "iam-frobnicate-user"/,
    ],
    ['an unknown option', ['iam-get-user', '--user-profile', profile, '--verbose'], {}, /verbose/],
    [
      '--allow-enable maybe',
      ['iam-create-user', '--user-profile', profile, '--allow-enable', 'maybe'],
      {},
      /allow-enable must be true or false/,
    ],
    [
      '--allow-enable on get',
      ['iam-get-user', '--user-profile', profile, '--allow-enable', 'true'],
      {},
      /--allow-enable applies to iam-create-user and iam-update-user only/,
    ],
    [
      'only ATLASSIAN_ACCESS_TOKEN set, without ATLASSIAN_DIRECTORY_ID',
      ['iam-get-user', '--user-profile', profile],
      { ATLASSIAN_DIRECTORY_ID: '' },
      /ATLASSIAN_DIRECTORY_ID: is required/,
    ],
    [
      'only ATLASSIAN_DIRECTORY_ID set, without ATLASSIAN_ACCESS_TOKEN',
      ['iam-get-user', '--user-profile', profile],
      { ATLASSIAN_ACCESS_TOKEN: '' },
      /ATLASSIAN_ACCESS_TOKEN: is required/,
    ],
    [
      'a bad ATLASSIAN_TIMEOUT',
      ['iam-get-user', '--user-profile', profile],
      { ATLASSIAN_TIMEOUT: 'soon' },
      /ATLASSIAN_TIMEOUT/,
    ],
    ['a bad LOG_LEVEL', ['iam-get-user', '--user-profile', profile], { LOG_LEVEL: 'chatty' }, /LOG_LEVEL/],
  ];

  it.each(cases)('%s', async (_name, args, env, message) => {
    const before = atlassian.server.requests.length;
    const run = await cli(args, atlassianEnv({ LOG_LEVEL: 'debug', ...env }));
    expectExit(run, 2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    expect(atlassian.server.requests.length).toBe(before);
  });

  it.each(cases)(
    'issue 13: with --json, %s is one JSON error object on stdout',
    async (_name, args, env, message) => {
      const before = atlassian.server.requests.length;
      const run = await cli([...args, '--json'], atlassianEnv({ LOG_LEVEL: 'debug', ...env }));
      expectExit(run, 2);
      const { error } = parseJsonOutput<{ error: { kind: string; message: string; problems?: string[] } }>(
        run,
      );
      expect(['input', 'configuration']).toContain(error.kind);
      expect([error.message, ...(error.problems ?? [])].join('\n')).toMatch(message);
      expect(atlassian.server.requests.length).toBe(before);
    },
  );
});

describe('connection failures', () => {
  it('an unreachable URL (closed port) exits 1 and says it cannot reach the host', async () => {
    const port = await closedPort();
    const { run, vendor } = await iam(
      'iam-get-user',
      { email: 'jane.e2e@example.com' },
      { env: { ATLASSIAN_URL: `http://127.0.0.1:${port}`, ATLASSIAN_TIMEOUT: '2s' } },
    );
    expectExit(run, 1);
    expect(vendor).toMatchObject({ action: 'get', success: false, errorCode: null });
    expect(vendor.errorMessage).toMatch(new RegExp(`cannot reach 127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
  });

  describe('a server answering 401', () => {
    let wrongKey: EmulatedAtlassian;
    let echoing: EmulatedAtlassian;

    beforeAll(async () => {
      // A directory whose API key is another one: the CLI's token is refused.
      wrongKey = await startEmulatedAtlassian({ directoryId: DIRECTORY_ID, token: 'some-other-key' });
      // A hostile server that echoes the Authorization header back in its error text.
      echoing = await startEmulatedAtlassian({
        directoryId: DIRECTORY_ID,
        token: TOKEN,
        intercept: (request) => ({
          status: 401,
          body: {
            error: `Unauthorized: ${String(request.headers.authorization)} is not valid`,
            traceId: 'x',
          },
        }),
      });
    });

    afterAll(async () => {
      await wrongKey?.close();
      await echoing?.close();
    });

    it("exits 1 with errorCode 401 and Atlassian's message, one request, no token anywhere (LOG_LEVEL=debug)", async () => {
      const { run, vendor, requests } = await iam(
        'iam-get-user',
        { email: 'jane.e2e@example.com' },
        { target: wrongKey, env: { LOG_LEVEL: 'debug' } },
      );
      expectExit(run, 1);
      expect(vendor).toMatchObject({ action: 'get', success: false, errorCode: 401 });
      expect(vendor.errorMessage).toMatch(/Unauthorized/);
      expect(vendor.errorMessage).not.toMatch(/^None$/);
      expectTraffic(requests, ['GET'], 1);
    });

    it('the human output of a 401 names the problem too', async () => {
      const run = await cli(
        ['iam-disable-user', '--user-profile', JSON.stringify({ email: 'jane.e2e@example.com' })],
        atlassianEnv({ ATLASSIAN_URL: wrongKey.server.url, LOG_LEVEL: 'debug' }),
      );
      expectExit(run, 1);
      expect(run.stdout).toMatch(/^Disable User Results \(Atlassian IAM\)/);
      expect(run.stdout).toMatch(/401/);
      expect(run.stdout).toMatch(/Unauthorized/);
    });

    it('redacts the token when the server echoes it back (LOG_LEVEL=debug)', async () => {
      const { run, vendor } = await iam(
        'iam-update-user',
        { email: 'jane.e2e@example.com', title: 'x' },
        { target: echoing, env: { LOG_LEVEL: 'debug' } },
      );
      expectExit(run, 1);
      expect(vendor).toMatchObject({ success: false, errorCode: 401 });
      // The echo reached the message, and the client replaced the token in it.
      expect(vendor.errorMessage).toBe('Unauthorized: Bearer [REDACTED] is not valid');
      // expectNoSecret ran on stdout and stderr inside iam(); be explicit about the echoed message too.
      expect(JSON.stringify(vendor)).not.toContain(TOKEN);
    });
  });
});

/** A port on 127.0.0.1 that nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('TLS', () => {
  let tls: { key: Buffer; cert: Buffer } | null = null;
  let tlsSkipReason = '';
  let proxy: https.Server;
  let proxyUrl = '';
  let connections = 0;

  beforeAll(async () => {
    const dir = makeTempDir('atlassian-iam-tls-');
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    try {
      await promisify(execFile)(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-subj',
          '/CN=localhost',
          '-days',
          '1',
          '-keyout',
          keyFile,
          '-out',
          certFile,
        ],
        { timeout: 20_000 },
      );
      tls = { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) };
    } catch (error) {
      tlsSkipReason = `could not generate a self-signed certificate with openssl (${(error as Error).message.split('\n')[0]})`;
      return;
    }
    // An HTTPS front with a self-signed certificate, forwarding to the emulated Atlassian server.
    const upstream = new URL(atlassian.server.url);
    proxy = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      forwardRequest(req, res, { hostname: upstream.hostname, port: upstream.port, path: req.url ?? '/' });
    });
    proxy.on('connection', () => connections++);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `https://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  });

  afterAll(async () => {
    if (!proxy) return;
    proxy.closeAllConnections();
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
  });

  it('an untrusted (self-signed) certificate exits 1 with a TLS sentence, not retried', async () => {
    if (!tls) {
      console.warn(`SKIPPED TLS test: ${tlsSkipReason}`);
      return;
    }
    connections = 0;
    const before = atlassian.server.requests.length;
    const { run, vendor } = await iam(
      'iam-get-user',
      { email: 'jane.e2e@example.com' },
      { env: { ATLASSIAN_URL: proxyUrl } },
    );
    expectExit(run, 1);
    expect(vendor).toMatchObject({ action: 'get', success: false, errorCode: null });
    expect(vendor.errorMessage).toMatch(/TLS certificate of 127\.0\.0\.1:\d+ is not trusted/);
    expect(vendor.errorMessage).toMatch(/ATLASSIAN_INSECURE=true/);
    expect(atlassian.server.requests.length).toBe(before);
    expect(connections).toBe(1);
  });

  it('with ATLASSIAN_INSECURE=true the same server works, with a warning on stderr', async () => {
    if (!tls) {
      console.warn(`SKIPPED TLS test: ${tlsSkipReason}`);
      return;
    }
    const before = atlassian.server.requests.length;
    const { run, vendor } = await iam(
      'iam-get-user',
      { email: 'jane.e2e@example.com' },
      { env: { ATLASSIAN_URL: proxyUrl, ATLASSIAN_INSECURE: 'true' } },
    );
    expectExit(run, 0);
    expect(vendor).toMatchObject({ action: 'get', success: true, username: 'jane.e2e@example.com' });
    expect(run.stderr).toMatch(/ATLASSIAN_INSECURE/);
    expectTraffic(atlassian.server.requests.slice(before), ['GET'], MINIMUM_REQUESTS.get);
  });
});

describe('sandbox, zero configuration', () => {
  it('create then get in an empty directory with no ATLASSIAN_* variables, saying SANDBOX each time', async () => {
    const cwd = makeTempDir('atlassian-iam-sandbox-');
    const env = { DATABASE_URL: `sqlite:${path.join(cwd, 'x.db')}` };
    const profile = JSON.stringify({ email: 'jane@example.com' });
    const before = atlassian.server.requests.length;

    const created = await runCli(['iam-create-user', '--user-profile', profile, '--json'], { cwd, env });
    expectExit(created, 0);
    expect(created.stdout + created.stderr).toMatch(/SANDBOX/);
    const createdOutput = parseJsonOutput<IamOutput>(created);
    expect(createdOutput.IAM.Vendor).toMatchObject({
      action: 'create',
      success: true,
      username: 'jane@example.com',
    });
    expect(createdOutput.IAM.Vendor.instanceName).toMatch(/SANDBOX/);
    expect(fs.existsSync(path.join(cwd, 'x.db'))).toBe(true);

    const got = await runCli(['iam-get-user', '--user-profile', profile, '--json'], { cwd, env });
    expectExit(got, 0);
    expect(got.stdout + got.stderr).toMatch(/SANDBOX/);
    const gotOutput = parseJsonOutput<IamOutput>(got);
    expect(gotOutput.IAM.Vendor).toMatchObject({
      action: 'get',
      success: true,
      id: createdOutput.IAM.Vendor.id,
    });

    const table = await runCli(['get-user', '--user-profile', profile], { cwd, env });
    expectExit(table, 0);
    expect(table.stdout).toMatch(/^Get User Results \(Atlassian IAM\) \(SANDBOX\)\n/);
    expect(table.stdout + table.stderr).toMatch(/SANDBOX/);

    // The sandbox is embedded: nothing went over the network to the emulated Atlassian.
    expect(atlassian.server.requests.length).toBe(before);
  });
});
