import { parseAllowEnable, parseUserProfile, ProfileError, type UserProfile } from './iam';

/**
 * The --user-profile and --allow-enable of a profile command, checked: --allow-enable only on create and
 * update, a profile always. Shared by the commands and their --dry-run.
 */
export function readProfileInput(
  command: string,
  profileText: string | undefined,
  allowEnableText: string | undefined,
): { profile: UserProfile; allowEnable: boolean } {
  const writes = command === 'iam-create-user' || command === 'iam-update-user';
  if (allowEnableText !== undefined && !writes) {
    throw new ProfileError('--allow-enable applies to iam-create-user and iam-update-user only');
  }
  if (profileText === undefined) {
    throw new ProfileError(
      `${command} needs --user-profile, e.g. --user-profile '{"email":"jane@example.com"}'`,
    );
  }
  return { profile: parseUserProfile(profileText), allowEnable: parseAllowEnable(allowEnableText) };
}
