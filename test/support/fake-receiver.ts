/**
 * Handler tests the way Bolt tests itself: a Receiver whose init(app) keeps the app and which hands
 * Slack's (already parsed) payloads to app.processEvent, capturing what the listener acks.
 *
 * Also here, because the handler test files share them: builders for the payloads Slack sends, and a
 * "world" (Slack stand-in, emulated Atlassian, a temporary database) in which bots are built with
 * createBot({ receiver, clock, newId, … }).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { App, Receiver } from '@slack/bolt';
import { type Bot, type BotOptions, createBot } from '../../src/app';
import { type Env, loadConfig } from '../../src/config';
import { createLogger } from '../../src/log';
import type { ScimServerOptions } from '../../src/sandbox';
import { startEmulatedAtlassian, type EmulatedAtlassian } from './scim-server';
import { slashCommand, tsOf } from './slack-payloads';
import { type SlackCall, startSlackStandIn, type SlackStandIn } from './slack-standin.cjs';

// ---------------------------------------------------------------------------------------------------
// The receiver

/** What a listener passed to ack(): undefined for a bare ack(), else the response body. */
export type AckResponse = unknown;

export class FakeReceiver implements Receiver {
  #app: App | null = null;
  #stopped = false;
  readonly #processing = new Set<Promise<unknown>>();
  /** Errors processEvent threw after the request had been acked (Bolt normally routes them to app.error). */
  readonly lateErrors: unknown[] = [];
  /** Called synchronously at the moment a listener acks, before the listener goes on. */
  onAck: ((response: AckResponse, body: Record<string, unknown>) => void) | null = null;

  init(app: App): void {
    this.#app = app;
  }

  async start(): Promise<void> {
    this.#stopped = false;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
  }

