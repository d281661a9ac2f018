/**
 * How one SCIM request travels: the HTTP exchange (bounded by the timeout, never throwing) and the
 * loop that judges each failed attempt, waits within the retry budget (./retry) and throws the error a
 * person reads (./messages). The operations on users and groups (./client) sit on top of `execute`.
 */
import axios, { type AxiosAdapter, type AxiosInstance, type AxiosResponse } from 'axios';
import type { ProxySettings } from '../config';
import type { Logger } from '../log';
import { ScimRateLimitedError, type ScimRequestError } from './errors';
import { chooseProxy, createAgents, type HttpAgents, type ProxyChoice } from './http-agent';
import {
  cleanMessage,
  failureError,
  httpError,
  isObject,
  isTlsErrorCode,
  uncertain,
  withSuffix,
} from './messages';
import {
  budgetSpent,
  NOT_SENT_CODES,
  parseRetryAfter,
  RETRYABLE_CODES,
  RETRYABLE_STATUSES,
  type RetryLimits,
  waitBefore,
} from './retry';
import type { ScimObserver } from './types';

type Method = 'GET' | 'POST' | 'PATCH';

/** What one request is about: `directory` calls read a 404 as an unknown directory. */
export interface RequestSpec {
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

export interface Reply {
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

const MAX_RESPONSE_BYTES = 20 * 1024 * 1024;

/** Why a failed attempt is retried, as the metrics count it. */
function retryReason(outcome: AttemptOutcome): '429' | '5xx' | 'network' | 'timeout' {
  if (outcome.kind === 'response') return outcome.status === 429 ? '429' : '5xx';
  return outcome.timedOut ? 'timeout' : 'network';
}

export interface TransportOptions {
  /** ATLASSIAN_URL without its trailing slash. */
  baseUrl: string;
  /** The directory's base, e.g. `https://api.atlassian.com/scim/directory/abc`. */
  base: string;
  host: string;
  token: string;
  timeoutMs: number;
  retry: RetryLimits;
  logger: Logger;
  observer: ScimObserver | undefined;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  now: () => number;
  adapter: AxiosAdapter | undefined;
  insecure: boolean;
  proxy: ProxySettings | null;
}

export class ScimTransport {
  readonly agents: HttpAgents;
  readonly #options: TransportOptions;
  readonly #proxy: ProxyChoice;
  readonly #http: AxiosInstance;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.agents = createAgents({ insecure: options.insecure });
    this.#proxy = chooseProxy(options.baseUrl, options.proxy);
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
      ...(options.adapter === undefined ? {} : { adapter: options.adapter }),
    });
    if (options.insecure) {
      options.logger.warn('ATLASSIAN_INSECURE is true: TLS certificates of Atlassian are not verified', {
        host: options.host,
      });
    }
    options.logger.debug('SCIM client ready', {
      host: options.host,
      proxy: this.#proxy.via ?? 'none',
      timeoutMs: options.timeoutMs,
    });
  }

  close(): void {
    this.agents.httpAgent.destroy();
    this.agents.httpsAgent.destroy();
  }

  /** Redacts the token (a server could echo it back) and bounds the length. */
  clean(message: string): string {
    return cleanMessage(message, this.#options.token);
  }

  /** The error for an HTTP answer: Atlassian's own words when it gave some, else a sentence. */
  httpError(spec: RequestSpec, reply: Pick<Reply, 'status' | 'data' | 'nonJson'>): ScimRequestError {
    return httpError(reply, spec.scope, this.#options);
  }

  /** Sends with retries; returns a 2xx answer or one of `passStatuses`, else throws ScimRequestError. */
  async execute(spec: RequestSpec): Promise<Reply> {
    const { retry: limits, random, sleep } = this.#options;
    const maxAttempts = Math.max(1, Math.floor(limits.maxAttempts));
    let waitedMs = 0;
    let mayHaveReached = false;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#observedAttempt(spec, attempt);
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
      const wait = waitBefore(limits, attempt, verdict.retryAfterMs, random);
      const spent = budgetSpent(verdict.error, limits, attempt, waitedMs, wait, verdict.retryAfterMs);
      if (spent !== null) throw uncertain(spec, spent, reached);
      mayHaveReached ||= verdict.mayHaveReached;
      this.#options.observer?.retry(retryReason(outcome));
      this.#options.logger.warn('SCIM request failed; retrying', {
        method: spec.method,
        path: spec.path,
        attempt,
        status: verdict.error.status,
        ...(outcome.kind === 'failure' ? { error: outcome.code } : {}),
        waitMs: wait,
      });
      await sleep(wait);
      waitedMs += wait;
    }
  }

  /** One attempt, timed for the metrics and the debug log. */
  async #observedAttempt(spec: RequestSpec, attempt: number): Promise<AttemptOutcome> {
    const started = performance.now();
    const outcome = await this.#attempt(spec);
    const ms = Math.round(performance.now() - started);
    this.#options.observer?.attempt(
      spec.method,
      outcome.kind === 'response' ? outcome.status : 'network',
      ms / 1000,
    );
    this.#options.logger.debug('SCIM request', {
      method: spec.method,
      path: spec.path,
      status: outcome.kind === 'response' ? outcome.status : null,
      ...(outcome.kind === 'failure' ? { error: outcome.code } : {}),
      attempt,
      ms,
    });
    return outcome;
  }

  /** Turns a failed attempt into the error to throw and whether to try again. */
  #judge(spec: RequestSpec, outcome: AttemptOutcome): Verdict {
    if (outcome.kind === 'response') {
      const { status } = outcome;
      const retryable = RETRYABLE_STATUSES.has(status);
      const error = this.httpError(spec, outcome);
      const retryAfterMs = retryable
        ? parseRetryAfter(outcome.headers['retry-after'], this.#options.now())
        : null;
      return {
        error: status === 429 ? new ScimRateLimitedError(error.message, retryAfterMs) : error,
        retryable,
        // A 2xx whose body cannot be read, or a 5xx, may come after Atlassian acted on the request.
        mayHaveReached: status >= 500 || (status >= 200 && status < 300),
        retryAfterMs,
      };
    }
    const error = failureError(outcome, this.#options);
    if (outcome.timedOut) return { error, retryable: true, mayHaveReached: true, retryAfterMs: null };
    const { code } = outcome;
    // A certificate or proxy setting that is refused will be refused again, and nothing was sent.
    const refused = isTlsErrorCode(code) || code === 'PROXY_SETTING';
    return {
      error,
      retryable: !refused && RETRYABLE_CODES.has(code),
      mayHaveReached: !refused && !NOT_SENT_CODES.has(code),
      retryAfterMs: null,
    };
  }

  /** One HTTP exchange, bounded by the timeout; never throws. */
  async #attempt(spec: RequestSpec): Promise<AttemptOutcome> {
    const { base, token, timeoutMs, adapter } = this.#options;
    if (this.#proxy.problem !== null && adapter === undefined) {
      return { kind: 'failure', code: 'PROXY_SETTING', timedOut: false, detail: this.#proxy.problem };
    }
    const url = `${base}${spec.path}${spec.query === undefined ? '' : `?${spec.query}`}`;
    const headers: Record<string, string> = {
      Authorization: `Bearer ${token}`,
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
      }, timeoutMs);
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
