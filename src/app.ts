import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  App,
  LogLevel as BoltLogLevel,
  type Logger as BoltLogger,
  type Receiver,
  SocketModeReceiver,
} from '@slack/bolt';
import { type Config, requireSlackSettings } from './config';
import {
  AccessPolicy,
  announceUnannounced,
  approvedRetry,
  type ApprovedRetry,
  type BotContext,
  expireDue,
  FollowUps,
  InFlight,
  reconcileInterrupted,
  recoverApproved,
  registerListeners,
  startGrantSweep,
  GRANT_SWEEP_MS,
  sendDueFollowUps,
  startScheduleTimer,
  webPeopleDirectory,
} from './handlers';
import { listAllGroups, testModule } from './iam';
import type { Logger, LogLevel } from './log';
import { createMetrics, type Metrics } from './metrics';
import {
  guardServer,
  closeServer,
  healthRoutes,
  metricsRoute,
  type Readiness,
  type Route,
  slackHttpReceiver,
  startRouteServer,
} from './receiver';
import { defaultPolicy, loadPolicy, type Policy } from './policy';
import { type BotIdentity, checkBotToken, describeSlackFailure, StartupError } from './startup';
import { openStore } from './store';
import { type DatabaseClock, followDatabase } from './store/database-clock';
import type { Store } from './store/types';
import { createRuntime, type Runtime } from './runtime';
import { answerWithin } from './time-limit';

const BOLT_LEVELS: Record<LogLevel, BoltLogLevel> = {
  debug: BoltLogLevel.DEBUG,
  info: BoltLogLevel.INFO,
  warn: BoltLogLevel.WARN,
  error: BoltLogLevel.ERROR,
};
const BOLT_ORDER = [BoltLogLevel.DEBUG, BoltLogLevel.INFO, BoltLogLevel.WARN, BoltLogLevel.ERROR];

/**
 * Bolt (and its Web API client) log through ours, so their lines are JSON and pass the same secret
 * redaction. Messages below the level are dropped before they are formatted: the Web API client logs
 * every call at debug, which would otherwise cost CPU on every command.
 */
