import type { InputBlock } from '@slack/types';
import type { CommandPlan } from '../../../src/iam';
import {
  PROFILE_FIELDS,
  readConfirmMetadata,
  readModalMetadata,
  readModalValues,
  updateConfirmView,
  userModal,
  validateModalValues,
  type ModalStateValues,
} from '../../../src/views/slack';
import { checkViewLimits } from '../../support/block-kit-limits';
import { allStrings } from './helpers';

const inputs = (blocks: unknown[]): InputBlock[] =>
  blocks.filter((block): block is InputBlock => (block as { type: string }).type === 'input');

describe('userModal', () => {
  it('create: callback id, title, inputs keyed by profile key with action_id value', () => {
    const view = userModal('create', { channelId: 'C1', sandbox: false });
    expect(view.callback_id).toBe('iam_create_user');
    expect(view.title.text).toBe('Create Atlassian user');
    expect(view.submit?.text).toBe('Create');
    expect(JSON.parse(view.private_metadata ?? '')).toEqual({ channelId: 'C1' });
    const blocks = inputs(view.blocks);
    expect(blocks.map((b) => b.block_id)).toEqual([...PROFILE_FIELDS]);
    expect(PROFILE_FIELDS).toEqual([
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
    ]);
    for (const block of blocks) {
      const type = block.block_id === 'email' ? 'email_text_input' : 'plain_text_input';
      expect(block.element).toMatchObject({ type, action_id: 'value' });
      expect(block.optional ?? false).toBe(block.block_id !== 'email');
    }
    expect(checkViewLimits(view)).toEqual([]);
  });

  it('update: prefilled values, email required, allow_enable checked by default', () => {
    const view = userModal('update', {
      channelId: 'C1',
      sandbox: false,
      initial: { email: 'jane@example.com', title: 'Lead', department: '' },
    });
    expect(view.callback_id).toBe('iam_update_user');
    expect(view.title.text).toBe('Update Atlassian user');
    expect(view.submit?.text).toBe('Update');
    const blocks = inputs(view.blocks);
    expect(blocks.map((b) => b.block_id)).toEqual([...PROFILE_FIELDS, 'clear', 'allow_enable']);
    const byId = Object.fromEntries(blocks.map((b) => [b.block_id, b]));
    expect(byId.email.optional ?? false).toBe(false);
    expect(byId.email.element).toMatchObject({
      type: 'email_text_input',
      initial_value: 'jane@example.com',
    });
    expect(byId.title.element).toMatchObject({ initial_value: 'Lead' });
    expect(byId.department.element).not.toHaveProperty('initial_value');
    expect(byId.allow_enable.element).toMatchObject({
      type: 'checkboxes',
      action_id: 'value',
      initial_options: [{ value: 'true' }],
    });
    expect(checkViewLimits(view)).toEqual([]);
  });

  it('update modal can clear a field: a "Clear these fields" checkbox per attribute but email and username', () => {
    const update = inputs(userModal('update', { channelId: 'C1', sandbox: false }).blocks);
    const clear = update.find((b) => b.block_id === 'clear');
    expect(clear?.label.text).toBe('Clear these fields');
    expect(clear?.optional).toBe(true);
    expect(clear?.element).toMatchObject({ type: 'checkboxes', action_id: 'value' });
    const options = (clear?.element as { options: { value: string }[] }).options.map((o) => o.value);
    expect(options).toEqual(PROFILE_FIELDS.filter((f) => f !== 'email' && f !== 'username'));
    const create = inputs(userModal('create', { channelId: 'C1', sandbox: false }).blocks);
    expect(create.map((b) => b.block_id)).not.toContain('clear');
  });

  it('does not prefill a value longer than the input holds (it would be written back cut)', () => {
    const view = userModal('update', {
      channelId: 'C1',
      sandbox: false,
      initial: { title: 'x'.repeat(10_000) },
    });
    const title = inputs(view.blocks).find((b) => b.block_id === 'title');
    expect(title?.element).not.toHaveProperty('initial_value');
    expect(title?.hint?.text).toContain('too long');
    expect(checkViewLimits(view)).toEqual([]);
  });

  it('says SANDBOX only in sandbox mode', () => {
    expect(allStrings(userModal('create', { channelId: 'C1', sandbox: true })).join()).toContain('SANDBOX');
    expect(allStrings(userModal('create', { channelId: 'C1', sandbox: false })).join()).not.toContain(
      'SANDBOX',
    );
  });

  it('round-trips the channel through private_metadata', () => {
    expect(
      readModalMetadata(userModal('create', { channelId: 'C9', sandbox: false }).private_metadata),
    ).toEqual({
      channelId: 'C9',
    });
    expect(readModalMetadata('nope')).toBeNull();
    expect(readModalMetadata(undefined)).toBeNull();
  });
});

