/**
 * /iam-grant and its modal: who asks for which group, for whom and how long, checked against the
 * policy, then an approval request of action `grant` (approved like a disable; see approvals.ts and
 * grants.ts). Operators ask for anyone; any member of the workspace asks for themselves, for the
 * groups a grant rule lists `members` for (docs/GROUPS.md). Bad input changes nothing.
 */
import type { WebClient } from '@slack/web-api';
import {
  decideMembership,
  GroupCommandError,
  type MembershipDecision,
  pinUser,
  previewMembership,
  ProfileError,
  SKIP_REASONS,
  targetOf,
  type UserProfile,
} from '../iam';
import { ScimRequestError } from '../scim/errors';
import type { ScimGroup, ScimUser } from '../scim/types';
import { type EffectiveRule, formatPolicyDuration, policyFor } from '../policy';
import { groupList, refusalMessage } from '../views/slack';
import type { AccessRequestText, AccessUser } from './access-text';
import { type ApprovalInput, requestApproval } from './approvals';
import { AccessRefusal, audit, auditDone, type BotContext } from './context';
import { postMessage, tellEphemeral } from './posting';

/** The email of a Slack user's profile (users:read.email), or null when Slack shows none. */
async function slackEmail(client: WebClient, userId: string): Promise<string | null> {
  const answer = await client.users.info({ user: userId });
  return answer.user?.profile?.email ?? null;
}

/** The Slack user with this email (users.lookupByEmail), or null when there is none or Slack will not say. */
async function slackIdOf(client: WebClient, email: string): Promise<string | null> {
  try {
    return (await client.users.lookupByEmail({ email })).user?.id ?? null;
  } catch {
    return null;
  }
}

export interface ResolvedUser {
  profile: UserProfile;
  /** The Slack user who gets (or has) the access, when known. */
  slackId: string | null;
  /** The person asking is that user. */
  self: boolean;
}

const NO_EMAIL =
  'your Slack profile shows no email, so your Atlassian account cannot be found; ask an operator';

/** Whom `user` names: `me` and @someone through their Slack profile's email, an email as it is. */
export async function resolveAccessUser(
  client: WebClient,
  requesterId: string,
  user: AccessUser,
): Promise<ResolvedUser> {
  if (user.kind === 'email') {
    const own = await slackEmail(client, requesterId).catch(() => null);
    const self = own !== null && own.toLowerCase() === user.email.toLowerCase();
    const slackId = self ? requesterId : await slackIdOf(client, user.email);
    return { profile: { email: user.email }, slackId, self };
  }
  const slackId = user.kind === 'me' ? requesterId : user.slackId;
  const email = await slackEmail(client, slackId);
  if (email === null) {
    throw new ProfileError(
      slackId === requesterId ? NO_EMAIL : `<@${slackId}>'s Slack profile shows no email`,
    );
  }
  return { profile: { email }, slackId, self: slackId === requesterId };
}

type AccessCommandName = '/iam-grant' | '/iam-revoke';

/**
 * Operators ask for anyone; anyone else only as a member of this workspace (guests and unknown ids are
 * refused before anything about them or the person they name is looked up).
 */
export async function accessRole(
  context: BotContext,
  requesterId: string,
  command: AccessCommandName,
): Promise<'operator' | 'member'> {
  if (await context.access.isOperator(requesterId)) return 'operator';
  if (!(await context.access.isMember(requesterId))) {
    throw new AccessRefusal(`Only members of this workspace can use ${command}.`);
  }
  return 'member';
}

/** A member asks (or ends access) only for themselves. */
export function requireSelf(role: 'operator' | 'member', who: ResolvedUser, command: AccessCommandName) {
  if (role === 'member' && !who.self) {
    throw new AccessRefusal(`You can ask only for yourself: ${command} me <group>.`);
  }
}

/** The groups `requesterId` may ask for themselves: those a grant rule lists `members` for. */
export async function requestableGroups(context: BotContext, requesterId: string): Promise<string[]> {
  if (!context.policy.rules.some((rule) => rule.membersMayAsk)) return [];
  return (await context.groupNames()).filter(
    (group) => policyFor(context.policy, { action: 'grant', target: { group }, requesterId }).membersMayAsk,
  );
}

const NO_GROUP_OPEN = 'no group is open to requests from members, so ask an operator';

/** A member asks only for the groups a rule opens to members; refused, they are told which those are. */
async function checkMemberMayAsk(
  context: BotContext,
  rule: EffectiveRule,
  requesterId: string,
  group: string,
) {
  if (rule.membersMayAsk) return;
  const open = await requestableGroups(context, requesterId);
  const which = rule.source === 'file' ? ` (${ruleName(rule)})` : '';
  const instead =
    open.length === 0
      ? NO_GROUP_OPEN
      : `you can ask for ${groupList(open)} (/iam-grant me <group>), or ask an operator`;
  throw new AccessRefusal(`"${group}" is not a group you can ask for yourself${which}: ${instead}.`);
}

const ruleName = (rule: EffectiveRule): string =>
  rule.source === 'file' ? `rule ${rule.number}${rule.name ? ` (${rule.name})` : ''}` : 'the built-in rule';