function boltLogger(logger: Logger, initial: LogLevel): BoltLogger {
  let level = BOLT_LEVELS[initial];
  const enabled = (wanted: BoltLogLevel) => BOLT_ORDER.indexOf(wanted) >= BOLT_ORDER.indexOf(level);
  const join = (parts: unknown[]) =>
    parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  return {
    debug: (...m) => enabled(BoltLogLevel.DEBUG) && logger.debug(join(m), { source: 'bolt' }),
    info: (...m) => enabled(BoltLogLevel.INFO) && logger.info(join(m), { source: 'bolt' }),
    warn: (...m) => enabled(BoltLogLevel.WARN) && logger.warn(join(m), { source: 'bolt' }),
    error: (...m) => logger.error(join(m), { source: 'bolt' }),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

export interface BotOptions {
  config: Config;
  logger: Logger;
  clock?: () => Date;
  newId?: () => string;
  /** How often pending requests are checked for expiry. */
  expirySweepMs?: number;
  /** How often due grant ends are swept (default GRANT_SWEEP_MS). */
  grantSweepMs?: number;
  /** Tests: a receiver that drives app.processEvent itself (Bolt's own testing pattern). */
  receiver?: Receiver;
  /** Tests: shorter waits between retries of approved work, and a faster lease heartbeat. */
  approvedRetry?: Partial<Omit<ApprovedRetry, 'deadlineMs'>>;
  /** Tests: a policy as parsed; otherwise IAM_POLICY_FILE is read at start (the built-in rules without it). */
  policy?: Policy;
}

/**
 * The Web API client's retries: a few, within about a minute, each call given up after 10 s (Bolt's
 * default, ten retries over about 30 minutes, held a SIGTERM behind a failing post). A post that still
 * fails is handled like any other failed post (the result is recorded first, the requester told).
 */
export const SLACK_CLIENT_OPTIONS = {
  timeout: 10_000,
  retryConfig: { retries: 4, factor: 2, minTimeout: 1_000, maxTimeout: 15_000, maxRetryTime: 60_000 },
} as const;

export interface Bot {
  app: App;
  context: BotContext;
  mode: 'socket' | 'http';
  /** Listens (HTTP mode: PORT; Socket Mode: connects, and serves the health routes on HEALTH_PORT if set). */
  start(): Promise<void>;
  /**
   * From its first moment /readyz answers 503; requests that arrive while in-flight work finishes get
   * "the bot is restarting" (for at most `DRAIN_LIMIT_MS`); then the listener and the store close.
   */
  stop(): Promise<void>;
}

/** How long stop() waits for work in flight before it closes anyway (the next start recovers approvals). */
export const DRAIN_LIMIT_MS = 20_000;
/** How long a closing listener waits for open connections before cutting them. */
const CONNECTION_GRACE_MS = 1_000;
/** How long the App Home's connection status and the group picker's names are kept. */
const DIRECTORY_CACHE_MS = 60_000;
/** A readiness probe that takes longer than this counts as "database not answering". */
const READY_PROBE_MS = 2_000;

/**
 * Keeps `load`'s answer for `ttlMs`, so a tab opened or a picker typed into again does not ask Atlassian
 * again (test-module for the App Home, the directory's group names). A failure is not kept: the next
 * call asks again.
 */
function cachedFor<T>(load: () => Promise<T>, ttlMs: number, now: () => number): () => Promise<T> {
  let cached: { value: Promise<T>; until: number } | null = null;
  return () => {
    if (!cached || cached.until <= now()) {
      const entry = { value: load(), until: now() + ttlMs };
      entry.value.catch(() => {
        if (cached === entry) cached = null;
      });
      cached = entry;
    }
    return cached.value;
  };
}

/**
 * Builds the bot: checks the Slack settings, opens the directory and the store (a PostgreSQL store is
 * connected and migrated here, so a bad DATABASE_URL stops the start), checks the bot token with Slack
 * (auth.test) and registers the listeners. Nothing is left open when it fails. start() then listens.
 */
export async function createBot(options: BotOptions): Promise<Bot> {
  const { config, logger } = options;
  const slack = requireSlackSettings(config, { customReceiver: options.receiver !== undefined });
  // Read before anything is opened: a policy with a problem stops the start with FILE:LINE: KEY lines.
  const policy =
    options.policy ?? (config.policyFile ? loadPolicy(config.policyFile, slack) : defaultPolicy(slack));
  let store: Store | undefined;
  const metrics = createMetrics({
    pendingApprovals: async () => (store ? (await store.listPendingApprovals()).length : 0),
    // Node's process metrics for a real bot; tests drive many bots in one process and need none.
    processMetrics: options.receiver === undefined,
  });
  const runtime = createRuntime(config, logger, metrics.scim);
  try {
    store = await openStore(config.database, {
      onBackgroundError: (error) => logger.warn('a database connection failed; it is replaced', { error }),
    });
  } catch (error) {
    runtime.close();
    throw new StartupError(
      `${(error as Error).message}; check DATABASE_URL and that the database is running and reachable`,
    );
  }
  try {
    // Tests with their own receiver talk to no Slack: Bolt then skips its token check too.
    const identity = options.receiver ? null : await checkBotToken(slack.botToken, slack.apiUrl);
    return assemble({ ...options, policy }, slack, runtime, store, identity, metrics);
  } catch (error) {
    runtime.close();
    await store.close();
    throw error;
  }
}

type SlackSettings = ReturnType<typeof requireSlackSettings>;
type BoltLog = ReturnType<typeof boltLogger>;

/** The parts a bot is made of, once assembled: what start() and stop() work on. */
interface Parts {
  options: BotOptions & { policy: Policy };
  slack: SlackSettings;
  runtime: Runtime;
  store: Store;
  app: App;
  context: BotContext;
  mode: Bot['mode'];
  socketReceiver: SocketModeReceiver | null;
  routes: Route[];
  /** Makes /readyz answer 503 from now on. */
  drain: () => void;
  /** The context's clock, following the database server's (see syncClock). */
  databaseClock: DatabaseClock;
}

function assemble(
  options: BotOptions & { policy: Policy },
  slack: SlackSettings,
  runtime: Runtime,
  store: Store,
  identity: BotIdentity | null,
  metrics: Metrics,
): Bot {
  const { config, logger } = options;
  const mode = slack.appToken !== null ? 'socket' : 'http';
  const databaseClock = followDatabase(options.clock ?? (() => new Date()), store);
  const boltLog = boltLogger(logger, config.logLevel);
  const socketReceiver = slack.appToken !== null ? socketModeReceiver(slack.appToken, slack, boltLog) : null;
  const slackConnected = socketReceiver ? followConnection(socketReceiver) : () => true;

  const { readiness, drain } = readinessOf(runtime, store, mode, slackConnected);
  const routes: Route[] = [...healthRoutes(readiness), metricsRoute(metrics)];
  const receiver =
    options.receiver ??
    socketReceiver ??
    slackHttpReceiver({
      signingSecret: slack.signingSecret ?? '',
      routes,
      logger,
      boltLogger: boltLog,
      onAnswered: metrics.slackAck,
    });
  const app = boltApp(options, slack, identity, boltLog, receiver);
  const context = botContext(options, slack, runtime, store, app, metrics, databaseClock.now);
  registerListeners(app, context);
  app.error(async (error) => {
    logger.error('listener failed', { error: error.message });
  });
  return lifecycle({
    options,
    slack,
    runtime,
    store,
    app,
    context,
    mode,
    socketReceiver,
    routes,
    drain,
    databaseClock,
  });
}

/** Bolt's app on the receiver chosen; a test's own receiver talks to no Slack, so no token check. */
function boltApp(
  options: BotOptions,
  slack: SlackSettings,
  identity: BotIdentity | null,
  boltLog: BoltLog,
  receiver: Receiver,
): App {
  return new App({
    token: slack.botToken,
    ...(identity ?? {}),
    clientOptions: { ...SLACK_CLIENT_OPTIONS, slackApiUrl: slack.apiUrl },
    logger: boltLog,
    logLevel: BOLT_LEVELS[options.config.logLevel],
    receiver,
    tokenVerificationEnabled: !options.receiver,
  });
}

/** What /readyz answers, and `drain`, which makes it answer 503 from then on (the bot is shutting down). */
function readinessOf(
  runtime: Runtime,
  store: Store,
  mode: Bot['mode'],
  slackConnected: () => boolean,
): { readiness: Readiness; drain: () => void } {
  let draining = false;
  const readiness: Readiness = {
    alive: () => ({ sandbox: runtime.sandbox, mode }),
    notReadyBecause: async () => {
      if (draining) return 'draining: the bot is shutting down';
      if (!slackConnected()) return 'slack: the Socket Mode connection is not open';
      return databaseProblem(store);
    },
  };
  const drain = () => {
    draining = true;
  };
  return { readiness, drain };
}

function socketModeReceiver(appToken: string, slack: SlackSettings, boltLog: BoltLog): SocketModeReceiver {
  return new SocketModeReceiver({
    appToken,
    logger: boltLog,
    // Socket Mode opens its connection through its own Web API client: give it the same base URL.
    installerOptions: { clientOptions: { ...SLACK_CLIENT_OPTIONS, slackApiUrl: slack.apiUrl } },
  });
}

function botContext(
  options: BotOptions & { policy: Policy },
  slack: SlackSettings,
  runtime: Runtime,
  store: Store,
  app: App,
  metrics: Metrics,
  clock: () => Date,
): BotContext {
  const { logger } = options;
  const now = () => clock().getTime();
  return {
    iam: runtime.context,
    sandbox: runtime.sandbox,
    store,
    access: new AccessPolicy(webPeopleDirectory(app.client), slack.operators, slack.approvers, now),
    inFlight: new InFlight(),
    followUps: new FollowUps(),
    logger,
    clock,
    newId: options.newId ?? randomUUID,
    policy: options.policy,
    approvedRetry: { ...approvedRetry(slack.approvedRetryDeadlineMs), ...options.approvedRetry },
    metrics,
    connectionStatus: cachedFor(() => testModule(runtime.context.directory), DIRECTORY_CACHE_MS, now),
    groupNames: cachedFor(
      async () => (await listAllGroups(runtime.context.directory)).map((group) => group.displayName),
      DIRECTORY_CACHE_MS,
      now,
    ),
  };
}

/**
 * Opens the listener. HTTP mode: Bolt's server; Socket Mode: the connection, and the health server on
 * HEALTH_PORT, if any. `opened` is told of a server as soon as it listens (stop() closes it).
 */
async function listen(parts: Parts, opened: (server: Server) => void): Promise<void> {
  const { options, slack, app, socketReceiver, routes } = parts;
  if (options.receiver) return void (await app.start());
  if (socketReceiver) {
    // Health first: /healthz answers and /readyz says "not connected" while the connection opens.
    const healthPort = slack.healthPort;
    if (healthPort !== null)
      opened(
        await listenOn('HEALTH_PORT', healthPort, () => startRouteServer(healthPort, routes, options.logger)),
      );
    await app.start().catch((error: unknown) => {
      throw new StartupError(describeSlackFailure(error, 'SLACK_APP_TOKEN', slack.apiUrl));
    });
    return;
  }
  const server = await listenOn('PORT', slack.port, () => app.start(slack.port) as Promise<Server>);
  opened(server);
  guardServer(server, 'GET, HEAD, POST');
}

/**
 * Expiry, reminders and escalations, and approved disables whose holder's lease ran out (a crashed
 * peer's), picked up by any instance.
 */
function sweepOnce({ context, app, options, databaseClock }: Parts): Promise<void> {
  return context.inFlight
    .run(async () => {
      await syncClock(databaseClock, options.logger);
      await expireDue(context, app.client);
      await sendDueFollowUps(context, app.client);
      await recoverApproved(context, app.client);
      await announceUnannounced(context, app.client);
      await reconcileInterrupted(context, app.client);
    })
    .catch((error: Error) => {
      options.logger.warn('expiry sweep failed', { error: error.message });
    });
}

/** The periodic work of a started bot: the expiry sweep, scheduled requests, the grant sweep; returns what stops it. */
function startTimers(parts: Parts): () => void {
  const { options, slack, app, context } = parts;
  const { logger } = options;
  const sweep = setInterval(() => void sweepOnce(parts), options.expirySweepMs ?? 60_000);
  sweep.unref();
  const stopSchedules = startScheduleTimer(context, app.client, { pollMs: slack.schedulePollMs, logger });
  const stopGrantSweep = startGrantSweep(context, app.client, {
    periodMs: options.grantSweepMs ?? GRANT_SWEEP_MS,
    logger,
  });
  return () => {
    clearInterval(sweep);
    stopSchedules();
    stopGrantSweep();
  };
}

function lifecycle(parts: Parts): Bot {
  const { options, slack, runtime, store, app, context, mode, socketReceiver } = parts;
  const { logger } = options;
  let stopTimers: (() => void) | null = null;
  let server: Server | null = null;
  return {
    app,
    context,
    mode,
    async start() {
      await listen(parts, (opened) => {
        server = opened;
      });
      await syncClock(parts.databaseClock, logger);
      const recovered = await recoverApproved(context, app.client);
      if (recovered > 0)
        logger.info('carried out approved disables interrupted by a restart', { count: recovered });
      await sweepOnce(parts);
      stopTimers = startTimers(parts);
      logger.info('Atlassian IAM bot started', {
        mode: options.receiver ? 'custom receiver' : mode,
        port: socketReceiver || options.receiver ? null : slack.port,
        healthPort: socketReceiver ? slack.healthPort : null,
        directory: runtime.sandbox ? 'SANDBOX' : 'atlassian',
      });
    },
    async stop() {
      parts.drain();
      stopTimers?.();
      const drained = await settlesWithin(context.inFlight.drain(), DRAIN_LIMIT_MS);
      if (!drained) {
        logger.warn('stopping without waiting longer for work in flight', {
          waitedMs: DRAIN_LIMIT_MS,
          note: 'approved disables left unfinished are carried out at the next start',
        });
      }
      // Socket Mode disconnects (also when it never connected); a server is closed only once it listens.
      if (socketReceiver || options.receiver) await app.stop();
      if (server)
        await closeServer(server, CONNECTION_GRACE_MS, socketReceiver ? undefined : () => app.stop());
      runtime.close();
      await store.close();
    },
  };
}

/** Follows a Socket Mode connection: open from Slack's hello until it drops or closes. */
function followConnection(receiver: SocketModeReceiver): () => boolean {
  let open = false;
  receiver.client.on('connected', () => (open = true));
  for (const state of ['connecting', 'reconnecting', 'disconnecting', 'disconnected']) {
    receiver.client.on(state, () => (open = false));
  }
  return () => open;
}

/** Resolves true when `work` settles within `ms`, false otherwise (the work is left running). */
function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  const settled = work.then(
    () => true,
    () => true,
  );
  return answerWithin(settled, ms, false);
}

/** The readiness probe's database check: a primary-key read that must answer within READY_PROBE_MS. */
/** Clock skew past which an instance says so at each sweep (it follows the database's clock anyway). */
const SKEW_WARNING_MS = 10_000;

/** Follows the database server's clock again (see followDatabase); a server that does not answer keeps the last offset. */
async function syncClock(clock: DatabaseClock, logger: Logger): Promise<void> {
  try {
    const offsetMs = await clock.sync();
    if (offsetMs !== null && Math.abs(offsetMs) >= SKEW_WARNING_MS) {
      logger.warn("this instance's clock is off the database server's; times follow the database", {
        offsetMs: Math.round(offsetMs),
      });
    }
  } catch (error) {
    logger.warn("could not read the database server's clock; keeping the last offset", {
      error: (error as Error).message,
    });
  }
}

async function databaseProblem(store: Store): Promise<string | null> {
  const probe = store.getApproval('readyz-probe').then(
    () => null,
    (error: Error) => `database: ${error.message}`,
  );
  const answered = await settlesWithin(probe, READY_PROBE_MS);
  return answered ? probe : `database: no answer within ${READY_PROBE_MS} ms`;
}

/** Listens, turning "port in use" and "not allowed" into the one line naming the variable. */
async function listenOn(variable: string, port: number, start: () => Promise<Server>): Promise<Server> {
  try {
    return await start();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE')
      throw new StartupError(
        `${variable}: port ${port} is already in use; stop the other process or change ${variable}`,
      );
    if (code === 'EACCES')
      throw new StartupError(
        `${variable}: port ${port} needs privileges; set ${variable} to a port above 1023`,
      );
    throw error;
  }
}
