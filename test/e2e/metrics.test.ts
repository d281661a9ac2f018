/**
 * GET /metrics on the built bot (issue 13, "Production"): what an operator's Prometheus scrapes after a
 * few real commands, and `bulk --metrics FILE` for the command line's bulk runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  type BotProcess,
  postSigned,
  requireBuiltBot,
  sharedBotEnv,
  slashCommandBody,
  startBot,
} from '../support/bot-process';
import { makeTempDir, removeTempDirs, runCli } from '../support/cli';
import { type EmulatedAtlassian, startEmulatedAtlassian } from '../support/scim-server';
import { approvalRequest } from '../support/slack-payloads';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-standin.cjs';

let slack: SlackStandIn;
let atlassian: EmulatedAtlassian;
let bot: BotProcess;

/** The value of one sample line, e.g. `name{label="x"} 3`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const scrape = async () => (await fetch(`${bot.url}/metrics`)).text();

beforeAll(async () => {
  requireBuiltBot();
  slack = await startSlackStandIn();
  slack.users.set('UADMIN', { is_admin: true });
  atlassian = await startEmulatedAtlassian({ directoryId: 'dir-metrics', token: 'atl-SECRET-metrics-token' });
  const cwd = makeTempDir();
  bot = await startBot(sharedBotEnv(slack, atlassian, `sqlite:${path.join(cwd, 'bot.db')}`), cwd);
});

afterAll(async () => {
  await bot?.stop();
  await atlassian?.close();
  await slack?.close();
  removeTempDirs();
});

describe('GET /metrics', () => {
  it('serves Prometheus text with the process metrics, and HEAD without a body', async () => {
    const answer = await fetch(`${bot.url}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await answer.text();
    expect(text).toContain('process_resident_memory_bytes');
    expect(sample(text, 'atlassian_iam_pending_approvals')).toBe(0);
    const head = await fetch(`${bot.url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('counts SCIM requests, acknowledgements, commands and pending approvals as commands run', async () => {
    atlassian.seedUser('mia@example.com');
    const get = await postSigned(
      bot.url,
      slashCommandBody('/iam-get-user', 'mia@example.com', 'UADMIN', `${slack.responseUrlBase}get`),
    );
    expect(get.status).toBe(200);
    await slack.waitFor((c) => c.method === 'chat.postMessage' && JSON.stringify(c.args).includes('mia@'));
    await postSigned(
      bot.url,
      slashCommandBody('/iam-disable-user', 'mia@example.com', 'UADMIN', `${slack.responseUrlBase}dis`),
    );
    await approvalRequest(slack, 'mia@example.com');

    let text = await scrape();
    // The get's result row is written right after Atlassian answers; allow the post to land first.
    for (
      let i = 0;
      i < 40 && !sample(text, 'atlassian_iam_commands_total{command="iam-get-user",outcome="success"}');
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
      text = await scrape();
    }
    expect(
      sample(text, 'atlassian_iam_scim_requests_total{method="GET",status="200"}'),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sample(text, 'atlassian_iam_scim_request_duration_seconds_count{method="GET"}'),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'atlassian_iam_slack_ack_duration_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'atlassian_iam_commands_total{command="iam-get-user",outcome="success"}')).toBe(1);
    expect(sample(text, 'atlassian_iam_commands_total{command="iam-disable-user",outcome="requested"}')).toBe(
      1,
    );
    expect(sample(text, 'atlassian_iam_pending_approvals')).toBe(1);
    expect(sample(text, 'atlassian_iam_audit_write_failures_total')).toBe(0);
  });
});

describe('bulk --metrics FILE', () => {
  it("writes the run's rows by outcome for a textfile collector", async () => {
    const cwd = makeTempDir();
    fs.writeFileSync(path.join(cwd, 'people.csv'), 'email\nann@example.com\nbob@example.com\n');
    const run = await runCli(['bulk', 'create', 'people.csv', '--metrics', 'bulk.prom'], { cwd });
    expect(run.code).toBe(0);
    const text = fs.readFileSync(path.join(cwd, 'bulk.prom'), 'utf8');
    expect(sample(text, 'atlassian_iam_bulk_rows_total{outcome="success"}')).toBe(2);
    expect(sample(text, 'atlassian_iam_bulk_rows_total{outcome="failed"}')).toBe(0);
    expect(fs.readdirSync(cwd).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
