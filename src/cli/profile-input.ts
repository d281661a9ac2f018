import { profileArgument } from './args';
import {
  BUILT_IN_OUTGOING,
  type Mapper,
  mapperSourceKeys,
  parseAllowEnable,
  parseUserProfile,
  ProfileError,
  type UserProfile,
} from '../iam';

export interface ProfileInput {
  profile: UserProfile;
  allowEnable: boolean;
}

/**
 * The --user-profile and --allow-enable of a profile command, checked: --allow-enable only on create and
 * update, a profile always (a JSON object, or a bare email). The keys `outgoing` (the mapper) reads are
 * profile keys too. Shared by the commands and their --dry-run.
 */
export function readProfileInput(
  command: string,
  profileText: string | undefined,
  allowEnableText: string | undefined,
  outgoing: Mapper = BUILT_IN_OUTGOING,
): ProfileInput {
  const writes = command === 'iam-create-user' || command === 'iam-update-user';
  if (allowEnableText !== undefined && !writes) {
    throw new ProfileError('--allow-enable applies to iam-create-user and iam-update-user only');
  }
  if (profileText === undefined) {
    throw new ProfileError(
      `${command} needs --user-profile, e.g. --user-profile jane@example.com or --user-profile '{"email":"jane@example.com"}'; run atlassian-iam ${command} --help`,
    );
  }
  const profile = parseUserProfile(profileArgument(profileText), { mapperKeys: mapperSourceKeys(outgoing) });
  return { profile, allowEnable: parseAllowEnable(allowEnableText) };
}
