import axios, { type AxiosAdapter, type AxiosInstance, type AxiosResponse } from 'axios';
import type { AtlassianConnection, ProxySettings } from '../config';
import { redact, silentLogger, type Logger } from '../log';
import { ScimRateLimitedError, ScimRequestError } from './errors';
import { equalityFilter } from './filter';
import { asGroup, checkResourceId, groupNameFilter, memberPatchBody } from './groups';
import { chooseProxy, createAgents, type HttpAgents, type ProxyChoice } from './http-agent';
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

export interface RetryLimits {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Backoff cap of the first retry; doubles each retry (full jitter: the wait is random below the cap). */
  baseDelayMs: number;
  /** Largest backoff cap. */
  maxDelayMs: number;
  /** Sum of all waits between attempts; a wait that would pass it ends the retries. */
  maxTotalWaitMs: number;
}

export const DEFAULT_RETRY: RetryLimits = {
  maxAttempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8000,
  maxTotalWaitMs: 30_000,
};

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

type Method = 'GET' | 'POST' | 'PATCH';

/** What one request is about: `directory` calls read a 404 as an unknown directory. */
interface RequestSpec {
  method: Method;
  /** Below the directory base, already encoded, e.g. `/Users/abc`. */
  path: string;
  /** Already encoded, without `?`. */
  query?: string;
  body?: unknown;
  scope: 'directory' | 'user';
  /** Statuses handed back to the caller instead of thrown. */
  passStatuses?: readonly number[];
}

interface Reply {
  status: number;
  data: unknown;
  nonJson: boolean;
  /** An earlier attempt failed in a way that may have reached the server (timeout, reset, 5xx). */
  mayHaveReached: boolean;
}

type AttemptOutcome =
  | { kind: 'response'; status: number; headers: Record<string, string>; data: unknown; nonJson: boolean }
  | { kind: 'failure'; code: string; timedOut: boolean; detail: string | null };

interface Verdict {
  error: ScimRequestError;
  retryable: boolean;
  mayHaveReached: boolean;
  retryAfterMs: number | null;
}

const RETRYABLE_STATUSES = new Set([429, 500, 502, 503, 504]);

/** Why a failed attempt is retried, as the metrics count it. */
function retryReason(outcome: AttemptOutcome): '429' | '5xx' | 'network' | 'timeout' {
  if (outcome.kind === 'response') return outcome.status === 429 ? '429' : '5xx';
  return outcome.timedOut ? 'timeout' : 'network';
}

/** Network failures worth another try. */
export const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);

/**
 * A failure that may pass if the same request is sent later: 429, a 5xx the client retries, a timeout
 * or a network failure worth another try. Anything else (400, 404, 409, TLS, DNS…) will fail again.
 */
export function isTransientFailure(error: ScimRequestError): boolean {
  if (error.status !== null) return RETRYABLE_STATUSES.has(error.status);
  return error.code !== null && RETRYABLE_CODES.has(error.code);
}