/** What the rule allows: a reason, the duration; throws what to fix. */
function checkRule(rule: EffectiveRule, wanted: AccessRequestText, group: string) {
  const which = ruleName(rule);
  if (rule.impossible) throw new AccessRefusal(`This grant can never be approved: ${rule.impossible}.`);
  if (rule.reason === 'required' && !wanted.reason) {
    throw new ProfileError(`${which} requires a reason: add reason="…"`);
  }
  const max = rule.maxDurationMs;
  if (max === null) return;
  if (wanted.durationMs === null) {
    throw new ProfileError(
      `${which} gives "${group}" for at most ${formatPolicyDuration(max)}: add for ${formatPolicyDuration(max)} or less`,
    );
  }
  if (wanted.durationMs > max) {
    throw new ProfileError(
      `for ${formatPolicyDuration(wanted.durationMs)} is longer than the ${formatPolicyDuration(max)} ${which} allows for "${group}": ask for ${formatPolicyDuration(max)} or less`,
    );
  }
}

/** An unknown group or user, or a deactivated user, is bad input: told to the typist, nothing posted. */
async function asBadInput<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof GroupCommandError) throw new ProfileError(error.message.replace(/\.$/, ''));
    throw error;
  }
}

/** The group and user as the directory shows them; an unknown group or user, or a deactivated user, is bad input. */
const lookUp = (context: BotContext, profile: UserProfile, group: string) =>
  asBadInput(() => previewMembership(context.iam, profile, group));

/**
 * The group and user a removal names, looked up before its "received" row so that the row can pin them
 * (reconciling a removal cut short looks them up by id). An unknown group is bad input naming the
 * closest groups, as for /iam-grant; null when Atlassian did not answer (the removal itself then fails
 * with the reason).
 */
export async function lookUpRemoval(
  context: BotContext,
  profile: UserProfile,
  group: string,
): Promise<MembershipDecision | null> {
  try {
    return await asBadInput(() => decideMembership(context.iam, 'remove-from-group', profile, group));
  } catch (error) {
    if (error instanceof ProfileError || !(error instanceof ScimRequestError)) throw error;
    return null;
  }
}

/** `{ group }` of the audit rows of a grant command. */
const about = (group: string) => ({ group });

async function alreadyMember(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput,
  found: { user: ScimUser; group: ScimGroup },
  target: string,
) {
  const text = `${target} is already a member of "${found.group.displayName}", so nothing was requested.`;
  await auditDone(context, {
    actor: input.requesterId,
    kind: 'result',
    command: 'iam-grant',
    target,
    outcome: 'skipped',
    requestId: null,
    detail: { reason: SKIP_REASONS.alreadyMember, ...about(found.group.displayName) },
  });
  await tellPrivately(context, client, input, text);
}

/** Tells the requester privately: by response_url, else in a DM. */
async function tellPrivately(context: BotContext, client: WebClient, input: ApprovalInput, text: string) {
  const message = refusalMessage(text, { sandbox: context.sandbox });
  if (input.respond) await tellEphemeral(input.respond, message);
  else await postMessage(client, input.fallbackUserId ?? input.requesterId, message);
}

/**
 * The request itself: the "received" row, the lookup, the rule, then the approval request (its
 * "requested" row and card). Throws ProfileError (bad input) or AccessRefusal; nothing is stored then.
 */
export async function requestGrant(
  context: BotContext,
  client: WebClient,
  input: ApprovalInput,
  wanted: AccessRequestText,
): Promise<void> {
  const role = await accessRole(context, input.requesterId, '/iam-grant');
  if (role === 'member' && !context.policy.rules.some((rule) => rule.membersMayAsk)) {
    // Said before any lookup: the directory is not asked about anyone for a request that cannot be made.
    throw new AccessRefusal(`"${wanted.group}" is not a group you can ask for yourself: ${NO_GROUP_OPEN}.`);
  }
  const who = await resolveAccessUser(client, input.requesterId, wanted.user);
  requireSelf(role, who, '/iam-grant');
  const target = targetOf(who.profile);
  const row = { actor: input.requesterId, command: 'iam-grant', target, requestId: null };
  await audit(context, { ...row, kind: 'command', outcome: 'received', detail: about(wanted.group) });
  try {
    const found = await lookUp(context, who.profile, wanted.group);
    if (found.member) return alreadyMember(context, client, input, found, target);
    const rule = policyFor(context.policy, {
      action: 'grant',
      target: {
        email: pinUser(found.user).email,
        username: found.user.userName,
        group: found.group.displayName,
      },
      requesterId: input.requesterId,
    });
    if (role === 'member') await checkMemberMayAsk(context, rule, input.requesterId, found.group.displayName);
    checkRule(rule, wanted, found.group.displayName);
    const profile = {
      ...pinUser(found.user),
      group: { id: found.group.id, displayName: found.group.displayName },
      durationMs: wanted.durationMs,
      grantee: who.slackId,
    };
    await requestApproval(
      context,
      client,
      { ...input, reason: wanted.reason },
      { action: 'grant', profile },
      found.user,
      rule,
    );
  } catch (error) {
    // A refusal gets its own row where it is told (see the listeners); bad input and lookups get this one.
    if (!(error instanceof ProfileError || error instanceof ScimRequestError)) throw error;
    const detail = { reason: error.message, ...about(wanted.group) };
    await auditDone(context, { ...row, kind: 'result', outcome: 'rejected', detail });
    throw error;
  }
}
