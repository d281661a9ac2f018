/**
 * Slack payloads as Bolt's receivers hand them to processEvent (parsed, not raw HTTP). The fake receiver
 * sends them as they are; the whole-process tests encode them as Slack does (test/support/bot-process.ts).
 */
import type { SlackCall, SlackStandIn } from './slack-standin.cjs';

/**
 * Slack gives every command, click and submission its own trigger_id, and the bot runs each only once:
 * the builders number theirs, so two payloads built alike are still two requests.
 */
let triggers = 0;
const nextTrigger = (what: string): string => `trigger-${what}-${++triggers}`;

export function slashCommand(
  command: string,
  text: string,
  userId: string,
  responseUrl: string,
  channelId = 'C1',
): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: 'T1',
    team_domain: 'example',
    channel_id: channelId,
    channel_name: 'it-ops',
    user_id: userId,
    user_name: userId.toLowerCase(),
    command,
    text,
    api_app_id: 'A1',
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: nextTrigger(`${command.slice(1)}-${userId}`),
  };
}

export function buttonClick(
  actionId: string,
  value: string,
  userId: string,
  responseUrl: string,
  messageTs = '1700000001.000100',
  channelId = 'C1',
): Record<string, unknown> {
  return {
    type: 'block_actions',
    api_app_id: 'A1',
    team: { id: 'T1', domain: 'example' },
    user: { id: userId, username: userId.toLowerCase(), team_id: 'T1' },
    channel: { id: channelId, name: 'it-ops' },
    container: { type: 'message', message_ts: messageTs, channel_id: channelId, is_ephemeral: false },
    message: { ts: messageTs, type: 'message', text: 'approval' },
    trigger_id: nextTrigger(`${actionId}-${userId}`),
    response_url: responseUrl,
    actions: [
      {
        type: 'button',
        action_id: actionId,
        block_id: 'iam_disable_decision',
        value,
        action_ts: '1700000000.000001',
      },
    ],
  };
}

/** A view_submission of the user modal; `fields` are profile keys (block ids) and their typed values. */
export function viewSubmission(
  callbackId: string,
  userId: string,
  fields: Record<string, string | string[]>,
  privateMetadata: string,
): Record<string, unknown> {
  // A string is a text input's value (email uses email_text_input); a list is the ticked checkboxes.
  const state = (blockId: string, value: string | string[]) =>
    Array.isArray(value)
      ? { type: 'checkboxes', selected_options: value.map((v) => ({ value: v })) }
      : { type: blockId === 'email' ? 'email_text_input' : 'plain_text_input', value };
  const values = Object.fromEntries(
    Object.entries(fields).map(([blockId, value]) => [blockId, { value: state(blockId, value) }]),
  );
  return {
    type: 'view_submission',
    api_app_id: 'A1',
    team: { id: 'T1', domain: 'example' },
    user: { id: userId, username: userId.toLowerCase(), team_id: 'T1' },
    trigger_id: nextTrigger(`submit-${userId}`),
    view: {
      id: 'V-submitted',
      team_id: 'T1',
      type: 'modal',
      callback_id: callbackId,
      private_metadata: privateMetadata,
      hash: 'h-submitted',
      state: { values },
    },
  };
}

export function appHomeOpened(userId: string, tab: 'home' | 'messages' = 'home'): Record<string, unknown> {
  return {
    token: 'legacy-verification-token',
    team_id: 'T1',
    api_app_id: 'A1',
    type: 'event_callback',
    event_id: `Ev-home-${userId}`,
    event_time: 1_700_000_000,
    event: { type: 'app_home_opened', user: userId, channel: 'D1', tab, event_ts: '1700000000.000300' },
    authorizations: [{ team_id: 'T1', user_id: 'UBOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
  };
}

/** The request id an approval request message carries on its Approve button. */
export function approveIdOf(post: SlackCall): string {
  const blocks = (post.args.blocks ?? []) as {
    type: string;
    elements?: { action_id: string; value: string }[];
  }[];
  const actions = blocks.find((b) => b.type === 'actions');
  const id = actions?.elements?.find((e) => e.action_id === 'iam_disable_approve')?.value;
  if (!id) throw new Error('the approval request has no Approve button');
  return id;
}

/**
 * The ts the stand-in answered a chat.postMessage with. The stand-in numbers the messages it accepts
 * (postMessage outside closed channels, postEphemeral) 1_700_000_001, 1_700_000_002, … in arrival
 * order, which is the order of `slack.calls`.
 */
export function tsOf(slack: SlackStandIn, call: SlackCall): string {
  const numbered = slack.calls.filter(
    (c) =>
      (c.method === 'chat.postMessage' && !slack.closedChannels.has(String(c.args.channel))) ||
      c.method === 'chat.postEphemeral',
  );
  const index = numbered.indexOf(call);
  if (index < 0) throw new Error(`${call.method} was not answered with a ts`);
  return `${1_700_000_000 + index + 1}.${call.method === 'chat.postEphemeral' ? '000200' : '000100'}`;
}

/** Waits until the bot posts the approval request about `email`; returns its id (the Approve value) and ts. */
export async function approvalRequest(
  slack: SlackStandIn,
  email: string,
): Promise<{ id: string; ts: string }> {
  const post = await slack.waitFor((c) => {
    const shown = JSON.stringify([c.args.text, c.args.blocks]);
    return c.method === 'chat.postMessage' && shown.includes('iam_disable_approve') && shown.includes(email);
  });
  return { id: approveIdOf(post), ts: tsOf(slack, post) };
}

/** Waits until the bot posts the approval request about `email`; returns its request id (the Approve value). */
export async function approvalRequestId(slack: SlackStandIn, email: string): Promise<string> {
  return (await approvalRequest(slack, email)).id;
}
