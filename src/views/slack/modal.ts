/**
 * The create/update modal opened by /iam-create-user or /iam-update-user with empty text (or, for
 * update, a bare email: pre-filled with the user's current values), and the parsing and validation of
 * its submission.
 */
import type { InputBlock, KnownBlock, ModalView } from '@slack/types';
import type { CommandPlan, PlannedUser } from '../../iam/plan';
import type { STRING_KEYS } from '../../iam/profile';
import { looksLikeEmail } from '../../iam';
import { changesSection } from './approval';
import { context, plain, SANDBOX_TEXT, section } from './blocks';
import { escapeTruncate, oneLine } from './escape';
import { LIMITS } from './limits';

/** The profile keys the modal asks for, in order; each is an input block's `block_id`. */
export const PROFILE_FIELDS = [
  'email',
  'username',
  'givenname',
  'surname',
  'displayname',
  'title',
  'department',
  'organization',
  'timezone',
  'preferredlanguage',
] as const satisfies readonly (typeof STRING_KEYS)[number][];

export type ProfileField = (typeof PROFILE_FIELDS)[number];
export type ModalKind = 'create' | 'update';

export const CREATE_CALLBACK_ID = 'iam_create_user';
export const UPDATE_CALLBACK_ID = 'iam_update_user';
export const ALLOW_ENABLE_BLOCK_ID = 'allow_enable';
/** The update form's "Clear these fields" checkboxes. */
export const CLEAR_BLOCK_ID = 'clear';
/** Fields the update form can empty (email and username identify the user and stay). */
export const CLEARABLE_FIELDS = PROFILE_FIELDS.filter(
  (field): field is Exclude<ProfileField, 'email' | 'username'> => field !== 'email' && field !== 'username',
);
/** Every input's `action_id`. */
export const VALUE_ACTION_ID = 'value';
/** Longest value a field accepts (the input's `max_length` and the server-side check). */
export const FIELD_MAX_LENGTH = 256;

export const CALLBACK_IDS: Record<ModalKind, string> = {
  create: CREATE_CALLBACK_ID,
  update: UPDATE_CALLBACK_ID,
};

const FIELD_TEXT: Record<ProfileField, { label: string; placeholder?: string; hint?: string }> = {
  email: { label: 'Email', placeholder: 'jane@example.com' },
  username: { label: 'Username', hint: 'Defaults to the email address.' },
  givenname: { label: 'Given name' },
  surname: { label: 'Surname' },
  displayname: { label: 'Display name' },
  title: { label: 'Title', placeholder: 'Team Lead' },
  department: { label: 'Department' },
  organization: { label: 'Organization' },
  timezone: { label: 'Time zone', placeholder: 'Europe/Berlin' },
  preferredlanguage: { label: 'Preferred language', placeholder: 'en-US' },
};

export interface ModalMetadata {
  channelId: string;
}

export interface UserModalOptions {
  /** Pre-filled values (update: the user's current values). */
  initial?: Partial<Record<ProfileField, string>>;
  /** Where the result is posted; carried in `private_metadata`. */
  channelId: string;
  sandbox: boolean;
}

function fieldBlock(field: ProfileField, kind: ModalKind, initial: string | undefined): InputBlock {
  const text = FIELD_TEXT[field];
  const required = field === 'email';
  // On update the intro says once that a blank field keeps its value; the create hints do not apply.
  let hint = kind === 'create' ? text.hint : undefined;
  if (field === 'email')
    return emailBlock(kind === 'update' ? 'Identifies the user to update.' : hint, initial);
  // A current value longer than the input can hold is left out rather than cut: a cut value would be
  // written back on submit, a blank one leaves the attribute as it is.
  const tooLong = initial !== undefined && initial.length > FIELD_MAX_LENGTH;
  if (tooLong)
    hint = `The current value is ${initial.length} characters, too long to edit here; leave blank to keep it.`;
  return {
    type: 'input',
    block_id: field,
    optional: !required,
    label: plain(text.label, LIMITS.inputLabel),
    ...(hint ? { hint: plain(hint, LIMITS.inputHint) } : {}),
    element: {
      type: 'plain_text_input',
      action_id: VALUE_ACTION_ID,
      max_length: FIELD_MAX_LENGTH,
      ...(text.placeholder ? { placeholder: plain(text.placeholder, LIMITS.inputPlaceholder) } : {}),
      ...(initial !== undefined && initial !== '' && !tooLong ? { initial_value: initial } : {}),
    },
  };
}

