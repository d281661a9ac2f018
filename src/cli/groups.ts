/** The CLI's group commands: iam-get-groups, iam-add-to-group, iam-remove-from-group. */
import { profileArgument } from './args';
import type { CliAudit } from './audit-trail';
import {
  addToGroup,
  getGroups,
  type IamContext,
  type IamResult,
  parseUserProfile,
  ProfileError,
  removeFromGroup,
  type UserProfile,
} from '../iam';

export const GROUP_COMMANDS = ['iam-get-groups', 'iam-add-to-group', 'iam-remove-from-group'] as const;
export type GroupCommand = (typeof GROUP_COMMANDS)[number];

export function isGroupCommand(command: string): command is GroupCommand {
  return (GROUP_COMMANDS as readonly string[]).includes(command);
}

export interface GroupInvocation {
  command: GroupCommand;
  profileText?: string;
  allowEnable?: string;
  group?: string;
}

/** Checks the arguments (bad input sends nothing), then runs the command between its two audit rows. */
export async function runGroupCommand(
  context: IamContext,
  invocation: GroupInvocation,
  openAudit: () => Promise<CliAudit>,
): Promise<IamResult> {
  const { command, group } = invocation;
  if (invocation.allowEnable !== undefined) {
    throw new ProfileError('--allow-enable applies to iam-create-user and iam-update-user only');
  }
  let profile: UserProfile | undefined;
  if (command === 'iam-get-groups') {
    if (group !== undefined) throw new ProfileError('iam-get-groups takes no --group');
    if (invocation.profileText !== undefined)
      profile = parseUserProfile(profileArgument(invocation.profileText));
  } else {
    if (invocation.profileText === undefined) {
      throw new ProfileError(
        `${command} needs --user-profile and --group, e.g. --user-profile jane@example.com --group jira-software-users`,
      );
    }
    if (group === undefined || group.trim() === '') {
      throw new ProfileError(`${command} needs --group NAME, e.g. --group jira-software-users`);
    }
    profile = parseUserProfile(profileArgument(invocation.profileText));
  }
  const execute = (): Promise<IamResult> => {
    switch (command) {
      case 'iam-get-groups':
        return getGroups(context, profile);
      case 'iam-add-to-group':
        return addToGroup(context, profile ?? {}, group);
      case 'iam-remove-from-group':
        return removeFromGroup(context, profile ?? {}, group);
    }
  };
  const audited = profile ?? {};
  const detail = group === undefined ? null : { group: group.trim() };
  const audit = await openAudit();
  try {
    await audit.command(command, audited, detail);
    const result = await execute();
    await audit.result(command, audited, result);
    return result;
  } finally {
    await audit.close();
  }
}
