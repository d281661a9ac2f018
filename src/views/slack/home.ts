/**
 * The App Home tab. Operators and approvers see connection, directory (SANDBOX or production), their
 * permissions and the pending disables; anyone else sees only what the bot is for (restrictedHomeView).
 */
import type { HomeView, KnownBlock } from '@slack/types';
import type { ConnectionStatus } from '../../iam/directory-info';
import type { ApprovalCard } from './approval';
import { context, divider, header, SANDBOX_TEXT, sandboxContext, section } from './blocks';
import { escapeTruncate, mention, oneLine, slackDate } from './escape';
import { endingGrantsBlocks, groupList, type HomeGrant, ownGrantsBlocks } from './grants-home';
import { scheduledHomeBlocks } from './schedule';

export interface HomeViewer {
  userId: string;
  /** May run the iam-* commands. */
  operator: boolean;
  /** May approve disables. */
  approver: boolean;
}

export interface HomeInput {
  /** test-module's answer, or 'unchecked' when it has not run yet. */
  connection: ConnectionStatus | 'unchecked';
  sandbox: boolean;
  instanceName: string;
  viewer: HomeViewer;
  /** Pending disable requests, oldest first. */
  pending: ApprovalCard[];
  /** Scheduled requests still to run, soonest first (each with a Cancel button). */
  scheduled?: ApprovalCard[];
  /** The viewer's own active grants, and every grant ending within a day; soonest end first. */
  grants?: { own: HomeGrant[]; endingSoon: HomeGrant[] };
}

/** Pending requests listed one by one; the rest are counted. */
export const HOME_PENDING_MAX = 20;

function connectionText(connection: HomeInput['connection']): string {
  if (connection === 'unchecked') return '⏳ Not checked yet.';
  if (connection.ok) return '✅ Connected: the directory answers.';
  const status = connection.status === null ? '' : ` (HTTP ${connection.status})`;
  return `❌ Not connected${status}: ${escapeTruncate(oneLine(connection.message), 2000)}`;
}

function pendingLine(card: ApprovalCard): string {
  const reason =
    card.reason && card.reason.trim() !== '' ? `\n>${escapeTruncate(oneLine(card.reason.trim()), 300)}` : '';
  // The header says disable requests; an enable or update request says what it is.
  const action = card.action && card.action !== 'disable' ? `${card.action} ` : '';
  return (
    `${action}*\`${escapeTruncate(oneLine(card.target), 300)}\`* · asked by ${mention(card.requesterId)} ` +
    `${slackDate(card.createdAt)} · expires ${slackDate(card.expiresAt)}${reason}`
  );
}

/** Why the viewer sees the restricted Home tab: no role here, or Slack could not say. */
export type RestrictedReason = 'no-permissions' | 'unchecked';

/**
 * What the viewer may do here: ask for the groups open to members (null: open to them, but the
 * directory could not list them just now), else nothing.
 */
function restrictedWhy(reason: RestrictedReason, requestable: readonly string[] | null = []): string {
  if (reason === 'unchecked') {
    return '⏳ Could not check your permissions with Slack just now, so nothing else is shown. Open this tab again in a minute.';
  }
  const how = 'an approver decides, and you are told by DM.';
  if (requestable === null) {
    return `🙋 You can ask for access to some groups: type \`/iam-grant\` and pick one in the form; ${how}`;
  }
  if (requestable.length > 0) {
    const groups = escapeTruncate(groupList(requestable), 2000);
    return `🙋 You can ask for access to ${groups}: type \`/iam-grant me &lt;group&gt; for 8h\` (or \`/iam-grant\` for a form); ${how}`;
  }
  return '🚫 You have no permissions for this app: you are neither an operator nor an approver. Ask your Slack admins if you need to be.';
}

/**
 * The Home tab for someone who is neither operator nor approver, or whose permissions could not be
 * checked: what the bot does and why nothing else is shown. No request, reason, user or directory data.
 */
export function restrictedHomeView(
  reason: RestrictedReason,
  options: { sandbox: boolean; ownGrants?: HomeGrant[]; requestable?: readonly string[] | null },
): HomeView {
  const blocks: KnownBlock[] = [
    header('Atlassian IAM'),
    section(
      'This app lets IT operators create, update, look up, disable and enable Atlassian accounts from ' +
        'Slack. A disable is carried out only after a second person approves it.',
    ),
    section(restrictedWhy(reason, options.requestable)),
    ...(options.ownGrants && options.ownGrants.length > 0
      ? [divider(), ...ownGrantsBlocks(options.ownGrants)]
      : []),
    ...(options.sandbox ? [sandboxContext()] : []),
  ];
  return { type: 'home', blocks };
}

/** The Home tab view for an operator or approver. */
export function homeView(input: HomeInput): HomeView {
  const { viewer } = input;
  const yes = (allowed: boolean): string => (allowed ? '✅' : '🚫');
  const directory = input.sandbox
    ? SANDBOX_TEXT
    : '🏢 *Production*: the real Atlassian organisation of this workspace.';
  const blocks: KnownBlock[] = [
    header('Atlassian IAM'),
    section(`*Connection*\n${connectionText(input.connection)}`),
    section(`*Directory*\n${directory}\nInstance \`${escapeTruncate(oneLine(input.instanceName), 200)}\``),
    section(
      `*Your permissions* (${mention(viewer.userId)})\n` +
        `${yes(viewer.operator)} run commands (\`/iam-create-user\`, \`/iam-update-user\`, \`/iam-get-user\`, ` +
        `\`/iam-disable-user\`, \`/iam-enable-user\`)\n` +
        `${yes(viewer.approver)} approve disable requests (never your own)`,
    ),
    divider(),
    header(`Pending disable requests (${input.pending.length})`),
  ];
  if (input.pending.length === 0) {
    blocks.push(section('No disable request is waiting for a decision.'));
  } else {
    for (const card of input.pending.slice(0, HOME_PENDING_MAX)) blocks.push(section(pendingLine(card)));
    const more = input.pending.length - HOME_PENDING_MAX;
    if (more > 0) blocks.push(context(`…and ${more} more.`));
    blocks.push(context('Approve or deny from the request message in its channel.'));
  }
  if (input.scheduled) blocks.push(divider(), ...scheduledHomeBlocks(input.scheduled));
  if (input.grants) {
    blocks.push(divider(), ...ownGrantsBlocks(input.grants.own));
    blocks.push(divider(), ...endingGrantsBlocks(input.grants.endingSoon));
  }
  return { type: 'home', blocks };
}