/** Email uses Slack's email input, which checks the shape on the client too. */
function emailBlock(hint: string | undefined, initial: string | undefined): InputBlock {
  return {
    type: 'input',
    block_id: 'email',
    label: plain(FIELD_TEXT.email.label, LIMITS.inputLabel),
    ...(hint ? { hint: plain(hint, LIMITS.inputHint) } : {}),
    element: {
      type: 'email_text_input',
      action_id: VALUE_ACTION_ID,
      placeholder: plain(FIELD_TEXT.email.placeholder ?? '', LIMITS.inputPlaceholder),
      ...(initial !== undefined && initial !== '' && initial.length <= FIELD_MAX_LENGTH
        ? { initial_value: initial }
        : {}),
    },
  };
}

/** Update form: the explicit way to empty attributes (a blank field keeps the current value). */
function clearBlock(): InputBlock {
  return {
    type: 'input',
    block_id: CLEAR_BLOCK_ID,
    optional: true,
    label: plain('Clear these fields', LIMITS.inputLabel),
    hint: plain(
      'Each ticked field is removed from the user in Atlassian, whatever is typed in it above.',
      LIMITS.inputHint,
    ),
    element: {
      type: 'checkboxes',
      action_id: VALUE_ACTION_ID,
      options: CLEARABLE_FIELDS.map((field) => ({
        text: plain(FIELD_TEXT[field].label, LIMITS.optionText),
        value: field,
      })),
    },
  };
}

const ALLOW_ENABLE_OPTION = {
  text: plain('Enable the user if they are inactive', LIMITS.optionText),
  value: 'true',
};

function allowEnableBlock(): InputBlock {
  return {
    type: 'input',
    block_id: ALLOW_ENABLE_BLOCK_ID,
    optional: true,
    label: plain('Allow enable', LIMITS.inputLabel),
    element: {
      type: 'checkboxes',
      action_id: VALUE_ACTION_ID,
      options: [ALLOW_ENABLE_OPTION],
      initial_options: [ALLOW_ENABLE_OPTION],
    },
  };
}

/** The create or update modal (`callback_id` `iam_create_user` / `iam_update_user`). */
export function userModal(kind: ModalKind, options: UserModalOptions): ModalView {
  const intro =
    kind === 'create'
      ? 'Creates the user in Atlassian. If the username already exists, that user is updated instead.'
      : 'Changes only the fields you fill in: a blank field keeps its current value. To empty a field, tick it under “Clear these fields”.';
  const blocks: KnownBlock[] = [
    ...(options.sandbox ? [context(SANDBOX_TEXT)] : []),
    context(intro),
    ...PROFILE_FIELDS.map((field) => fieldBlock(field, kind, options.initial?.[field]?.trim())),
    ...(kind === 'update' ? [clearBlock(), allowEnableBlock()] : []),
  ];
  const metadata: ModalMetadata = { channelId: options.channelId };
  return {
    type: 'modal',
    callback_id: CALLBACK_IDS[kind],
    private_metadata: JSON.stringify(metadata),
    title: plain(kind === 'create' ? 'Create Atlassian user' : 'Update Atlassian user', LIMITS.modalTitle),
    submit: plain(kind === 'create' ? 'Create' : 'Update', LIMITS.modalButton),
    close: plain('Cancel', LIMITS.modalButton),
    blocks,
  };
}

/** Reads the channel id back from a submitted modal's `private_metadata` (null when absent or malformed). */
export function readModalMetadata(privateMetadata: string | undefined): ModalMetadata | null {
  if (!privateMetadata) return null;
  try {
    const parsed: unknown = JSON.parse(privateMetadata);
    if (parsed && typeof parsed === 'object' && typeof (parsed as ModalMetadata).channelId === 'string') {
      return { channelId: (parsed as ModalMetadata).channelId };
    }
  } catch {
    // fall through
  }
  return null;
}

/** Structural form of a `view_submission`'s `view.state.values` (Bolt's `ViewStateValue` fits it). */
export type ModalStateValues = Record<
  string,
  Record<
    string,
    {
      type?: string;
      value?: string | null;
      selected_options?: readonly { value?: string }[] | null;
    }
  >