/** Failures that happen before a request could reach Atlassian, so a POST surely did not land. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
  'INVALID_CA',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

const MAX_MESSAGE_LENGTH = 500;
const MAX_RESPONSE_BYTES = 20 * 1024 * 1024;

export function isTlsErrorCode(code: string): boolean {
  return TLS_CODES.has(code) || /CERT|SELF_SIGNED/.test(code);
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
  readonly #token: string;
  readonly #base: string;
  readonly #host: string;
  readonly #timeoutMs: number;
  readonly #retry: RetryLimits;
  readonly #logger: Logger;
  readonly #observer: ScimObserver | undefined;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #proxy: ProxyChoice;
  readonly #http: AxiosInstance;
  readonly #adapter: AxiosAdapter | undefined;

  constructor(options: ScimClientOptions) {
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    let parsed: URL;
    try {
      parsed = new URL(baseUrl);
    } catch {
      throw new ScimRequestError(null, 'ATLASSIAN_URL is not a valid URL');
    }
    this.#token = options.accessToken;
    this.#base = `${baseUrl}/scim/directory/${encodeURIComponent(options.directoryId)}`;
    this.#host = parsed.host;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#logger = options.logger ?? silentLogger;
    this.#observer = options.observer;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
    this.#adapter = options.adapter;
    const insecure = options.insecure ?? false;
    this.agents = createAgents({ insecure });
    this.#proxy = chooseProxy(baseUrl, options.proxy ?? null);
    // What every request shares is set once here: merging it into each request's config costs CPU.
    this.#http = axios.create({
      responseType: 'text',
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxRedirects: 0,
      maxContentLength: MAX_RESPONSE_BYTES,
      proxy: this.#proxy.proxy,
      httpAgent: this.agents.httpAgent,
      httpsAgent: this.agents.httpsAgent,
      ...(this.#adapter === undefined ? {} : { adapter: this.#adapter }),
    });
    if (insecure) {
      this.#logger.warn('ATLASSIAN_INSECURE is true: TLS certificates of Atlassian are not verified', {
        host: this.#host,
      });
    }
    this.#logger.debug('SCIM client ready', {
      host: this.#host,
      proxy: this.#proxy.via ?? 'none',
      timeoutMs: this.#timeoutMs,
    });
  }

  close(): void {
    this.agents.httpAgent.destroy();
    this.agents.httpsAgent.destroy();
  }

  async getUserById(id: string): Promise<ScimUser | null> {
    assertUserId(id);
    const reply = await this.#execute({
      method: 'GET',
      path: `/Users/${encodeURIComponent(id)}`,
      scope: 'user',
      passStatuses: [404],
    });
    if (reply.status === 404) return null;
    return this.#userFrom(reply);
  }

  async findUsers(attribute: LookupAttribute, value: string): Promise<ScimUser[]> {
    const reply = await this.#execute({
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
    const reply = await this.#execute(spec);
    if (reply.status !== 409) return { user: this.#userFrom(reply), recovered: false };

    const conflict = this.#httpError(spec, reply.status, reply.data, reply.nonJson);
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
    const reply = await this.#execute({
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
    const reply = await this.#execute({
      method: 'GET',
      path: `/Schemas/${USER_SCHEMA}`,
      scope: 'directory',
    });
    return this.#objectFrom(reply);
  }

  async testConnection(): Promise<void> {
    await this.#execute({ method: 'GET', path: '/Users', query: 'count=1', scope: 'directory' });
  }

  // Groups: the same #execute (retries, errors, redaction) as users; answers checked by ./groups.

  async findGroupsByName(displayName: string): Promise<ScimGroup[]> {
    const reply = await this.#execute({
      method: 'GET',
      path: '/Groups',
      query: `filter=${encodeURIComponent(groupNameFilter(displayName))}`,
      scope: 'directory',
    });
    return this.#groupListFrom(reply);
  }

  async listGroups(startIndex: number, count: number): Promise<GroupPage> {
    const reply = await this.#execute({
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
    const reply = await this.#execute({
      method: 'GET',
      path: `/Groups/${encodeURIComponent(checkResourceId('group', id))}`,
      scope: 'user',
      passStatuses: [404],
    });
    return reply.status === 404 ? null : this.#groupFrom(reply);
  }

  async createGroup(displayName: string): Promise<ScimGroup> {
    const reply = await this.#execute({
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
    const reply = await this.#execute({
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
        this.#clean(`the group or the user does not exist (HTTP 404)${said === null ? '' : `: ${said}`}`),
      );
    }
    // Atlassian answers 200 with the group; an empty answer (204) is a success too.
    if (reply.data !== undefined) this.#groupFrom(reply);
  }

  // ---------------------------------------------------------------------------------------------

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

  /** Sends with retries; returns a 2xx answer or one of `passStatuses`, else throws ScimRequestError. */
  async #execute(spec: RequestSpec): Promise<Reply> {
    const limits = this.#retry;
    const maxAttempts = Math.max(1, Math.floor(limits.maxAttempts));
    let waitedMs = 0;
    let mayHaveReached = false;
    for (let attempt = 1; ; attempt++) {
      const started = performance.now();
      const outcome = await this.#attempt(spec);
      const ms = Math.round(performance.now() - started);
      this.#observer?.attempt(
        spec.method,
        outcome.kind === 'response' ? outcome.status : 'network',
        ms / 1000,
      );
      this.#logger.debug('SCIM request', {
        method: spec.method,
        path: spec.path,
        status: outcome.kind === 'response' ? outcome.status : null,
        ...(outcome.kind === 'failure' ? { error: outcome.code } : {}),
        attempt,
        ms,
      });

      if (outcome.kind === 'response') {
        const ok = outcome.status >= 200 && outcome.status < 300;
        const passed = spec.passStatuses?.includes(outcome.status) ?? false;
        if ((ok || passed) && !outcome.nonJson) {
          return { status: outcome.status, data: outcome.data, nonJson: outcome.nonJson, mayHaveReached };
        }
      }

      const verdict = this.#judge(spec, outcome);
      const reached = mayHaveReached || verdict.mayHaveReached;
      if (!verdict.retryable) throw uncertain(spec, verdict.error, reached);
      if (attempt >= maxAttempts) {
        throw uncertain(spec, withSuffix(verdict.error, `(gave up after ${attempt} attempts)`), reached);
      }
      const wait =
        verdict.retryAfterMs ??
        Math.floor(this.#random() * Math.min(limits.maxDelayMs, limits.baseDelayMs * 2 ** (attempt - 1)));
      if (waitedMs + wait > limits.maxTotalWaitMs) {
        if (verdict.retryAfterMs !== null) {
          throw uncertain(
            spec,
            withSuffix(
              verdict.error,
              `; Atlassian asked to wait ${seconds(wait)} s before retrying, more than the ${seconds(
                Math.max(0, limits.maxTotalWaitMs - waitedMs),
              )} s left of the retry budget: try again later`,
              '',
            ),
            reached,
          );
        }
        throw uncertain(
          spec,
          withSuffix(
            verdict.error,
            `(gave up after ${attempt} attempts: the ${seconds(limits.maxTotalWaitMs)} s retry budget is spent)`,
          ),
          reached,
        );
      }
      mayHaveReached ||= verdict.mayHaveReached;
      this.#observer?.retry(retryReason(outcome));
      this.#logger.warn('SCIM request failed; retrying', {
        method: spec.method,
        path: spec.path,
        attempt,
        status: verdict.error.status,
        ...(outcome.kind === 'failure' ? { error: outcome.code } : {}),
        waitMs: wait,
      });
      await this.#sleep(wait);
      waitedMs += wait;
    }
  }

  /** Turns a failed attempt into the error to throw and whether to try again. */
  #judge(spec: RequestSpec, outcome: AttemptOutcome): Verdict {
    if (outcome.kind === 'response') {
      const { status } = outcome;
      const retryable = RETRYABLE_STATUSES.has(status);
      const error = this.#httpError(spec, status, outcome.data, outcome.nonJson);
      const retryAfterMs = retryable ? parseRetryAfter(outcome.headers['retry-after'], this.#now()) : null;
      return {
        error: status === 429 ? new ScimRateLimitedError(error.message, retryAfterMs) : error,
        retryable,
        // A 2xx whose body cannot be read, or a 5xx, may come after Atlassian acted on the request.
        mayHaveReached: status >= 500 || (status >= 200 && status < 300),
        retryAfterMs,
      };
    }
    const { code } = outcome;
    if (outcome.timedOut) {
      return {
        error: new ScimRequestError(
          null,
          `Atlassian did not answer within ${this.#timeoutMs} ms`,
          'ETIMEDOUT',
        ),
        retryable: true,
        mayHaveReached: true,
        retryAfterMs: null,
      };
    }
    if (isTlsErrorCode(code)) {
      return {
        error: new ScimRequestError(
          null,
          `TLS certificate of ${this.#host} is not trusted (${code}); fix the certificate or set ATLASSIAN_INSECURE=true`,
          code,
        ),
        retryable: false,
        mayHaveReached: false,
        retryAfterMs: null,
      };
    }
    if (code === 'PROXY_SETTING') {
      return {
        error: new ScimRequestError(null, outcome.detail ?? 'the proxy setting cannot be used'),
        retryable: false,
        mayHaveReached: false,
        retryAfterMs: null,
      };
    }
    // System errors (ECONNRESET, ENOTFOUND, …) name the problem; others get their short message.
    const message = /^E[A-Z0-9_]+$/.test(code)
      ? `cannot reach ${this.#host}: ${code}`
      : `request to ${this.#host} failed: ${outcome.detail ?? code}`;
    return {
      error: new ScimRequestError(null, this.#clean(message), code),
      retryable: RETRYABLE_CODES.has(code),
      mayHaveReached: !NOT_SENT_CODES.has(code),
      retryAfterMs: null,
    };
  }

  /** The error for an HTTP answer: Atlassian's own words when it gave some, else a sentence. */
  #httpError(spec: RequestSpec, status: number, data: unknown, nonJson: boolean): ScimRequestError {
    if (nonJson) {
      return new ScimRequestError(
        status,
        `unexpected non-JSON response (HTTP ${status}) from ${this.#host}; check ATLASSIAN_URL and any proxy in between`,
      );
    }
    const said = serverMessage(data);
    return new ScimRequestError(status, this.#clean(said ?? defaultMessage(status, spec.scope)));
  }

  /** Redacts the token (a server could echo it back) and bounds the length. */
  #clean(message: string): string {
    const text = redact(message, [this.#token]);
    return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text;
  }

  /** One HTTP exchange, bounded by the timeout; never throws. */
  async #attempt(spec: RequestSpec): Promise<AttemptOutcome> {
    if (this.#proxy.problem !== null && this.#adapter === undefined) {
      return { kind: 'failure', code: 'PROXY_SETTING', timedOut: false, detail: this.#proxy.problem };
    }
    const url = `${this.#base}${spec.path}${spec.query === undefined ? '' : `?${spec.query}`}`;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.#token}`,
      Accept: 'application/scim+json, application/json',
    };
    if (spec.body !== undefined) headers['Content-Type'] = 'application/scim+json';

    const controller = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
        reject(new Error('timeout'));
      }, this.#timeoutMs);
    });
    try {
      const response = await Promise.race([
        this.#http.request<unknown>({
          url,
          method: spec.method,
          headers,
          data: spec.body === undefined ? undefined : JSON.stringify(spec.body),
          signal: controller.signal,
        }),
        deadline,
      ]);
      return responseOutcome(response);
    } catch (error: unknown) {
      if (timedOut) return { kind: 'failure', code: 'ETIMEDOUT', timedOut: true, detail: null };
      // An adapter that rejects non-2xx answers still hands over the response.
      if (axios.isAxiosError(error) && error.response !== undefined) return responseOutcome(error.response);
      return failureOutcome(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

function responseOutcome(response: AxiosResponse<unknown>): AttemptOutcome {
  const headers: Record<string, string> = {};
  const raw: unknown = response.headers;
  if (isObject(raw)) {
    for (const [name, value] of Object.entries(raw)) {
      if (typeof value === 'string' || typeof value === 'number') headers[name.toLowerCase()] = String(value);
    }
  }
  const { data, nonJson } = parseBody(response.data);
  return { kind: 'response', status: response.status, headers, data, nonJson };
}

/** Reads only the error code and message (never the request config, which holds the token). */
function failureOutcome(error: unknown): AttemptOutcome {
  let code: string | null = null;
  let detail: string | null = null;
  let current: unknown = error;
  for (let depth = 0; depth < 4 && isObject(current); depth++) {
    if (detail === null && typeof current.message === 'string' && current.message.trim() !== '') {
      detail = current.message.trim();
    }
    const candidate = current.code;
    if (typeof candidate === 'string' && candidate !== '' && candidate !== 'ERR_CANCELED') {
      code = candidate;
      break;
    }
    current = current.cause;
  }
  if (code === null && detail !== null && /socket hang up/i.test(detail)) code = 'ECONNRESET';
  const timedOut = code === 'ECONNABORTED' || code === 'ESOCKETTIMEDOUT';
  return { kind: 'failure', code: code ?? 'UNKNOWN', timedOut, detail };
}

function parseBody(data: unknown): { data: unknown; nonJson: boolean } {
  let text: string;
  if (data === undefined || data === null) return { data: undefined, nonJson: false };
  if (typeof data === 'string') text = data;
  else if (Buffer.isBuffer(data)) text = data.toString('utf8');
  else if (data instanceof ArrayBuffer) text = Buffer.from(data).toString('utf8');
  else return { data, nonJson: false };
  if (text.trim() === '') return { data: undefined, nonJson: false };
  try {
    return { data: JSON.parse(text) as unknown, nonJson: false };
  } catch {
    return { data: undefined, nonJson: true };
  }
}

/** `detail` of a ScimError, else `error` of a Failure, else a `message`; ignores empty and "None". */
function serverMessage(data: unknown): string | null {
  if (!isObject(data)) return null;
  for (const key of ['detail', 'error', 'message']) {
    const value = data[key];
    if (typeof value !== 'string') continue;
    const text = value.trim();
    if (text !== '' && !['none', 'null', 'undefined'].includes(text.toLowerCase())) return text;
  }
  return null;
}

function defaultMessage(status: number, scope: RequestSpec['scope']): string {
  switch (status) {
    case 400:
      return 'Atlassian rejected the request as invalid (HTTP 400)';
    case 401:
      return 'Atlassian rejected the access token (401): check ATLASSIAN_ACCESS_TOKEN';
    case 403:
      return 'the access token is not authorized for this directory (403): check ATLASSIAN_ACCESS_TOKEN and ATLASSIAN_DIRECTORY_ID';
    case 404:
      return scope === 'directory'
        ? 'directory not found (404): check ATLASSIAN_DIRECTORY_ID'
        : 'user not found (HTTP 404)';
    case 409:
      return 'a user with this userName already exists (HTTP 409)';
    case 429:
      return 'Atlassian is rate limiting requests (HTTP 429)';
    case 500:
      return 'Atlassian had an internal error (HTTP 500)';
    case 502:
      return 'bad gateway between here and Atlassian (HTTP 502)';
    case 503:
      return 'Atlassian is unavailable (HTTP 503)';
    case 504:
      return 'gateway timeout between here and Atlassian (HTTP 504)';
    default:
      if (status >= 300 && status < 400)
        return `Atlassian answered with a redirect (HTTP ${status}): check ATLASSIAN_URL`;
      return `Atlassian answered HTTP ${status}`;
  }
}

/** Retry-After in seconds or as an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - nowMs);
}

/**
 * A write that failed after an attempt that may have reached Atlassian (timeout, reset, 5xx, an
 * unreadable 2xx) may have been carried out all the same: say so, rather than let "failed" read as
 * "nothing happened".
 */
function uncertain(spec: RequestSpec, error: ScimRequestError, reached: boolean): ScimRequestError {
  if (!reached || spec.method === 'GET') return error;
  const subject = spec.path.startsWith('/Groups') ? 'group' : 'user';
  const what =
    spec.method === 'POST' ? `the ${subject} may have been created` : 'the change may have been made';
  return withSuffix(error, `; ${what} all the same: look the ${subject} up before trying again`, '');
}

function withSuffix(error: ScimRequestError, suffix: string, separator = ' '): ScimRequestError {
  return error.withMessage(`${error.message}${separator}${suffix}`);
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