describe('readModalValues', () => {
  const state = (values: Record<string, string | null>, allow?: string[]): ModalStateValues => ({
    ...Object.fromEntries(
      Object.entries(values).map(([key, value]) => [key, { value: { type: 'plain_text_input', value } }]),
    ),
    ...(allow
      ? {
          allow_enable: { value: { type: 'checkboxes', selected_options: allow.map((v) => ({ value: v })) } },
        }
      : {}),
  });

  it('keeps the non-empty, trimmed profile fields', () => {
    const values = readModalValues(
      state({ email: ' jane@example.com ', title: '', department: null, surname: 'Doe', other: 'x' }),
    );
    expect(values).toEqual({
      fields: { email: 'jane@example.com', surname: 'Doe' },
      clear: [],
      allowEnable: true,
    });
  });

  it('reads the fields to clear; a ticked field is cleared whatever its input holds', () => {
    const values = readModalValues({
      ...state({ email: 'jane@example.com', title: 'Lead', surname: 'Doe' }),
      clear: {
        value: {
          type: 'checkboxes',
          selected_options: [{ value: 'title' }, { value: 'department' }, { value: 'email' }],
        },
      },
    });
    expect(values.clear).toEqual(['title', 'department']);
    expect(values.fields).toEqual({ email: 'jane@example.com', surname: 'Doe' });
  });

  it('reads allow_enable from the checkbox', () => {
    expect(readModalValues(state({ email: 'a@b.co' }, ['true'])).allowEnable).toBe(true);
    expect(readModalValues(state({ email: 'a@b.co' }, [])).allowEnable).toBe(false);
  });
});

describe('validateModalValues', () => {
  const check = (fields: Record<string, string>, kind: 'create' | 'update' = 'create') =>
    validateModalValues({ fields, clear: [], allowEnable: true }, kind);

  it('accepts a good submission', () => {
    expect(check({ email: 'jane@example.com', username: 'jane' })).toEqual({});
    expect(check({ email: 'jane@example.com' }, 'update')).toEqual({});
  });

  it('requires an email that looks like one, on create and update', () => {
    expect(check({})).toHaveProperty('email');
    expect(check({}, 'update')).toHaveProperty('email');
    expect(check({ email: 'jane' })).toHaveProperty('email');
    expect(check({ email: 'jane@example' })).toHaveProperty('email');
    // The one email shape of src/scim/value-rules.ts, which the slash commands and the CLI also apply.
    expect(check({ email: '<jane@example.com>' })).toHaveProperty('email');
  });

  it('refuses a username with spaces and any field over 256 characters', () => {
    expect(check({ email: 'jane@example.com', username: 'jane doe' })).toEqual({
      username: expect.stringContaining('spaces'),
    });
    expect(check({ email: 'jane@example.com', title: 'x'.repeat(257) })).toEqual({
      title: expect.stringContaining('256'),
    });
    expect(check({ email: 'jane@example.com', title: 'x'.repeat(256) })).toEqual({});
  });
});

describe('updateConfirmView (the update modal’s confirmation)', () => {
  const user = { id: 'u-1', email: 'jane@example.com', username: 'jane@example.com' };
  const metadata = {
    channelId: 'C1',
    fields: { email: 'jane@example.com', title: 'Lead' },
    clear: [],
    allowEnable: true,
    plan: 'fp',
  };
  const text = (view: { blocks: unknown[] }) => JSON.stringify(view.blocks);

  it('a change: each attribute before → after, Confirm, Back, and the form in private_metadata', () => {
    const plan: CommandPlan = {
      command: 'iam-update-user',
      kind: 'change',
      user,
      changes: [{ attribute: 'title', before: 'Engineer', after: 'Lead' }],
      takesOver: false,
    };
    const view = updateConfirmView(plan, metadata, { sandbox: false });
    expect(view.callback_id).toBe('iam_update_confirm');
    expect(view.submit?.text).toBe('Confirm');
    expect(view.close?.text).toBe('Back');
    expect(text(view)).toContain('`title`: `Engineer` → `Lead`');
    expect(readConfirmMetadata(view.private_metadata)).toEqual(metadata);
    expect(checkViewLimits(view)).toEqual([]);
  });

  it('no change: "No change: nothing will be sent" and no Confirm button', () => {
    const view = updateConfirmView({ command: 'iam-update-user', kind: 'no-change', user }, metadata, {
      sandbox: true,
    });
    expect(text(view)).toContain('No change: nothing will be sent.');
    expect(text(view)).toContain('SANDBOX');
    expect(view.submit).toBeUndefined();
  });

  it('a take-over says an approval is asked for and its button says so', () => {
    const plan: CommandPlan = {
      command: 'iam-update-user',
      kind: 'change',
      user,
      changes: [{ attribute: 'emails', before: 'jane@example.com', after: 'eve@example.com' }],
      takesOver: true,
    };
    const view = updateConfirmView(plan, metadata, { sandbox: false, changedSince: true });
    expect(view.submit?.text).toBe('Request approval');
    expect(text(view)).toContain('second person must approve');
    expect(text(view)).toContain('changed in Atlassian after you looked');
  });

  it('readConfirmMetadata refuses malformed or foreign metadata', () => {
    expect(readConfirmMetadata('garbage{')).toBeNull();
    expect(readConfirmMetadata(JSON.stringify({ ...metadata, plan: 1 }))).toBeNull();
    expect(readConfirmMetadata(JSON.stringify({ ...metadata, fields: { active: 'false' } }))).toBeNull();
    expect(readConfirmMetadata(JSON.stringify({ ...metadata, clear: ['email'] }))).toBeNull();
  });
});