>;

export interface ModalValues {
  /** The non-empty fields, trimmed, keyed by profile key (without the ones to clear). */
  fields: Partial<Record<ProfileField, string>>;
  /** Fields ticked under "Clear these fields" (update only; empty otherwise). */
  clear: ProfileField[];
  /** The `allow_enable` checkbox; true when the modal has none (create), like the CLI default. */
  allowEnable: boolean;
}

/**
 * Turns `view.state.values` into the non-empty profile fields, the fields to clear and the
 * allow-enable flag. A ticked field is cleared whatever its input holds (the update form is often
 * pre-filled with the current values).
 */
export function readModalValues(stateValues: ModalStateValues): ModalValues {
  const ticked = (stateValues[CLEAR_BLOCK_ID]?.[VALUE_ACTION_ID]?.selected_options ?? []).map(
    (option) => option.value,
  );
  const clear = CLEARABLE_FIELDS.filter((field) => ticked.includes(field));
  const fields: Partial<Record<ProfileField, string>> = {};
  for (const field of PROFILE_FIELDS) {
    const value = stateValues[field]?.[VALUE_ACTION_ID]?.value;
    if (typeof value === 'string' && value.trim() !== '' && !(clear as ProfileField[]).includes(field))
      fields[field] = value.trim();
  }
  const allow = stateValues[ALLOW_ENABLE_BLOCK_ID]?.[VALUE_ACTION_ID];
  const allowEnable =
    allow === undefined ? true : (allow.selected_options ?? []).some((option) => option.value === 'true');
  return { fields, clear, allowEnable };
}

/**
 * Field errors of a submission, keyed by block_id: the `errors` of `{response_action: 'errors'}`.
 * Empty when the submission is fine.
 */
export function validateModalValues(values: ModalValues, _kind: ModalKind): Record<string, string> {
  const errors: Record<string, string> = {};
  const email = values.fields.email;
  if (email === undefined || email === '') {
    errors.email = 'Enter the email address of the user.';
  } else if (!looksLikeEmail(email)) {
    errors.email = 'This does not look like an email address (name@example.com).';
  }
  const username = values.fields.username;
  if (username !== undefined && /\s/.test(username)) errors.username = 'A username cannot contain spaces.';
  for (const field of PROFILE_FIELDS) {
    const value = values.fields[field];
    if (value !== undefined && value.length > FIELD_MAX_LENGTH && errors[field] === undefined) {
      errors[field] = `At most ${FIELD_MAX_LENGTH} characters (this has ${value.length}).`;
    }
  }
  return errors;
}

/** The confirmation an update modal's submit opens (pushed on top of the form). */
export const UPDATE_CONFIRM_CALLBACK_ID = 'iam_update_confirm';

/**
 * What the confirmation carries in its `private_metadata`: the form as submitted (to find the plan
 * again on Confirm) and the fingerprint of the plan shown. No user data beyond what the operator typed.
 */
export interface ConfirmMetadata {
  channelId: string;
  fields: Partial<Record<ProfileField, string>>;
  clear: ProfileField[];
  allowEnable: boolean;
  plan: string;
}

const isStringRecord = (value: unknown): value is Record<string, string> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.values(value).every((item) => typeof item === 'string');

/** Reads a confirmation's `private_metadata` back (null when absent or malformed). */
export function readConfirmMetadata(privateMetadata: string | undefined): ConfirmMetadata | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(privateMetadata ?? '');
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const m = parsed as Record<string, unknown>;
  const fieldsOk =
    isStringRecord(m.fields) &&
    Object.keys(m.fields).every((key) => (PROFILE_FIELDS as readonly string[]).includes(key));
  const clearOk =
    Array.isArray(m.clear) && m.clear.every((key) => (CLEARABLE_FIELDS as readonly unknown[]).includes(key));
  if (typeof m.channelId !== 'string' || typeof m.plan !== 'string' || typeof m.allowEnable !== 'boolean')
    return null;
  if (!fieldsOk || !clearOk) return null;
  return {
    channelId: m.channelId,
    fields: m.fields as ConfirmMetadata['fields'],
    clear: m.clear as ProfileField[],
    allowEnable: m.allowEnable,
    plan: m.plan,
  };
}

