// The floor of `npm run bench:bot`: a bare Bolt app with the project's own Bolt and axios that does the
// same work as the bot for /iam-get-user and /iam-create-user and nothing else. It acknowledges, makes
// the same SCIM requests (get: one lookup; create: a lookup and a POST) and posts the same messages the
// bot posted for the same command (captured from the bot by the bench and passed in BENCH_TEMPLATES,
// with the user's email replaced), in the same order: the first in the channel, the rest in its thread.
// No audit, no permission check, no approvals: the difference to the bot is what those cost.
//
// Environment: PORT, SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL, ATLASSIAN_URL,
// ATLASSIAN_ACCESS_TOKEN, ATLASSIAN_DIRECTORY_ID, BENCH_TEMPLATES (a JSON file).
import fs from 'node:fs';
import bolt from '@slack/bolt';
import axios from 'axios';

const { App, LogLevel } = bolt;
const env = process.env;
/** `{ get: [message, …], create: [message, …] }`, each message the chat.postMessage arguments with `{{EMAIL}}`. */
const templates = JSON.parse(fs.readFileSync(env.BENCH_TEMPLATES, 'utf8'));

const scim = axios.create({
  baseURL: `${env.ATLASSIAN_URL.replace(/\/$/, '')}/scim/directory/${env.ATLASSIAN_DIRECTORY_ID}`,
  headers: {
    Authorization: `Bearer ${env.ATLASSIAN_ACCESS_TOKEN}`,
    Accept: 'application/scim+json, application/json',
  },
  timeout: 10_000,
});

const app = new App({
  token: env.SLACK_BOT_TOKEN,
  signingSecret: env.SLACK_SIGNING_SECRET,
  clientOptions: { slackApiUrl: env.SLACK_API_URL },
  logLevel: LogLevel.WARN,
  customRoutes: [
    {
      path: '/healthz',
      method: ['GET'],
      handler: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"ok":true}');
      },
    },
  ],
});

const lookup = (email) => scim.get('/Users', { params: { filter: `userName eq "${email}"` } });

/** Posts the command's messages: the first in the channel, the others in its thread. */
async function post(client, channel, kind, email) {
  const [first, ...rest] = templates[kind].map((message) =>
    JSON.parse(JSON.stringify(message).replaceAll('{{EMAIL}}', email)),
  );
  const posted = await client.apiCall('chat.postMessage', { ...first, channel });
  for (const message of rest)
    await client.apiCall('chat.postMessage', { ...message, channel, thread_ts: posted.ts });
}

app.command('/iam-get-user', async ({ command, ack, client }) => {
  await ack();
  const email = command.text.trim();
  await lookup(email);
  await post(client, command.channel_id, 'get', email);
});

app.command('/iam-create-user', async ({ command, ack, client }) => {
  await ack();
  const email = command.text.trim();
  await lookup(email);
  await scim.post('/Users', {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: email,
    emails: [{ value: email, type: 'work', primary: true }],
  });
  await post(client, command.channel_id, 'create', email);
});

await app.start(Number(env.PORT));
process.on('SIGTERM', () => app.stop().then(() => process.exit(0)));
