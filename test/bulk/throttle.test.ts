/**
 * The runner's view of 429s: through the logger the SCIM client reports its retries to, and through
 * the directory when the client gives up. The real client against the emulated Atlassian keeps the
 * seam with src/scim/client.ts and its transport honest.
 */
import { observeDirectory, watchThrottling } from '../../src/bulk/throttle';
import type { Logger } from '../../src/log';
import { createScimClient } from '../../src/scim/client';
import { ScimRateLimitedError, ScimRequestError } from '../../src/scim/errors';
import type { ScimDirectory } from '../../src/scim/types';
import { type EmulatedAtlassian, startEmulatedAtlassian } from '../support/scim-server';

function recordingLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

const RATE_LIMITED = {
  status: 429,
  headers: { 'Retry-After': '1' },
  body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429', detail: 'Slow down.' },
};

describe('with the real SCIM client', () => {
  let atlassian: EmulatedAtlassian;
  let answer429 = 0;
  beforeAll(async () => {
    atlassian = await startEmulatedAtlassian({
      directoryId: 'dir-throttle',
      token: 'tok',
      intercept: () => {
        if (answer429 <= 0) return undefined;
        answer429--;
        return RATE_LIMITED;
      },
    });
  });
  afterAll(() => atlassian.close());

  function client(logger: Logger) {
    const waits: number[] = [];
    const scim = createScimClient({
      baseUrl: atlassian.server.url,
      directoryId: 'dir-throttle',
      accessToken: 'tok',
      logger,
      sleep: async (ms) => {
        waits.push(ms);
      },
      retry: { maxAttempts: 3 },
    });
    return { scim, waits };
  }

  it('signals each 429 the client retries, and logs it at debug level instead of warn', async () => {
    const { logger, lines } = recordingLogger();
    let signals = 0;
    const { scim, waits } = client(watchThrottling(logger, () => signals++));
    answer429 = 2;
    try {
      await expect(scim.findUsers('userName', 'nobody@example.com')).resolves.toEqual([]);
    } finally {
      scim.close();
    }
    expect(signals).toBe(2);
    expect(waits).toEqual([1000, 1000]); // Retry-After honoured by the client
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    const retries = lines.filter((l) => l.message === 'SCIM request failed; retrying');
    expect(retries.map((l) => [l.level, l.fields?.status])).toEqual([
      ['debug', 429],
      ['debug', 429],
    ]);
  });

  it('hands a 429 the client gave up on to the observer, typed, with its Retry-After', async () => {
    const { logger } = recordingLogger();
    const seen: ScimRequestError[] = [];
    const { scim } = client(logger);
    const directory = observeDirectory(scim, { onError: (error) => seen.push(error) });
    answer429 = 3;
    try {
      await expect(directory.findUsers('userName', 'nobody@example.com')).rejects.toMatchObject({
        status: 429,
      });
    } finally {
      scim.close();
    }
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(ScimRateLimitedError);
    expect((seen[0] as ScimRateLimitedError).retryAfterMs).toBe(1000);
  });
});

it('passes other warnings through unchanged', () => {
  const { logger, lines } = recordingLogger();
  let signals = 0;
  const watched = watchThrottling(logger, () => signals++);
  watched.warn('SCIM request failed; retrying', { status: 503 });
  watched.info('hello');
  watched.error('bad', { status: 429 }); // only warn lines are retries
  expect(signals).toBe(0);
  expect(lines.map((l) => l.level)).toEqual(['warn', 'info', 'error']);
});

it('counts the calls made through the directory and shows each SCIM error to the observer', async () => {
  let calls = 0;
  const seen: ScimRequestError[] = [];
  const failing = new ScimRequestError(500, 'boom');
  const inner = {
    getUserById: async () => null,
    findUsers: async () => [],
    createUser: async () => {
      throw failing;
    },
    patchUser: async () => ({}),
    getUserSchema: async () => ({}),
    testConnection: async () => {},
    findGroupsByName: async () => [],
    getGroupById: async () => null,
    createGroup: async () => ({ id: 'g', displayName: 'g' }),
    addGroupMembers: async () => {},
    removeGroupMembers: async () => {},
    listGroups: async () => ({ groups: [], totalResults: 0 }),
  } satisfies ScimDirectory;
  const directory = observeDirectory(inner, { onError: (error) => seen.push(error), onCall: () => calls++ });
  await directory.getUserById('x');
  await directory.findUsers('userName', 'y');
  await expect(directory.createUser({ userName: 'z' })).rejects.toBe(failing);
  await directory.patchUser('x', []);
  expect(calls).toBe(4);
  expect(seen).toEqual([failing]);
});