const codeOf = (text: string): string => `\`${escapeTruncate(oneLine(text), 200)}\``;

function userLine(user: PlannedUser): string {
  const name = user.email ?? user.username ?? user.id ?? 'the user';
  return `${codeOf(name)}${user.id && user.id !== name ? ` (id ${codeOf(user.id)})` : ''}`;
}

/** The plan's blocks and whether Confirm has anything to carry out. */
function confirmBody(plan: CommandPlan): { blocks: KnownBlock[]; submit: string | null } {
  switch (plan.kind) {
    case 'change':
      return {
        blocks: [
          section(`*Update* ${userLine(plan.user)}: exactly these changes are sent.`),
          changesSection(plan.changes),
          ...(plan.takesOver
            ? [
                context(
                  ':lock: This hands the account over (it re-enables it or changes how one signs in): Confirm posts an approval request, and a second person must approve it.',
                ),
              ]
            : []),
        ],
        submit: plan.takesOver ? 'Request approval' : 'Confirm',
      };
    case 'create': {
      const userName = plan.changes.find((change) => change.attribute === 'userName')?.after ?? '';
      return {
        blocks: [
          section(`No user matches: Confirm *creates* ${codeOf(userName)}.`),
          changesSection(plan.changes),
        ],
        submit: 'Confirm',
      };
    }
    case 'no-change':
      return {
        blocks: [
          section(`*No change: nothing will be sent.* ${userLine(plan.user)} already has these values.`),
        ],
        submit: null,
      };
    case 'skip':
      return {
        blocks: [section(`*Nothing will be sent:* ${escapeTruncate(oneLine(plan.reason), 500)}`)],
        submit: null,
      };
    case 'fail':
      return {
        blocks: [
          section(`*Nothing will be sent:* the lookup failed: ${escapeTruncate(oneLine(plan.reason), 500)}`),
        ],
        submit: null,
      };
  }
}

/**
 * The confirmation of an update: the before → after of each attribute that changes (or "No change:
 * nothing will be sent"), with Confirm only when there is something to carry out. `changedSince`: the
 * user changed after the operator looked, and this is the plan found again.
 */
export function updateConfirmView(
  plan: CommandPlan,
  metadata: ConfirmMetadata,
  options: { sandbox: boolean; changedSince?: boolean },
): ModalView {
  const body = confirmBody(plan);
  return {
    type: 'modal',
    callback_id: UPDATE_CONFIRM_CALLBACK_ID,
    private_metadata: JSON.stringify(metadata),
    title: plain('Confirm update', LIMITS.modalTitle),
    ...(body.submit ? { submit: plain(body.submit, LIMITS.modalButton) } : {}),
    close: plain('Back', LIMITS.modalButton),
    blocks: [
      ...(options.sandbox ? [context(SANDBOX_TEXT)] : []),
      ...(options.changedSince
        ? [
            context(
              ':warning: The user changed in Atlassian after you looked, so nothing was sent. Here is what Confirm does now.',
            ),
          ]
        : []),
      ...body.blocks,
    ],
  };
}

/**
 * Pushed at once when Atlassian is slow to answer the lookup (Slack wants the answer within 3 s); the
 * confirmation replaces it (views.update by `external_id`) as soon as the lookup is done.
 */
export function confirmLoadingView(externalId: string, options: { sandbox: boolean }): ModalView {
  return {
    type: 'modal',
    callback_id: UPDATE_CONFIRM_CALLBACK_ID,
    external_id: externalId,
    title: plain('Confirm update', LIMITS.modalTitle),
    close: plain('Back', LIMITS.modalButton),
    blocks: [
      ...(options.sandbox ? [context(SANDBOX_TEXT)] : []),
      section('Looking the user up in Atlassian… Nothing has been sent.'),
    ],
  };
}

/** A confirmation replaced by a notice (e.g. Slack delivered the Confirm twice): no Confirm button. */
export function confirmNoticeView(text: string, options: { sandbox: boolean }): ModalView {
  return {
    type: 'modal',
    callback_id: UPDATE_CONFIRM_CALLBACK_ID,
    title: plain('Confirm update', LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalButton),
    blocks: [...(options.sandbox ? [context(SANDBOX_TEXT)] : []), section(escapeTruncate(text, 2000))],
  };
}
