/**
 * The command vocabulary, said once: the names the command line, bulk and Slack share, and the one
 * name → function dispatch they all call.
 */
import { disableUser, enableUser, getUser, type IamContext, updateUser, type WriteOptions } from './commands';
import { addToGroup, createUserInGroups, getGroups, removeFromGroup } from './groups';
import { ProfileError, type UserProfile } from './profile';
import type { IamResult } from './result';

/** The commands about one user profile: `/iam-…` in Slack, `atlassian-iam iam-…`, bulk's operations. */
export const PROFILE_COMMANDS = [
  'iam-create-user',
  'iam-update-user',
  'iam-get-user',
  'iam-disable-user',
  'iam-enable-user',
] as const;
export type ProfileCommand = (typeof PROFILE_COMMANDS)[number];

export const GROUP_COMMANDS = ['iam-get-groups', 'iam-add-to-group', 'iam-remove-from-group'] as const;
export type GroupCommand = (typeof GROUP_COMMANDS)[number];

/** Slack's group-access commands (no CLI form): a grant asked for, approved like a disable, and a revocation. */
export type AccessCommand = 'iam-grant' | 'iam-revoke';

/** Every command an installation carries out, as help texts and audit rows name it. */
export type CommandName =
  ProfileCommand | GroupCommand | 'test-module' | 'get-mapping-fields' | 'run-scheduled';

export const isProfileCommand = (name: string): name is ProfileCommand =>
  (PROFILE_COMMANDS as readonly string[]).includes(name);

export const isGroupCommand = (name: string): name is GroupCommand =>
  (GROUP_COMMANDS as readonly string[]).includes(name);

export interface CommandOptions extends Partial<WriteOptions> {
  /** The group of iam-add-to-group and iam-remove-from-group. */
  group?: string;
}

/**
 * Runs one command on a user (iam-get-groups without a profile lists every group). A command that
 * needs a profile and gets none throws ProfileError; nothing is sent.
 */
export function runCommand(
  name: ProfileCommand | GroupCommand,
  context: IamContext,
  profile: UserProfile | undefined,
  options: CommandOptions = {},
): Promise<IamResult> {
  if (name === 'iam-get-groups') return getGroups(context, profile);
  if (profile === undefined) return Promise.reject(new ProfileError(`${name} needs a user profile`));
  const writeOptions = { allowEnable: options.allowEnable ?? false, clear: options.clear };
  switch (name) {
    case 'iam-create-user':
      return createUserInGroups(context, profile, writeOptions);
    case 'iam-update-user':
      return updateUser(context, profile, writeOptions);
    case 'iam-get-user':
      return getUser(context, profile);
    case 'iam-disable-user':
      return disableUser(context, profile);
    case 'iam-enable-user':
      return enableUser(context, profile);
    case 'iam-add-to-group':
      return addToGroup(context, profile, options.group);
    case 'iam-remove-from-group':
      return removeFromGroup(context, profile, options.group);
  }
}
