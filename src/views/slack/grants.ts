/** Grants of group access: the DM to the person who got access, and the thread line when a grant ends. */
import { section, sandboxContext, sandboxPrefix } from './blocks';
import { escapeTruncate, mention, oneLine, slackDate } from './escape';
import type { SlackMessage } from './limits';

/** What these messages need of a stored grant (src/store/grants.ts). */
export interface GrantFacts {
  target: string;
  groupName: string;
  endsAt: Date | null;
}

export type GrantEnd = 'expired' | 'revoked' | 'done';

const code = (text: string, max: number): string => `\`${escapeTruncate(oneLine(text), max)}\``;

function message(line: string, sandbox: boolean): SlackMessage {
  return {
    text: `${sandboxPrefix(sandbox)}${line}`,
    blocks: [section(line), ...(sandbox ? [sandboxContext()] : [])],
  };
}

/** The DM to the person who got access: which group, until when, how to end it sooner. */
export function granteeMessage(grant: GrantFacts, grantedBy: string, sandbox: boolean): SlackMessage {
  const until = grant.endsAt ? `until ${slackDate(grant.endsAt)}` : 'until it is revoked';
  const line =
    `🔓 You have access to ${code(grant.groupName, 300)} (as ${code(grant.target, 300)}) ${until}, ` +
    `approved by ${mention(grantedBy)}. Done early? \`/iam-revoke me ${escapeTruncate(oneLine(grant.groupName), 300)}\`.`;
  return message(line, sandbox);
}

const ENDED: Record<GrantEnd, (by: string) => string> = {
  expired: () => 'its time is up',
  revoked: (by) => `revoked by ${mention(by)}`,
  done: (by) => `${mention(by)} is done with it`,
};

/** In the grant's thread (and to its holder) when it ends. */
export function grantEndedMessage(
  grant: GrantFacts,
  reason: GrantEnd,
  by: string,
  sandbox: boolean,
): SlackMessage {
  const line = `🔒 Access of ${code(grant.target, 300)} to ${code(grant.groupName, 300)} ended: ${ENDED[reason](by)}.`;
  return message(line, sandbox);
}