  /**
   * Delivers one parsed payload (slash command form fields, interactivity `payload` object, or an
   * event_callback) and resolves with what the listener acked, as soon as it acks; the listener's work
   * after the ack goes on (see `idle`). Rejects when processing ends without an ack.
   */
  send(body: Record<string, unknown>): Promise<AckResponse> {
    const app = this.#app;
    if (!app) return Promise.reject(new Error('FakeReceiver: init(app) has not been called'));
    if (this.#stopped) return Promise.reject(new Error('FakeReceiver: stopped, not taking requests'));
    return new Promise<AckResponse>((resolve, reject) => {
      let acked = false;
      const processing = app
        .processEvent({
          body,
          ack: async (response?: AckResponse) => {
            if (acked) throw new Error('FakeReceiver: ack() was called twice');
            acked = true;
            this.onAck?.(response, body);
            resolve(response);
          },
          retryNum: undefined,
          retryReason: undefined,
          customProperties: {},
        })
        .then(
          () => {
            if (!acked) reject(new Error('FakeReceiver: the request was processed without an ack'));
          },
          (error: unknown) => {
            if (acked) this.lateErrors.push(error);
            else reject(error);
          },
        );
      this.#processing.add(processing);
      void processing.finally(() => this.#processing.delete(processing));
    });
  }

  /** Resolves when every delivered payload has been processed to the end (processEvent awaits listeners). */
  async idle(): Promise<void> {
    while (this.#processing.size > 0) await Promise.allSettled([...this.#processing]);
  }
}

export { appHomeOpened, buttonClick, slashCommand, tsOf, viewSubmission } from './slack-payloads';

// ---------------------------------------------------------------------------------------------------
// A world to run bots in

/** Recognisable secrets: none of them may ever show up in Slack messages or the audit log. */
export const BOT_TOKEN = 'xoxb-test-SECRET-handlers-bot-4711';
export const SIGNING_SECRET = 'sig-SECRET-handlers-0815';
export const ATLASSIAN_TOKEN = 'atl-SECRET-handlers-token-1234';
export const DIRECTORY_ID = 'dir-handlers';
export const SECRETS = [BOT_TOKEN, SIGNING_SECRET, ATLASSIAN_TOKEN];

export const START = new Date('2026-11-29T12:00:00Z');

export interface DrivenBot {
  bot: Bot;
  receiver: FakeReceiver;
  /** The bot's log lines (JSON). */
  logs: string[];
  /** bot.stop(), once: later calls return the same promise. */
  stop(): Promise<void>;
}

export interface WorldOptions {
  /** false: no Atlassian settings, the bot uses its embedded sandbox directory. */
  atlassian?: boolean;
  /** Emulated Atlassian answers each request after this long. */
  latencyMs?: number;
  /** Canned answers instead of the emulated Atlassian's (undefined: its own answer). */
  intercept?: ScimServerOptions['intercept'];
}

export interface BotStartOptions {
  /** Extra environment for loadConfig (IAM_OPERATORS, IAM_APPROVERS, …). */
  env?: Env;
  expirySweepMs?: number;
  /** The grant sweep's period (default: an hour, so that tests sweep when they choose). */
  grantSweepMs?: number;
  /** Shorter retry waits and lease heartbeat for approved work (see BotOptions.approvedRetry). */
  approvedRetry?: BotOptions['approvedRetry'];
  /** This bot's own clock instead of the world's (`now`): for instances whose clocks differ. */
  clock?: () => Date;
}

export interface World {
  slack: SlackStandIn;
  /** null in sandbox mode. */
  atlassian: EmulatedAtlassian | null;
  dir: string;
  dbPath: string;
  /** The injected clock reads this; tests move it. */
  now: Date;
  advance(ms: number): void;
  /** Request ids handed out so far (newId gives `req-1`, `req-2`, … across every bot of the world). */
  ids: string[];
  env(extra?: Env): Env;
  responseUrl(tag: string): string;
  startBot(options?: BotStartOptions): Promise<DrivenBot>;
  /** Puts a user straight into the emulated Atlassian; returns its SCIM id. */
  seedUser(email: string, extra?: Record<string, unknown>): string;
  /** SCIM requests received by the emulated Atlassian, as `METHOD /path` below the directory. */
  scim(): string[];
  patches(): unknown[];
  close(): Promise<void>;
}

/** Who is who on the Slack stand-in (users.info answers). */
export const PEOPLE = {
  UADMIN: { is_admin: true },
  UREQ: { is_admin: true },
  UAPPROVER: { is_admin: true },
  UAPPROVER2: { is_admin: true },
  UOPS: {},
  UGRP: {},
  UMEMBER: {},
  UGUEST: { is_admin: true, is_restricted: true },
} as const;

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const slack = await startSlackStandIn();
  for (const [id, record] of Object.entries(PEOPLE)) slack.users.set(id, { ...record });
  const atlassian =
    options.atlassian === false
      ? null
      : await startEmulatedAtlassian({
          directoryId: DIRECTORY_ID,
          token: ATLASSIAN_TOKEN,
          latencyMs: options.latencyMs,
          intercept: options.intercept,
        });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iam-handlers-'));
  const dbPath = path.join(dir, 'bot.db');
  const bots: DrivenBot[] = [];
  const ids: string[] = [];
  const below = (p: string) => decodeURIComponent(p.replace(/^.*\/scim\/directory\/[^/]+/, ''));

  const world: World = {
    slack,
    atlassian,
    dir,
    dbPath,
    now: START,
    ids,
    advance(ms) {
      world.now = new Date(world.now.getTime() + ms);
    },
    env(extra = {}) {
      return {
        SLACK_BOT_TOKEN: BOT_TOKEN,
        // requireSlackSettings (src/config.ts) demands it even when a custom receiver verifies nothing.
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        DATABASE_URL: `sqlite:${dbPath}`,
        IAM_APPROVAL_TTL: '1h',
        ...atlassian?.env,
        ...extra,
      };
    },
    responseUrl: (tag) => `${slack.responseUrlBase}${tag}`,
    async startBot(start = {}) {
      const config = loadConfig(world.env(start.env));
      const logs: string[] = [];
      const logger = createLogger({
        level: 'debug',
        write: (line) => logs.push(line),
        secrets: config.secrets,
      });
      const receiver = new FakeReceiver();
      const bot = await createBot({
        config,
        logger,
        receiver,
        clock: start.clock ?? (() => new Date(world.now.getTime())),
        newId: () => {
          const id = `req-${ids.length + 1}`;
          ids.push(id);
          return id;
        },
        expirySweepMs: start.expirySweepMs ?? 3_600_000,
        grantSweepMs: start.grantSweepMs ?? 3_600_000,
        approvedRetry: start.approvedRetry,
      });
      let stopping: Promise<void> | null = null;
      const driven: DrivenBot = {
        bot,
        receiver,
        logs,
        stop: () => (stopping ??= bot.stop()),
      };
      bots.push(driven);
      await bot.start();
      return driven;
    },
    seedUser(email, extra = {}) {
      if (!atlassian) throw new Error('seedUser needs the emulated Atlassian');
      return atlassian.seedUser(email, extra);
    },
    scim: () => (atlassian ? atlassian.server.requests.map((r) => `${r.method} ${below(r.path)}`) : []),
    patches: () => (atlassian ? atlassian.server.requests.filter((r) => r.method === 'PATCH') : []),
    async close() {
      for (const driven of bots) await driven.stop();
      await slack.close();
      await atlassian?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

// ---------------------------------------------------------------------------------------------------
// Reading what the bot sent to Slack

/** Everything a call shows a person (text, blocks, view), as one string for "does it mention…" checks. */
export const shown = (call: SlackCall): string =>
  JSON.stringify([call.args.text, call.args.blocks, call.args.view]);

export interface Block {
  type: string;
  block_id?: string;
  elements?: { action_id?: string; value?: string }[];
}

export const blocksOf = (call: SlackCall): Block[] => (call.args.blocks ?? []) as Block[];

export const hasButtons = (call: SlackCall): boolean => blocksOf(call).some((b) => b.type === 'actions');

/**
 * Seeds an active user and has UREQ run /iam-disable-user for them; resolves with the request's id, the
 * user's SCIM id and the ts of the request message.
 */
export async function requestDisable(
  world: World,
  driven: DrivenBot,
  email: string,
): Promise<{ id: string; userId: string; ts: string }> {
  const userId = world.seedUser(email);
  await driven.receiver.send(slashCommand('/iam-disable-user', email, 'UREQ', world.responseUrl(email)));
  await driven.receiver.idle();
  const post = await world.slack.waitFor(
    (c) => c.method === 'chat.postMessage' && hasButtons(c) && shown(c).includes(email),
  );
  const id = blocksOf(post)
    .find((b) => b.type === 'actions')
    ?.elements?.find((e) => e.action_id === 'iam_disable_approve')?.value;
  if (!id) throw new Error('the request message has no Approve button');
  return { id, userId, ts: tsOf(world.slack, post) };
}
