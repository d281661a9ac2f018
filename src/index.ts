#!/usr/bin/env node
import { createBot } from './app';
import { ConfigError, loadConfig, loadDotenv } from './config';
import { createLogger, redact } from './log';

/** `npm start`: the Slack bot. Exits 2 on bad configuration, finishes in-flight work on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  loadDotenv();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(
      `atlassian-iam bot: the configuration is invalid:\n${error.problems.map((p) => `  ${p}`).join('\n')}\n`,
    );
    process.exit(2);
  }
  const logger = createLogger({
    level: config.logLevel,
    write: (line) => process.stdout.write(line),
    secrets: config.secrets,
  });
  let bot;
  try {
    bot = await createBot({ config, logger });
  } catch (error) {
    const message = redact((error as Error).message, config.secrets);
    const problems = error instanceof ConfigError ? error.problems : [message];
    process.stderr.write(`atlassian-iam bot: cannot start:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
    process.exit(2);
  }
  if (bot.context.sandbox) {
    logger.warn('SANDBOX: no Atlassian credentials are set; the bot works on the local sandbox directory');
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping: finishing the operations in flight', { signal });
    bot.stop().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error('stop failed', { error: error.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await bot.start();
}

main().catch((error: Error) => {
  process.stderr.write(`atlassian-iam bot: ${error.message}\n`);
  process.exit(1);
});
