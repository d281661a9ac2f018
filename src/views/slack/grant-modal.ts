/** The /iam-grant form: user (a Slack user or an email), group (picked from the directory), duration, reason. */
import type { ModalView, Option } from '@slack/types';
import { plain, section } from './blocks';
import { LIMITS } from './limits';

export const GRANT_CALLBACK_ID = 'iam_grant';
/** The group picker's action id: its options come from an `app.options` listener (the directory's groups). */
export const GRANT_GROUP_ACTION_ID = 'iam_grant_group';
export const GRANT_BLOCKS = {
  user: 'user',
  email: 'email',
  group: 'group',
  duration: 'duration',
  reason: 'reason',
};
/** How many groups the picker offers at most (Slack shows up to 100). */
export const GROUP_OPTIONS_MAX = 100;

export interface GrantModalOptions {
  /** Where the request is posted; carried in `private_metadata`. */
  channelId: string;
  sandbox: boolean;
}

function textInput(block: string, label: string, placeholder: string, multiline = false) {
  return {
    type: 'input' as const,
    block_id: block,
    optional: true,
    label: plain(label, LIMITS.inputLabel),
    element: {
      type: 'plain_text_input' as const,
      action_id: 'value',
      multiline,
      placeholder: plain(placeholder, LIMITS.inputPlaceholder),
    },
  };
}

export function grantModal(options: GrantModalOptions): ModalView {
  const intro =
    'Asks for access to a group (and the product access it gives). Another person approves; the access ends by itself after the duration.';
  return {
    type: 'modal',
    callback_id: GRANT_CALLBACK_ID,
    private_metadata: JSON.stringify({ channelId: options.channelId }),
    title: plain('Ask for access', LIMITS.modalTitle),
    submit: plain('Ask', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    blocks: [
      section(options.sandbox ? `:test_tube: *SANDBOX* · ${intro}` : intro),
      {
        type: 'input',
        block_id: GRANT_BLOCKS.user,
        optional: true,
        label: plain('For', LIMITS.inputLabel),
        hint: plain('Pick a person, or give an Atlassian email below. Neither: yourself.', LIMITS.inputHint),
        element: {
          type: 'users_select',
          action_id: 'value',
          placeholder: plain('Yourself', LIMITS.inputPlaceholder),
        },
      },
      textInput(GRANT_BLOCKS.email, 'Or Atlassian email', 'jane@example.com'),
      {
        type: 'input',
        block_id: GRANT_BLOCKS.group,
        label: plain('Group', LIMITS.inputLabel),
        element: {
          type: 'external_select',
          action_id: GRANT_GROUP_ACTION_ID,
          min_query_length: 0,
          placeholder: plain('Type to search the groups', LIMITS.inputPlaceholder),
        },
      },
      textInput(GRANT_BLOCKS.duration, 'For how long', '8h, 3d, 1w (empty: until revoked)'),
      textInput(GRANT_BLOCKS.reason, 'Reason', 'Why the access is needed', true),
    ],
  };
}

/** The picker's options: group names containing what was typed (any case), as many as Slack shows. */
export function groupOptions(names: readonly string[], typed: string): Option[] {
  const wanted = typed.trim().toLowerCase();
  return names
    .filter((name) => name.toLowerCase().includes(wanted) && name.length <= LIMITS.optionValue)
    .slice(0, GROUP_OPTIONS_MAX)
    .map((name) => ({ text: plain(name, LIMITS.optionText), value: name }));
}

/** The channel the form was opened in, from `private_metadata` (null when absent or malformed). */
export function readGrantMetadata(privateMetadata: string | undefined): string | null {
  try {
    const parsed = JSON.parse(privateMetadata ?? '') as { channelId?: unknown };
    return typeof parsed.channelId === 'string' ? parsed.channelId : null;
  } catch {
    return null;
  }
}
