import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  App,
  LogLevel as BoltLogLevel,
  type Logger as BoltLogger,
  HTTPReceiver,
  type CustomRoute,
  type Receiver,
} from '@slack/bolt';
import { type Config, requireSlackSettings } from './config';
import { oneCallPerTurn } from './request-turns';
import {
  AccessPolicy,
  type BotContext,
  expireDue,
  FollowUps,
  InFlight,
  recoverApproved,
  registerListeners,
  webPeopleDirectory,
} from './handlers';
import { type ConnectionStatus, testModule } from './iam';
import type { Logger, LogLevel } from './log';
import { openStore } from './store';
import type { Store } from './store/types';
import { createRuntime, type Runtime } from './wiring';

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

/** Slack's replay window: a request more than this far from our clock, either way, is refused. */
const SIGNATURE_WINDOW_S = 5 * 60;

/**
 * HTTP mode: Bolt's receiver at POST /slack/events (it verifies the signature and refuses stale
 * timestamps) plus /healthz. Bolt accepts timestamps from the future; Slack's rule is "within five
 * minutes of local time" either way, so those get 401 here before Bolt sees them.
 */
function httpReceiver(signingSecret: string, healthz: CustomRoute, logger: BoltLogger): HTTPReceiver {
  const receiver = new HTTPReceiver({
    signingSecret,
    endpoints: '/slack/events',
    customRoutes: [healthz],
    logger,
  });
  // One Slack request per event-loop turn: see oneCallPerTurn.
  const verified = oneCallPerTurn(receiver.requestListener);
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    const stamp = Number(req.headers['x-slack-request-timestamp']);
    if (Number.isFinite(stamp) && stamp > Date.now() / 1000 + SIGNATURE_WINDOW_S) {
      res.writeHead(401);
      res.end();
      return;
    }
    verified(req, res);
  };
  return receiver;
}

export interface BotOptions {
  config: Config;
  logger: Logger;
  clock?: () => Date;
  newId?: () => string;
  /** How often pending requests are checked for expiry. */
  expirySweepMs?: number;
  /** Tests: a receiver that drives app.processEvent itself (Bolt's own testing pattern). */
  receiver?: Receiver;
}

export interface Bot {
  app: App;
  context: BotContext;
  mode: 'socket' | 'http';
  start(): Promise<void>;
  /** Stops taking requests, finishes the operations in flight, closes the store. */
  stop(): Promise<void>;
}

/** Caches test-module for the App Home, so opening the tab does not hammer Atlassian. */
function cachedConnectionStatus(check: () => Promise<ConnectionStatus>, ttlMs: number, now: () => number) {
  let cached: { value: Promise<ConnectionStatus>; until: number } | null = null;
  return () => {
    if (!cached || cached.until <= now()) cached = { value: check(), until: now() + ttlMs };
    return cached.value;
  };
}

/**
 * Builds the bot: checks the Slack settings, opens the directory and the store (a PostgreSQL store is
 * connected and migrated here, so a bad DATABASE_URL stops the start), and registers the listeners.
 * Nothing is left open when it fails. start() then listens.
 */
export async function createBot(options: BotOptions): Promise<Bot> {
  const { config, logger } = options;
  const slack = requireSlackSettings(config, { customReceiver: options.receiver !== undefined });
  const runtime = createRuntime(config, logger);
  let store: Store;
  try {
    store = await openStore(config.database, {
      onBackgroundError: (error) => logger.warn('a database connection failed; it is replaced', { error }),
    });
  } catch (error) {
    runtime.close();
    throw error;
  }
  try {
    return assemble(options, slack, runtime, store);
  } catch (error) {
    runtime.close();
    await store.close();
    throw error;
  }
}

function assemble(
  options: BotOptions,
  slack: ReturnType<typeof requireSlackSettings>,
  runtime: Runtime,
  store: Store,
): Bot {
  const { config, logger } = options;
  const socketMode = slack.appToken !== null;
  const clock = options.clock ?? (() => new Date());

  const healthz: CustomRoute = {
    path: '/healthz',
    method: ['GET'],
    handler: (_req: unknown, res: ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ ok: true, sandbox: runtime.sandbox, mode: 'http' }));
    },
  };
  const common = {
    token: slack.botToken,
    clientOptions: { slackApiUrl: slack.apiUrl },
    logger: boltLogger(logger, config.logLevel),
    logLevel: BOLT_LEVELS[config.logLevel],
  };
  const app = options.receiver
    ? new App({ ...common, receiver: options.receiver, tokenVerificationEnabled: false })
    : socketMode
      ? new App({
          ...common,
          socketMode: true,
          appToken: slack.appToken ?? undefined,
          // Socket Mode opens its connection through its own Web API client: give it the same base URL.
          installerOptions: { clientOptions: { slackApiUrl: slack.apiUrl } },
        })
      : new App({ ...common, receiver: httpReceiver(slack.signingSecret ?? '', healthz, common.logger) });

  const context: BotContext = {
    iam: runtime.context,
    sandbox: runtime.sandbox,
    store,
    access: new AccessPolicy(webPeopleDirectory(app.client), slack.operators, slack.approvers, () =>
      clock().getTime(),
    ),
    inFlight: new InFlight(),
    followUps: new FollowUps(),
    logger,
    clock,
    newId: options.newId ?? randomUUID,
    approvalTtlMs: slack.approvalTtlMs,
    connectionStatus: cachedConnectionStatus(() => testModule(runtime.context.directory), 60_000, Date.now),
  };
  registerListeners(app, context);
  app.error(async (error) => {
    logger.error('listener failed', { error: error.message });
  });

  let sweep: NodeJS.Timeout | null = null;
  // Expiry, and approved disables whose holder's lease ran out (a crashed peer's), picked up by any instance.
  const sweepOnce = () =>
    context.inFlight
      .run(async () => {
        await expireDue(context, app.client);
        await recoverApproved(context, app.client);
      })
      .catch((error: Error) => {
        logger.warn('expiry sweep failed', { error: error.message });
      });

  return {
    app,
    context,
    mode: socketMode ? 'socket' : 'http',
    async start() {
      if (options.receiver || socketMode) await app.start();
      else await app.start(slack.port);
      const recovered = await recoverApproved(context, app.client);
      if (recovered > 0)
        logger.info('carried out approved disables interrupted by a restart', { count: recovered });
      await sweepOnce();
      sweep = setInterval(sweepOnce, options.expirySweepMs ?? 60_000);
      sweep.unref();
      logger.info('Atlassian IAM bot started', {
        mode: options.receiver ? 'custom receiver' : socketMode ? 'socket' : 'http',
        port: socketMode || options.receiver ? null : slack.port,
        directory: runtime.sandbox ? 'SANDBOX' : 'atlassian',
      });
    },
    async stop() {
      if (sweep) clearInterval(sweep);
      await app.stop();
      await context.inFlight.drain();
      runtime.close();
      await store.close();
    },
  };
}
