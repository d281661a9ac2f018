/**
 * The Atlassian SCIM client: the operations on users and groups, each one request (or two) through
 * ./transport, whose answers are checked here before anything above sees them. Retries and their
 * budget live in ./retry, the error messages in ./messages.
 */
import type { AxiosAdapter } from 'axios';
import type { AtlassianConnection, ProxySettings } from '../config';
import { silentLogger, type Logger } from '../log';
import { ScimRequestError } from './errors';
import { equalityFilter } from './filter';
import { asGroup, checkResourceId, groupNameFilter, memberPatchBody } from './groups';
import type { HttpAgents } from './http-agent';
import { isObject, serverMessage } from './messages';
import { DEFAULT_RETRY, type RetryLimits } from './retry';
import { type Reply, type RequestSpec, ScimTransport } from './transport';
import { assertUserId, notAUserProblem } from './user-id';
import {
  LIST_SCHEMA,
  PATCH_SCHEMA,
  USER_SCHEMA,
  type CreatedUser,
  GROUP_SCHEMA,
  type GroupPage,
  type LookupAttribute,
  type PatchOperation,
  type ScimDirectory,
  type ScimGroup,
  type ScimObserver,
  type ScimUser,
} from './types';

export { isTlsErrorCode } from './messages';
export {
  DEFAULT_RETRY,
  isTransientFailure,
  parseRetryAfter,
  RETRYABLE_CODES,
  type RetryLimits,
} from './retry';

export const DEFAULT_TIMEOUT_MS = 10_000;

export interface ScimClientOptions {
  /** ATLASSIAN_URL; a trailing slash is tolerated. */
  baseUrl: string;
  directoryId: string;
  accessToken: string;
  /** Per attempt, from sending to the whole answer read (default 10 s). */
  timeoutMs?: number;
  /** Skip TLS certificate verification (ATLASSIAN_INSECURE). */
  insecure?: boolean;
  /** From HTTPS_PROXY/HTTP_PROXY/NO_PROXY when ATLASSIAN_USE_PROXY is true; null: never a proxy. */
  proxy?: ProxySettings | null;
  logger?: Logger;
  /** Replaces axios's HTTP transport (the sandbox plugs in here); retries and errors stay above it. */
  adapter?: AxiosAdapter;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); for the backoff jitter. */
  random?: () => number;
  /** Epoch milliseconds; for Retry-After given as an HTTP date. */
  now?: () => number;
  retry?: Partial<RetryLimits>;
  observer?: ScimObserver;
}

/** The Atlassian SCIM client; `close()` frees its keep-alive sockets. */
export interface ScimClient extends ScimDirectory {
  /** The keep-alive agents in use (not used when an adapter is given). */
  readonly agents: HttpAgents;
  close(): void;
}

/** Builds a client from the validated configuration. */
export function createScimClientFromConnection(
  connection: AtlassianConnection,
  logger: Logger,
  extra: Pick<ScimClientOptions, 'adapter' | 'sleep' | 'random' | 'now' | 'retry' | 'observer'> = {},
): ScimClient {
  return createScimClient({
    baseUrl: connection.url,
    directoryId: connection.directoryId,
    accessToken: connection.accessToken,
    timeoutMs: connection.timeoutMs,
    insecure: connection.insecure,
    proxy: connection.proxy,
    logger,
    ...extra,
  });
}

export function createScimClient(options: ScimClientOptions): ScimClient {
  return new AtlassianScimClient(options);
}

class AtlassianScimClient implements ScimClient {
  readonly agents: HttpAgents;
  readonly #host: string;
  readonly #logger: Logger;
  readonly #transport: ScimTransport;

