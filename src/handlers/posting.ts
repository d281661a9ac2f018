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
    const answer = await client.chat.postMessage({
      channel,
      text: message.text,
      blocks: message.blocks,
      thread_ts: options.threadTs,
      unfurl_links: false,
      unfurl_media: false,
    });
    return answer.ts ?? null;
  } catch (error) {
    if (!cannotPost(error)) throw error;
    const hint = `I cannot post in this channel; invite me with /invite, or use a channel I am in. ${message.text}`;
    if (options.fallbackUserId && !options.respond) {
      // A modal has no response_url: the person who submitted it gets the result in the app's DM.
      const answer = await client.chat.postMessage({
        channel: options.fallbackUserId,
        text: hint,
        blocks: message.blocks,
      });
      return answer.ts ?? null;
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
  await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
}

export async function tellEphemeral(respond: RespondFn, message: SlackMessage): Promise<void> {
  await respond({
    response_type: 'ephemeral',
    replace_original: false,
    text: message.text,
    blocks: message.blocks,
  });
}
