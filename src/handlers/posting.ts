import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { SlackMessage } from '../views/slack';

const CANNOT_POST = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);

function slackError(error: unknown): string | undefined {
  return (error as { data?: { error?: string } }).data?.error;
}

/** Slack refused the post because of where it was to go (not a member, archived, unknown channel). */
export function cannotPost(error: unknown): boolean {
  return CANNOT_POST.has(slackError(error) ?? '');
}

/**
 * chat.postMessage / chat.update with the blocks already JSON-encoded, as Slack's form-encoded Web API
 * takes them. The Web API client builds a redacted copy of every argument for its debug log before it
 * looks at the log level; walking a result table's blocks that way cost more CPU than rendering them,
 * which under a burst of commands delays everyone's results. A string passes through untouched, and
 * the request on the wire is the same.
 */
async function callWithBlocks(
  client: WebClient,
  method: 'chat.postMessage' | 'chat.update',
  args: Record<string, unknown> & { blocks: SlackMessage['blocks'] },
): Promise<string | null> {
  const answer = await client.apiCall(method, { ...args, blocks: JSON.stringify(args.blocks) });
  const { ts } = answer as { ts?: unknown };
  return typeof ts === 'string' ? ts : null;
}

/**
 * Posts in the channel (or a thread). Where the bot may not post (a private channel it was not invited
 * to), the person who asked still gets the message, ephemerally, with a hint; returns the ts or null.
 */
export async function postMessage(
  client: WebClient,
  channel: string,
  message: SlackMessage,
  options: { threadTs?: string; respond?: RespondFn; fallbackUserId?: string } = {},
): Promise<string | null> {
  try {
    return await callWithBlocks(client, 'chat.postMessage', {
      channel,
      text: message.text,
      blocks: message.blocks,
      thread_ts: options.threadTs,
      unfurl_links: false,
      unfurl_media: false,
    });
  } catch (error) {
    if (!cannotPost(error)) throw error;
    const hint = `I cannot post in this channel; invite me with /invite, or use a channel I am in. ${message.text}`;
    if (options.fallbackUserId && !options.respond) {
      // A modal has no response_url: the person who submitted it gets the result in the app's DM.
      return await callWithBlocks(client, 'chat.postMessage', {
        channel: options.fallbackUserId,
        text: hint,
        blocks: message.blocks,
      });
    }
    if (!options.respond) throw error;
    await options.respond({
      response_type: 'ephemeral',
      text: hint,
      blocks: message.blocks,
    });
    return null;
  }
}

export async function updateMessage(
  client: WebClient,
  channel: string,
  ts: string,
  message: SlackMessage,
): Promise<void> {
  await callWithBlocks(client, 'chat.update', { channel, ts, text: message.text, blocks: message.blocks });
}

export async function tellEphemeral(respond: RespondFn, message: SlackMessage): Promise<void> {
  await respond({
    response_type: 'ephemeral',
    replace_original: false,
    text: message.text,
    blocks: message.blocks,
  });
}
