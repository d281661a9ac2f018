#!/usr/bin/env node
/**
 * The container's health check (`node dist/healthcheck.js`, no shell needed): asks the running bot's own
 * GET /healthz on PORT (HTTP mode) or HEALTH_PORT (Socket Mode). Exit 0 when it answers 200, else 1 with
 * one line saying why.
 */
import { request } from 'node:http';
import { ConfigError, loadConfig, loadDotenv } from './config';

const TIMEOUT_MS = 3000;

function fail(reason: string): never {
  process.stderr.write(`atlassian-iam healthcheck: ${reason}\n`);
  process.exit(1);
}

function healthPort(): number {
  loadDotenv();
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(`the configuration is invalid: ${error.problems.join('; ')}`);
    throw error;
  }
  const { slack } = config;
  if (slack.appToken === null) return slack.port;
  if (slack.healthPort === null) fail('Socket Mode serves no health check: set HEALTH_PORT');
  return slack.healthPort;
}

const port = healthPort();
const probe = request({ host: '127.0.0.1', port, path: '/healthz', timeout: TIMEOUT_MS }, (answer) => {
  answer.resume();
  if (answer.statusCode === 200) process.exit(0);
  fail(`GET /healthz on port ${port} answered ${answer.statusCode}`);
});
probe.on('timeout', () => probe.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
probe.on('error', (error) => fail(`GET /healthz on port ${port}: ${error.message}`));
probe.end();
