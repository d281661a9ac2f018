/**
 * Grants on the App Home tab: everyone sees their own access with its end; operators and approvers
 * also see every grant ending within a day.
 */
import type { KnownBlock } from '@slack/types';
import { context, header, section } from './blocks';
import { escapeTruncate, mention, oneLine, slackDate } from './escape';

/** What the Home tab shows of a stored grant (src/store/grants.ts). */
export interface HomeGrant {
  target: string;
  groupName: string;
  endsAt: Date | null;
  slackUserId: string | null;
}

/** Grants listed one by one; the rest are counted. */
export const HOME_GRANTS_MAX = 20;

const code = (text: string): string => `\`${escapeTruncate(oneLine(text), 300)}\``;
const ends = (grant: HomeGrant): string =>
  grant.endsAt ? `ends ${slackDate(grant.endsAt)}` : 'until it is revoked';

function listed(grants: readonly HomeGrant[], line: (grant: HomeGrant) => string): KnownBlock[] {
  const blocks: KnownBlock[] = grants.slice(0, HOME_GRANTS_MAX).map((grant) => section(line(grant)));
  const more = grants.length - HOME_GRANTS_MAX;
  return more > 0 ? [...blocks, context(`…and ${more} more.`)] : blocks;
}

/** Group names named one by one in a sentence; the rest are counted. */
const GROUP_NAMES_MAX = 10;

/** `"a", "b" and 3 more`: the groups a member may ask for, as a sentence names them (unescaped). */
export function groupList(names: readonly string[]): string {
  const named = names.slice(0, GROUP_NAMES_MAX).map((name) => `"${name}"`);
  const more = names.length - named.length;
  return more > 0 ? `${named.join(', ')} and ${more} more` : named.join(', ');
}

/** "Your access": the viewer's own active grants, soonest end first. */
export function ownGrantsBlocks(grants: readonly HomeGrant[]): KnownBlock[] {
  if (grants.length === 0) {
    return [header('Your access (0)'), section('You have no group access given through this app.')];
  }
  return [
    header(`Your access (${grants.length})`),
    ...listed(grants, (grant) => `*${code(grant.groupName)}* as ${code(grant.target)} · ${ends(grant)}`),
    context('Done early? `/iam-revoke me GROUP`. Before the end you get a DM with Extend and I’m done.'),
  ];
}

/** Operators and approvers: every grant ending within a day, soonest first. */
export function endingGrantsBlocks(grants: readonly HomeGrant[]): KnownBlock[] {
  const title = header(`Grants ending within a day (${grants.length})`);
  if (grants.length === 0) return [title, section('No grant ends within the next 24 hours.')];
  return [
    title,
    ...listed(
      grants,
      (grant) =>
        `${code(grant.target)} in *${code(grant.groupName)}*` +
        `${grant.slackUserId ? ` (${mention(grant.slackUserId)})` : ''} · ${ends(grant)}`,
    ),
  ];
}
