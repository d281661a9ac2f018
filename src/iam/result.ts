import type { ScimUser } from '../scim/types';
import type { UserProfile } from './profile';

export const BRAND = 'Atlassian IAM';

export type IamAction =
  'create' | 'update' | 'get' | 'disable' | 'enable' | 'add-to-group' | 'remove-from-group' | 'get-groups';

/** A group as results name it. */
export interface GroupSummary {
  id: string;
  displayName: string;
}

/** The XSOAR `IAM.Vendor` fields; group results also name the group (`group`) or list groups (`groups`). */
export interface VendorResult {
  action: IamAction;
  active: boolean | null;
  brand: typeof BRAND;
  details: ScimUser | null;
  email: string | null;
  errorCode: number | null;
  errorMessage: string | null;
  id: string | null;
  instanceName: string;
  reason: string | null;
  skipped: boolean;
  success: boolean;
  username: string | null;
  group?: string;
  groups?: GroupSummary[];
}

export interface IamResult {
  IAM: { Vendor: VendorResult; UserProfile: UserProfile };
}

/** How a command ended, as audit rows, Slack and the CLI name it. */
export type Outcome = 'success' | 'skipped' | 'failure';

export function outcomeOf(vendor: VendorResult): Outcome {
  if (!vendor.success) return 'failure';
  return vendor.skipped ? 'skipped' : 'success';
}

/** A result as its audit row keeps it; a group command's also names the group in `group` (filterable). */
export const resultDetail = (result: IamResult): Record<string, unknown> => ({
  ...(result as unknown as Record<string, unknown>),
  ...(result.IAM.Vendor.group === undefined ? {} : { group: result.IAM.Vendor.group }),
});

export const SKIP_REASONS = {
  disabled: 'Command is disabled.',
  notFound: 'User does not exist',
  alreadyDisabled: 'User is already disabled.',
  alreadyEnabled: 'User is already enabled.',
  alreadyMember: 'User is already a member.',
  notMember: 'User is not a member.',
} as const;

/**
 * A change carried out again after our own attempt at it was cut short (a crash, a kill, a timeout): a
 * result skipped because the change was found made already (`already`, one of SKIP_REASONS) means that
 * attempt made it, so it reads as done, not as skipped. Any other result is returned as it is.
 */
export function madeByEarlierAttempt(result: IamResult, already: string): IamResult {
  const vendor = result.IAM.Vendor;
  if (!vendor.skipped || vendor.reason !== already) return result;
  return { ...result, IAM: { ...result.IAM, Vendor: { ...vendor, skipped: false, reason: null } } };
}

export function primaryEmail(user: ScimUser): string | null {
  const email = user.emails?.find((e) => e.primary) ?? user.emails?.[0];
  return email?.value ?? null;
}

interface ResultInput {
  action: IamAction;
  instanceName: string;
  profile: UserProfile;
  user?: ScimUser | null;
  success?: boolean;
  skippedReason?: string;
  error?: { status: number | null; message: string };
  active?: boolean | null;
  group?: string;
  groups?: GroupSummary[];
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** Builds the result object; identity fields come from the SCIM user when there is one, else the profile. */
export function buildResult(input: ResultInput): IamResult {
  const user = input.user ?? null;
  const vendor: VendorResult = {
    action: input.action,
    active:
      input.active !== undefined ? input.active : typeof user?.active === 'boolean' ? user.active : null,
    brand: BRAND,
    details: user,
    email: user ? primaryEmail(user) : text(input.profile.email),
    errorCode: input.error?.status ?? null,
    errorMessage: input.error?.message ?? null,
    id: user ? (user.id ?? null) : text(input.profile.id),
    instanceName: input.instanceName,
    reason: input.skippedReason ?? null,
    skipped: input.skippedReason !== undefined,
    success: input.error === undefined && (input.success ?? true),
    username: user ? (user.userName ?? null) : (text(input.profile.username) ?? text(input.profile.email)),
    ...(input.group === undefined ? {} : { group: input.group }),
    ...(input.groups === undefined ? {} : { groups: input.groups }),
  };
  return { IAM: { Vendor: vendor, UserProfile: input.profile } };
}