  constructor(options: ScimClientOptions) {
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    let parsed: URL;
    try {
      parsed = new URL(baseUrl);
    } catch {
      throw new ScimRequestError(null, 'ATLASSIAN_URL is not a valid URL');
    }
    this.#host = parsed.host;
    this.#logger = options.logger ?? silentLogger;
    this.#transport = new ScimTransport({
      baseUrl,
      base: `${baseUrl}/scim/directory/${encodeURIComponent(options.directoryId)}`,
      host: parsed.host,
      token: options.accessToken,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      logger: this.#logger,
      observer: options.observer,
      sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      random: options.random ?? Math.random,
      now: options.now ?? Date.now,
      adapter: options.adapter,
      insecure: options.insecure ?? false,
      proxy: options.proxy ?? null,
    });
    this.agents = this.#transport.agents;
  }

  close(): void {
    this.#transport.close();
  }

  async getUserById(id: string): Promise<ScimUser | null> {
    assertUserId(id);
    const reply = await this.#transport.execute({
      method: 'GET',
      path: `/Users/${encodeURIComponent(id)}`,
      scope: 'user',
      passStatuses: [404],
    });
    if (reply.status === 404) return null;
    return this.#userFrom(reply);
  }

  async findUsers(attribute: LookupAttribute, value: string): Promise<ScimUser[]> {
    const reply = await this.#transport.execute({
      method: 'GET',
      path: '/Users',
      query: `filter=${encodeURIComponent(equalityFilter(attribute, value))}`,
      scope: 'directory',
    });
    const list = this.#objectFrom(reply);
    const resources = list.Resources;
    if (resources === undefined || resources === null) return [];
    if (!Array.isArray(resources) || !resources.every(isObject)) {
      throw new ScimRequestError(
        reply.status,
        `unexpected list response from ${this.#host}: Resources is not a list of users`,
      );
    }
    return resources.map((resource) => this.#checkedUser(reply.status, resource));
  }

  async createUser(user: ScimUser): Promise<CreatedUser> {
    const { schemas, ...attributes } = user;
    const body: ScimUser = {
      schemas: schemas?.includes(USER_SCHEMA) ? schemas : [USER_SCHEMA, ...(schemas ?? [])],
      ...attributes,
    };
    const spec: RequestSpec = {
      method: 'POST',
      path: '/Users',
      body,
      scope: 'directory',
      passStatuses: [409],
    };
    const reply = await this.#transport.execute(spec);
    if (reply.status !== 409) return { user: this.#userFrom(reply), recovered: false };

    const conflict = this.#transport.httpError(spec, reply);
    // A 409 on the first attempt, or after attempts that surely did not land, is a real conflict.
    if (!reply.mayHaveReached || typeof user.userName !== 'string' || user.userName === '') throw conflict;
    this.#logger.warn('SCIM create met 409 after a failed attempt; looking the user up', { path: spec.path });
    const wanted = user.userName.toLowerCase();
    const found = (await this.findUsers('userName', user.userName)).filter(
      (candidate) => typeof candidate.userName !== 'string' || candidate.userName.toLowerCase() === wanted,
    );
    if (found.length !== 1) throw conflict;
    return { user: found[0], recovered: true };
  }

  async patchUser(id: string, operations: PatchOperation[]): Promise<ScimUser> {
    assertUserId(id);
    const reply = await this.#transport.execute({
      method: 'PATCH',
      path: `/Users/${encodeURIComponent(id)}`,
      body: { schemas: [PATCH_SCHEMA], Operations: operations },
      scope: 'user',
    });
    if (reply.data === undefined) {
      // Atlassian answers 200 with the user; an empty answer (204) needs one more read.
      const user = await this.getUserById(id);
      if (user === null) throw new ScimRequestError(404, 'user not found (HTTP 404)');
      return user;
    }
    return this.#userFrom(reply);
  }

  async getUserSchema(): Promise<unknown> {
    const reply = await this.#transport.execute({
      method: 'GET',
      path: `/Schemas/${USER_SCHEMA}`,
      scope: 'directory',
    });
    return this.#objectFrom(reply);
  }

  async testConnection(): Promise<void> {
    await this.#transport.execute({ method: 'GET', path: '/Users', query: 'count=1', scope: 'directory' });
  }

  // Groups: the same transport (retries, errors, redaction) as users; answers checked by ./groups.

  async findGroupsByName(displayName: string): Promise<ScimGroup[]> {
    const reply = await this.#transport.execute({
      method: 'GET',
      path: '/Groups',
      query: `filter=${encodeURIComponent(groupNameFilter(displayName))}`,
      scope: 'directory',
    });
    return this.#groupListFrom(reply);
  }

  async listGroups(startIndex: number, count: number): Promise<GroupPage> {
    const reply = await this.#transport.execute({
      method: 'GET',
      path: '/Groups',
      query: `startIndex=${Math.max(1, Math.floor(startIndex))}&count=${Math.max(0, Math.floor(count))}`,
      scope: 'directory',
    });
    const groups = this.#groupListFrom(reply);
    const total = this.#objectFrom(reply).totalResults;
    return { groups, totalResults: typeof total === 'number' ? total : groups.length };
  }

  async getGroupById(id: string): Promise<ScimGroup | null> {
    const reply = await this.#transport.execute({
      method: 'GET',
      path: `/Groups/${encodeURIComponent(checkResourceId('group', id))}`,
      scope: 'user',
      passStatuses: [404],
    });
    return reply.status === 404 ? null : this.#groupFrom(reply);
  }

  async createGroup(displayName: string): Promise<ScimGroup> {
    const reply = await this.#transport.execute({
      method: 'POST',
      path: '/Groups',
      body: { schemas: [GROUP_SCHEMA], displayName },
      scope: 'directory',
      passStatuses: [409],
    });
    if (reply.status !== 409) return this.#groupFrom(reply);
    // A retried POST whose first attempt landed meets its own group: that group is the answer.
    const found = reply.mayHaveReached ? await this.findGroupsByName(displayName) : [];
    if (found.length === 1) return found[0];
    throw new ScimRequestError(409, `a group named ${JSON.stringify(displayName)} already exists (HTTP 409)`);
  }

  addGroupMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    return this.#patchMembers(groupId, 'add', userIds);
  }

  removeGroupMembers(groupId: string, userIds: readonly string[]): Promise<void> {
    return this.#patchMembers(groupId, 'remove', userIds);
  }

  async #patchMembers(groupId: string, op: 'add' | 'remove', userIds: readonly string[]): Promise<void> {
    const path = `/Groups/${encodeURIComponent(checkResourceId('group', groupId))}`;
    for (const id of userIds) checkResourceId('user', id);
    const reply = await this.#transport.execute({
      method: 'PATCH',
      path,
      body: memberPatchBody(op, userIds),
      scope: 'user',
      passStatuses: [404],
    });
    if (reply.status === 404) {
      const said = serverMessage(reply.data);
      throw new ScimRequestError(
        404,
        this.#transport.clean(
          `the group or the user does not exist (HTTP 404)${said === null ? '' : `: ${said}`}`,
        ),
      );
    }
    // Atlassian answers 200 with the group; an empty answer (204) is a success too.
    if (reply.data !== undefined) this.#groupFrom(reply);
  }

  #objectFrom(reply: Reply): Record<string, unknown> {
    if (!isObject(reply.data)) {
      throw new ScimRequestError(
        reply.status,
        `unexpected response (HTTP ${reply.status}) from ${this.#host}: expected a JSON object`,
      );
    }
    return reply.data;
  }

  #groupFrom(reply: Reply): ScimGroup {
    const group = asGroup(reply.data);
    if (group === null) {
      throw new ScimRequestError(
        reply.status,
        `unexpected response (HTTP ${reply.status}) from ${this.#host}: expected a Group with a string id`,
      );
    }
    return group;
  }

  #groupListFrom(reply: Reply): ScimGroup[] {
    const resources = this.#objectFrom(reply).Resources;
    if (resources === undefined || resources === null) return [];
    const groups = Array.isArray(resources) ? resources.map(asGroup) : [null];
    if (groups.some((group) => group === null)) {
      throw new ScimRequestError(
        reply.status,
        `unexpected list response from ${this.#host}: Resources is not a list of groups`,
      );
    }
    return groups as ScimGroup[];
  }

  /** The answer as a User resource; anything else (a list, `{}`, no string id) is a failure, never a user. */
  #userFrom(reply: Reply): ScimUser {
    return this.#checkedUser(reply.status, this.#objectFrom(reply));
  }

  #checkedUser(status: number, data: Record<string, unknown>): ScimUser {
    const problem = notAUserProblem(data, LIST_SCHEMA);
    if (problem) {
      throw new ScimRequestError(
        status,
        `unexpected response (HTTP ${status}) from ${this.#host}: ${problem}, not a User resource`,
      );
    }
    return data as ScimUser;
  }
}
