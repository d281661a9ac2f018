/**
 * Two bot processes (dist/index.js) on one fresh PostgreSQL database, with the Slack stand-in and the
 * emulated Atlassian: the setup of the whole-process tests where work falls due at once on several
 * instances and one of them is SIGKILLed mid-way. Registers its own beforeAll/afterAll.
 */
import { Client } from 'pg';
import { type BotProcess, sharedBotEnv, startBot } from './bot-process';
import { makeTempDir, removeTempDirs } from './cli';
import { createDatabase, dropDatabase, uniqueName } from './postgres';
import { type EmulatedAtlassian, startEmulatedAtlassian } from './scim-server';
import { type SlackStandIn, startSlackStandIn } from './slack-standin.cjs';

export interface TwoBots {
  slack: SlackStandIn;
  atlassian: EmulatedAtlassian;
  databaseUrl: string;
  /** A connection of the test's own, for reading what the bots stored. */
  db: Client;
  /** Starts the two instances with the same environment (plus `extra`). */
  start(extra?: Record<string, string>): Promise<[BotProcess, BotProcess]>;
}

/**
 * When the work of these tests falls due: the first half of `count` items one every 100 ms from `base`
 * (LEAD_MS after they are stored), the other half all at once BURST_MS later, when one instance is
 * killed (KILL_AFTER_MS) in the middle of its batch. None may be more than LATE_LIMIT_MS late.
 */
export const DUE = {
  LEAD_MS: 12_000,
  SPACING_MS: 100,
  BURST_MS: 10_000,
  KILL_AFTER_MS: 10_100,
  LATE_LIMIT_MS: 10_000,
};

/** Item `i` of `count`'s due time (see DUE). */
export const dueAt = (base: number, i: number, count: number): Date =>
  new Date(base + (i < count / 2 ? i * DUE.SPACING_MS : DUE.BURST_MS));

/** Waits for the burst, then SIGKILLs `bot` while it holds claims; returns when it was killed (epoch ms). */
export async function killInTheBurst(bot: BotProcess, base: number): Promise<number> {
  await new Promise((r) => setTimeout(r, Math.max(0, base + DUE.KILL_AFTER_MS - Date.now())));
  const killedAt = Date.now();
  await bot.stop('SIGKILL');
  return killedAt;
}

/** The `p`th percentile of sorted numbers (nearest rank). */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/** Waits until `count()` reaches `want` or `deadline` (epoch ms) passes; returns the last count. */
export async function waitForCount(
  count: () => Promise<number>,
  want: number,
  deadline: number,
): Promise<number> {
  let seen = await count();
  while (seen < want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    seen = await count();
  }
  return seen;
}

/** `prefix` names the database, the directory and the temp dirs. */
export function twoBotsOnPostgres(testUrl: string, prefix: string): TwoBots {
  const bots: BotProcess[] = [];
  let databaseName = '';
  const world = {} as TwoBots;

  beforeAll(async () => {
    world.slack = await startSlackStandIn();
    world.atlassian = await startEmulatedAtlassian({
      directoryId: `dir-${prefix}`,
      token: `tok-${prefix}-SECRET`,
    });
    databaseName = uniqueName(`iam_${prefix.replace(/\W/g, '_')}`);
    world.databaseUrl = await createDatabase(testUrl, databaseName);
    world.db = new Client({ connectionString: world.databaseUrl });
    await world.db.connect();
  });

  afterAll(async () => {
    await Promise.all(bots.map((b) => b.stop('SIGKILL')));
    await world.db?.end();
    await world.slack?.close();
    await world.atlassian?.close();
    if (databaseName) await dropDatabase(testUrl, databaseName);
    removeTempDirs();
  });

  world.start = async (extra = {}) => {
    const env = sharedBotEnv(world.slack, world.atlassian, world.databaseUrl, {
      LOG_LEVEL: 'warn',
      ...extra,
    });
    const started = await Promise.all([
      startBot(env, makeTempDir(`atlassian-iam-${prefix}-a-`)),
      startBot(env, makeTempDir(`atlassian-iam-${prefix}-b-`)),
    ]);
    bots.push(...started);
    return started;
  };
  return world;
}
