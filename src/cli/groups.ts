/** The CLI's group commands: iam-get-groups, iam-add-to-group, iam-remove-from-group. */
import { profileArgument } from './args';
import { auditedRun, type CliAudit } from './audit-trail';
import {
  type GroupCommand,
  type IamContext,
  type IamResult,
  parseUserProfile,
  ProfileError,
  runCommand,
  type UserProfile,
} from '../iam';

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
  const detail = group === undefined ? null : { group: group.trim() };
  return auditedRun(openAudit, command, profile ?? {}, detail, () =>
    runCommand(command, context, profile, { group }),
  );
}
