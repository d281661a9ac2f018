#!/usr/bin/env node
import { type Bot, createBot } from './app';
import { type Config, ConfigError, loadConfig, loadDotenv, problemsText } from './config';
import { createLogger, type Logger, redact } from './log';
import { formatProblem, PolicyError } from './policy';
import { StartupError } from './startup';

/** SIGTERM ends the process within this, whatever is still hanging (a dead database, a stuck Slack call). */
const STOP_DEADLINE_MS = 28_000;

function configOrExit(): Config {
  loadDotenv();
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(problemsText('atlassian-iam bot', 'the configuration is invalid', error.problems));
    process.exit(2);
  }
}

async function botOrExit(config: Config, logger: Logger): Promise<Bot> {
  try {
    return await createBot({ config, logger });
  } catch (error) {
    if (error instanceof StartupError) cannotStart(error, config.secrets);
    const message = redact((error as Error).message, config.secrets);
    const problems =
      error instanceof ConfigError
        ? error.problems
        : error instanceof PolicyError
          ? error.problems.map(formatProblem)
          : [message];
    process.stderr.write(problemsText('atlassian-iam bot', 'cannot start', problems));
    process.exit(2);
  }
}

/** SIGTERM and SIGINT finish the work in flight, then exit 0 (1 when stopping fails or takes too long). */
function stopOnSignals(bot: Bot, logger: Logger): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping: finishing the operations in flight', { signal });
    setTimeout(() => {
      logger.error('stop took too long; exiting without closing cleanly', { deadlineMs: STOP_DEADLINE_MS });
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    bot.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: Error) => {
        logger.error('stop failed', { error: error.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

/**
 * `npm start`: the Slack bot. Exits 2 on bad configuration, 1 when Slack or the database refuse or do not
 * answer at start (one line on stderr naming the variable), and on SIGTERM/SIGINT finishes the work in
 * flight and exits 0.
 */
async function main(): Promise<void> {
  const config = configOrExit();
  const logger = createLogger({
    level: config.logLevel,
    write: (line) => process.stdout.write(line),
    secrets: config.secrets,
  });
  const bot = await botOrExit(config, logger);
  if (bot.context.sandbox) {
    logger.warn('SANDBOX: no Atlassian credentials are set; the bot works on the local sandbox directory');
  }
  stopOnSignals(bot, logger);
  try {
    await bot.start();
  } catch (error) {
    if (error instanceof StartupError) cannotStart(error, config.secrets);
    throw error;
  }
}

/** One line, no stack: what failed and which variable to fix. */
function cannotStart(error: StartupError, secrets: readonly string[]): never {
  process.stderr.write(`atlassian-iam bot: cannot start: ${redact(error.message, secrets)}\n`);
  process.exit(1);
}

main().catch((error: Error) => {
  process.stderr.write(`atlassian-iam bot: ${error.message}\n`);
  process.exit(1);
});
