/**
 * Socket Mode: with SLACK_APP_TOKEN set the bot opens a WebSocket (the URL comes from
 * apps.connections.open on SLACK_API_URL), acknowledges each envelope and answers through the Web API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { makeTempDir, removeTempDirs } from '../support/cli';
import { BOT_PATH, requireBuiltBot } from '../support/bot-process';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-standin.cjs';

const APP_TOKEN = 'xapp-1-SECRET-socket-token';
let slack: SlackStandIn;
let wss: WebSocketServer;
let child: ChildProcess | null = null;
let output = '';

beforeAll(async () => {
  requireBuiltBot();
  slack = await startSlackStandIn();
  slack.users.set('UADMIN', { is_admin: true });
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as { port: number };
  slack.socketModeUrl = `ws://127.0.0.1:${port}/link`;
});

afterAll(async () => {
  child?.kill('SIGKILL');
  for (const client of wss.clients) client.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  await slack.close();
  removeTempDirs();
});

function nextMessage(
  socket: WebSocket,
  predicate: (m: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no matching Socket Mode message; bot output:\n${output}`)),
      10_000,
    );
    const onMessage = (data: Buffer) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      if (!predicate(message)) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(message);
    };
    socket.on('message', onMessage);
  });
}

it('takes a slash command over Socket Mode, acks the envelope and posts the result', async () => {
  const cwd = makeTempDir('atlassian-iam-socket-');
  const connected = new Promise<WebSocket>((resolve) => wss.once('connection', (socket) => resolve(socket)));
  child = spawn(process.execPath, [BOT_PATH], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: cwd,
      SLACK_BOT_TOKEN: 'xoxb-socket',
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      DATABASE_URL: `sqlite:${path.join(cwd, 'bot.db')}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));

  const socket = await connected;
  socket.send(
    JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A1' }, debug_info: {} }),
  );
  const ack = nextMessage(socket, (m) => m.envelope_id === 'env-1');
  socket.send(
    JSON.stringify({
      envelope_id: 'env-1',
      type: 'slash_commands',
      accepts_response_payload: true,
      payload: {
        token: 'x',
        team_id: 'T1',
        channel_id: 'C1',
        user_id: 'UADMIN',
        command: '/iam-create-user',
        text: 'sock@example.com',
        api_app_id: 'A1',
        response_url: `${slack.responseUrlBase}socket`,
        trigger_id: 't1',
      },
    }),
  );
  expect(await ack).toMatchObject({ envelope_id: 'env-1' });
  const post = await slack.waitFor(
    (c) => c.method === 'chat.postMessage' && JSON.stringify(c.args).includes('sock@example.com'),
  );
  expect(JSON.stringify(post.args)).toContain('SANDBOX');
  expect(slack.callsTo('apps.connections.open')).toHaveLength(1);
  expect(output).not.toContain(APP_TOKEN);
});
