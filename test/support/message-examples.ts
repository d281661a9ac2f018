/**
 * One example of every message, modal and Home tab the bot sends, built by the real view functions
 * from fixed data, and the rendering of docs/messages/ from them. `npm run docs:messages` writes the
 * files (scripts/render-messages.mjs); test/views/slack/docs-drift.test.ts fails when they drift.
 */
import type { HomeView, ModalView } from '@slack/types';
import { buildResult, type IamResult, type VendorResult } from '../../src/iam/result';
import {
  approvalDecidedMessage,
  approvalExpiredMessage,
  approvalRequestMessage,
  AUDIT_HISTORY_LIMIT,
  breakGlassNoticeMessage,
  breakGlassResultMessage,
  followUpThreadMessage,
  grantEndMessage,
  grantExtendAskedMessage,
  grantNoticeMessage,
  grantNoticeSentMessage,
  reminderDirectMessage,
  auditHistoryMessage,
  errorNotice,
  extendWaitingNotice,
  homeView,
  invalidJsonProblem,
  refusalMessage,
  requesterNotice,
  resultMessage,
  usageMessage,
  userDetailsThreadMessage,
  updateConfirmView,
  userModal,
  type ApprovalCard,
  type BreakGlassNotice,
  type ConfirmMetadata,
  type AuditHistoryEntry,
  type SlackMessage,
} from '../../src/views/slack';

export type MessageExample = { name: string; description: string } & (
  | { kind: 'message'; payload: SlackMessage }
  | { kind: 'modal'; payload: ModalView }
  | { kind: 'home'; payload: HomeView }
);

const INSTANCE = 'Atlassian IAM_instance_1';
const OPERATOR = 'U0123OPS01';
const APPROVER = 'U0456SEC02';
const CHANNEL = 'C0789IAM03';
const JANE_ID = '5b1c9e2a-7f3d-4e8a-9c61-2d4f8b0e7a13';

const confirmMetadata: ConfirmMetadata = {
  channelId: CHANNEL,
  fields: { email: 'jane.doe@example.com', title: 'Engineering Manager' },
  clear: ['department'],
  allowEnable: true,
  plan: 'x3Jq0yS1vFz8ZqXJ0n0mKcW3mQ1tJ5p2cV6b9Lr4aHk',
};

const jane: NonNullable<VendorResult['details']> = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: '2819c223-7f76-453a-919d-413861904646',
  userName: 'jane.doe@example.com',
  name: { formatted: 'Jane Doe', givenName: 'Jane', familyName: 'Doe' },
  displayName: 'Jane Doe',
  title: 'Team Lead',
  department: 'Platform',
  organization: 'Example Corp',
  timezone: 'Europe/Berlin',
  preferredLanguage: 'en-US',
  emails: [
    { value: 'jane.doe@example.com', type: 'work', primary: true },
    { value: 'jdoe@example.org', type: 'other', primary: false },
  ],
  active: true,
  meta: {
    resourceType: 'User',
    created: '2025-01-10T08:00:00Z',
    lastModified: '2025-01-15T09:30:00Z',
  },
  'urn:scim:schemas:extension:atlassian-external:1.0': { atlassianAccountId: '5b10ac8d82e05b22cc7d4ef5' },
};

const janeProfile = {
  email: 'jane.doe@example.com',
  givenname: 'Jane',
  surname: 'Doe',
  title: 'Team Lead',
  department: 'Platform',
};

const at = (iso: string): Date => new Date(iso);

const request: ApprovalCard = {
  id: 'apr_01JH8Z6W3K9Q2M7V5T4R1X0YBC',
  requesterId: OPERATOR,
  target: 'jane.doe@example.com',
  reason: 'Left the company on 2025-01-14 (HR ticket HR-1234).',
  status: 'pending',
  createdAt: at('2025-01-15T09:30:00Z'),
  expiresAt: at('2025-01-16T09:30:00Z'),
  decidedBy: null,
  decidedAt: null,
  currentActive: true,
  currentId: jane.id,
};

const SECURITY_GROUP = 'S0SECURITY1';
const CISO_GROUP = 'S0CISO2';

const breakGlassNotice: BreakGlassNotice = {
  requesterId: OPERATOR,
  action: 'disable',
  target: 'jane.doe@example.com',
  justification: 'Account compromised: sign-ins from an unknown country (INC-5678).',
  rule: 'rule 1 (admin-disable) of IAM_POLICY_FILE',
  approvers: [APPROVER, SECURITY_GROUP],
  outcome: 'success',
};

const decided = (status: ApprovalCard['status']): ApprovalCard => ({
  ...request,
  status,
  decidedBy: APPROVER,
  decidedAt: at('2025-01-15T10:05:00Z'),
});

const disabled: IamResult = buildResult({
  action: 'disable',
  instanceName: INSTANCE,
  profile: { email: 'jane.doe@example.com' },
  user: { ...jane, active: false },
});

const auditEntry = (
  time: string,
  actor: string,
  command: string,
  outcome: string,
  requestId: string | null = null,
): AuditHistoryEntry => ({ at: at(time), actor, command, outcome, requestId });

/**
 * Jane's audit history, newest first: created from the CLI, looked up, a disable requested, the requester
 * refused when trying to approve it, then another approver approved it.
 */
const janeHistory: AuditHistoryEntry[] = [
  auditEntry('2025-01-15T10:05:02Z', APPROVER, 'iam-disable-user', 'success', request.id),
  auditEntry('2025-01-15T10:05:00Z', APPROVER, 'approve', 'approved', request.id),
  auditEntry('2025-01-15T09:41:07Z', OPERATOR, 'approve', 'refused', request.id),
  auditEntry('2025-01-15T09:30:00Z', OPERATOR, 'iam-disable-user', 'requested', request.id),
  auditEntry('2025-01-14T16:20:11Z', OPERATOR, 'iam-get-user', 'success'),
  auditEntry('2025-01-14T16:20:10Z', OPERATOR, 'iam-get-user', 'received'),
  auditEntry('2025-01-10T08:00:01Z', 'cli:svc-hr', 'iam-create-user', 'success'),
  auditEntry('2025-01-10T08:00:00Z', 'cli:svc-hr', 'iam-create-user', 'received'),
];

/** Every kind of Slack surface the bot sends, built with fixed data (fixed ids and dates). */
/** A grant of group access ending at noon (src/store/grants.ts, as the messages read it). */
const MEMBER = 'U0MEMBER01';
const grant = {
  id: 'grant_01JH8ZC0Q2S4U6W8Y0A2C4E6G8',
  target: 'jane.doe@example.com',
  groupName: 'jira-software-users',
  endsAt: new Date('2025-01-15T12:00:00Z'),
  slackUserId: MEMBER,
};

export function messageExamples(): MessageExample[] {
  const created = buildResult({ action: 'create', instanceName: INSTANCE, profile: janeProfile, user: jane });
  const updated = buildResult({
    action: 'update',
    instanceName: INSTANCE,
    profile: { email: 'jane.doe@example.com', title: 'Head of Platform', organization: null },
    user: { ...jane, title: 'Head of Platform', organization: undefined },
  });
  const got = buildResult({
    action: 'get',
    instanceName: INSTANCE,
    profile: { email: 'jane.doe@example.com' },
    user: jane,
  });
  const skipped = buildResult({
    action: 'update',
    instanceName: INSTANCE,
    profile: { email: 'john.roe@example.com', title: 'Engineer' },
    skippedReason: 'User does not exist',
  });
  const failed = buildResult({
    action: 'create',
    instanceName: INSTANCE,
    profile: { email: 'sam@unverified.example' },
    error: { status: 400, message: 'The domain unverified.example is not verified for this organization.' },
  });
  const actor = { sandbox: false, actorId: OPERATOR };
  const withThread = { ...actor, detailsInThread: true };
  return [
    {
      name: 'create-success',
      kind: 'message',
      description:
        '`/iam-create-user` created the user: what happened and a short table in the channel; every attribute follows in the thread (like `get-thread-details`).',
      payload: resultMessage(created, withThread),
    },
    {
      name: 'update-success-sandbox',
      kind: 'message',
      description:
        'The update form changed the title and cleared the organization, while the bot runs against the SANDBOX directory.',
      payload: resultMessage(updated, { ...withThread, sandbox: true }),
    },
    {
      name: 'get-summary',
      kind: 'message',
      description: '`/iam-get-user`: who, active or not, and the id in the channel.',
      payload: resultMessage(got, withThread),
    },
    {
      name: 'get-thread-details',
      kind: 'message',
      description:
        'Every attribute of the SCIM user, posted in the thread of a successful result (get, create, update, enable, disable).',
      payload: userDetailsThreadMessage(got, { sandbox: false }),
    },
    {
      name: 'skipped',
      kind: 'message',
      description:
        'A skipped command (`/iam-update-user` of a user who does not exist): the reason, and nothing else to read.',
      payload: resultMessage(skipped, actor),
    },
    {
      name: 'failure',
      kind: 'message',
      description: 'A failed command: Atlassian refused the create; its message is shown once, quoted.',
      payload: resultMessage(failed, actor),
    },
    {
      name: 'approval-request',
      kind: 'message',
      description: '`/iam-disable-user … reason="…"`: the approval request with Approve / Deny buttons.',
      payload: approvalRequestMessage(request, { sandbox: false }),
    },
    {
      name: 'approval-request-2-of-3',
      kind: 'message',
      description:
        'An approval request under a policy rule that wants two approvers, after the first one approved: who approved, how many more are needed.',
      payload: approvalRequestMessage(
        { ...request, approvals: { needed: 2, by: [APPROVER] } },
        { sandbox: false },
      ),
    },
    {
      name: 'approval-approved-disabled',
      kind: 'message',
      description:
        'The approval request after an approver approved it and the user was disabled (no buttons).',
      payload: approvalDecidedMessage(decided('completed'), { sandbox: false, outcome: disabled }),
    },
    {
      name: 'approval-disable-result',
      kind: 'message',
      description: 'The disable result table, posted in the thread of the approval request.',
      payload: resultMessage(disabled, { sandbox: false, actorId: APPROVER }),
    },
    {
      name: 'approval-denied',
      kind: 'message',
      description: 'The approval request after an approver denied it.',
      payload: approvalDecidedMessage(decided('denied'), { sandbox: false }),
    },
    {
      name: 'approval-expired',
      kind: 'message',
      description: 'The approval request after nobody decided within `IAM_APPROVAL_TTL`.',
      payload: approvalExpiredMessage(request, { sandbox: false }),
    },
    {
      name: 'requester-notice',
      kind: 'message',
      description: 'Thread reply that tells the requester what became of the request.',
      payload: requesterNotice(decided('completed'), disabled, { sandbox: false }),
    },
    {
      name: 'refusal',
      kind: 'message',
      description: 'Ephemeral refusal for someone who may not do what they tried.',
      payload: refusalMessage(
        'Only approvers (IAM_APPROVERS) other than the requester can decide this request.',
      ),
    },
    {
      name: 'usage',
      kind: 'message',
      description:
        'Ephemeral help when a slash command’s text cannot be understood: here a JSON profile with a comma missing, quoted back.',
      payload: usageMessage(
        '/iam-create-user',
        invalidJsonProblem("Expected ',' or '}' after property value in JSON at position 28"),
        { typed: '{"email":"jane@example.com" "title":"CTO"}' },
      ),
    },
    {
      name: 'error-notice',
      kind: 'message',
      description: 'Ephemeral notice when something failed outside a command result.',
      payload: errorNotice('/iam-get-user failed: the directory did not answer within 10 s.'),
    },
    {
      name: 'audit-history',
      kind: 'message',
      description:
        '`/iam-audit jane.doe@example.com`: the latest audit entries about Jane, shown to the operator alone (ephemeral).',
      payload: auditHistoryMessage(janeHistory, {
        sandbox: false,
        target: 'jane.doe@example.com',
        limit: AUDIT_HISTORY_LIMIT,
      }),
    },
    {
      name: 'audit-history-empty',
      kind: 'message',
      description: '`/iam-audit` for a user no command has named yet.',
      payload: auditHistoryMessage([], {
        sandbox: false,
        target: 'new.hire@example.com',
        limit: AUDIT_HISTORY_LIMIT,
      }),
    },
    {
      name: 'modal-create',
      kind: 'modal',
      description: '`/iam-create-user` with no text: the create form.',
      payload: userModal('create', { channelId: CHANNEL, sandbox: false }),
    },
    {
      name: 'modal-update-prefilled',
      kind: 'modal',
      description: '`/iam-update-user jane.doe@example.com`: the update form filled with the current values.',
      payload: userModal('update', {
        channelId: CHANNEL,
        sandbox: false,
        initial: {
          email: 'jane.doe@example.com',
          username: 'jane.doe@example.com',
          givenname: 'Jane',
          surname: 'Doe',
          displayname: 'Jane Doe',
          title: 'Team Lead',
          department: 'Platform',
          organization: 'Example Corp',
          timezone: 'Europe/Berlin',
          preferredlanguage: 'en-US',
        },
      }),
    },
    {
      name: 'modal-update-confirm',
      kind: 'modal',
      description:
        'The update form submitted: its confirmation, pushed on top of the form, with each change before → after.',
      payload: updateConfirmView(
        {
          command: 'iam-update-user',
          kind: 'change',
          user: { id: JANE_ID, email: 'jane.doe@example.com', username: 'jane.doe@example.com' },
          changes: [
            { attribute: 'title', before: 'Team Lead', after: 'Engineering Manager' },
            { attribute: 'department', before: 'Platform', after: null },
          ],
          takesOver: false,
        },
        confirmMetadata,
        { sandbox: false },
      ),
    },
    {
      name: 'modal-update-confirm-no-change',
      kind: 'modal',
      description: 'The update form submitted with the values the user already has: nothing to confirm.',
      payload: updateConfirmView(
        {
          command: 'iam-update-user',
          kind: 'no-change',
          user: { id: JANE_ID, email: 'jane.doe@example.com', username: 'jane.doe@example.com' },
        },
        confirmMetadata,
        { sandbox: false },
      ),
    },
    {
      name: 'reminder-thread',
      kind: 'message',
      description:
        'A reminder (policy `remind`) in the thread of a pending request, mentioning its approvers: people and user groups.',
      payload: followUpThreadMessage(
        request,
        { kind: 'remind', n: 1, notify: [APPROVER, SECURITY_GROUP], dueAt: at('2025-01-15T11:30:00Z') },
        { sandbox: false },
      ),
    },
    {
      name: 'reminder-dm',
      kind: 'message',
      description: 'The direct message each approver named as a person gets with a reminder.',
      payload: reminderDirectMessage({ ...request, channelId: CHANNEL }, { sandbox: false }),
    },
    {
      name: 'escalation-thread',
      kind: 'message',
      description: 'The escalation (policy `escalate`) in the thread: who may now approve as well.',
      payload: followUpThreadMessage(
        request,
        { kind: 'escalate', n: 1, notify: [CISO_GROUP], dueAt: at('2025-01-15T15:30:00Z') },
        { sandbox: false },
      ),
    },
    {
      name: 'break-glass-result',
      kind: 'message',
      description:
        '`/iam-disable-user … break-glass reason="…"` where the rule allows it: done at once, the result marked break-glass and naming the approvers told.',
      payload: breakGlassResultMessage(
        resultMessage(disabled, { sandbox: false, actorId: OPERATOR }),
        breakGlassNotice,
        { sandbox: false },
      ),
    },
    {
      name: 'break-glass-notice',
      kind: 'message',
      description: "What each approver of the rule gets at once (DM, and in the rule's channel).",
      payload: breakGlassNoticeMessage(breakGlassNotice, CHANNEL, { sandbox: false }),
    },
    {
      name: 'grant-notice-dm',
      kind: 'message',
      description: "Before a grant ends (policy `notifyBefore`): the holder's DM with Extend and I'm done.",
      payload: grantNoticeMessage(grant, false),
    },
    {
      name: 'grant-notice-thread',
      kind: 'message',
      description: "The grant's thread, when its holder was reminded.",
      payload: grantNoticeSentMessage(grant, false),
    },
    {
      name: 'grant-extend-asked',
      kind: 'message',
      description:
        "The grant's thread, when its holder clicked Extend (the new request's card is in the channel).",
      payload: grantExtendAskedMessage(grant, false),
    },
    {
      name: 'grant-extend-waiting',
      kind: 'message',
      description:
        "The holder's DM when Extend is clicked while an extension of that grant is open already (a second click, or one on another instance at the same moment): nothing is stored.",
      payload: extendWaitingNotice({ group: grant.groupName, requesterId: MEMBER, approved: false }, MEMBER),
    },
    {
      name: 'grant-expired',
      kind: 'message',
      description: "The grant's thread and the holder's DM when its time is up and the member was removed.",
      payload: grantEndMessage(grant, { reason: 'expired' }, 'removed', false),
    },
    {
      name: 'grant-done',
      kind: 'message',
      description:
        "The grant's thread and the holder's DM after I'm done, the member found removed by hand already.",
      payload: grantEndMessage(grant, { reason: 'done', by: MEMBER }, 'already-removed', false),
    },
    {
      name: 'home',
      kind: 'home',
      description:
        'The App Home tab of an operator who is also an approver, with two pending disable requests.',
      payload: homeView({
        connection: { ok: true },
        sandbox: false,
        instanceName: INSTANCE,
        viewer: { userId: APPROVER, operator: true, approver: true },
        pending: [
          request,
          {
            ...request,
            id: 'apr_01JH8ZB2N4P6R8T0V2X4Z6B8DF',
            target: 'john.roe@example.com',
            reason: null,
            createdAt: at('2025-01-15T11:00:00Z'),
            expiresAt: at('2025-01-16T11:00:00Z'),
          },
        ],
      }),
    },
  ];
}

export const BLOCK_KIT_BUILDER_URL = 'https://app.slack.com/block-kit-builder/#';

/** What Block Kit Builder takes: `{blocks}` for a message, the view itself for a modal or the Home tab. */
export function builderPayload(example: MessageExample): object {
  return example.kind === 'message' ? { blocks: example.payload.blocks } : example.payload;
}

export function builderLink(example: MessageExample): string {
  // Parentheses are encoded too, so the link survives inside a Markdown `[…](…)`.
  const fragment = encodeURIComponent(JSON.stringify(builderPayload(example)));
  return BLOCK_KIT_BUILDER_URL + fragment.replace(/\(/g, '%28').replace(/\)/g, '%29');
}

/**
 * The contents of docs/messages/: `<name>.json` per example (pretty JSON of the Block Kit Builder
 * payload) and README.md listing them. Keys are paths relative to docs/messages/.
 */
export function renderMessageDocs(examples: MessageExample[]): Map<string, string> {
  const files = new Map<string, string>();
  const readme = [
    '# Slack messages',
    '',
    'Every message, modal and Home tab the bot sends, built by the real view functions in',
    '`src/views/slack/` from the fixed example data in `test/support/message-examples.ts`.',
    '',
    'Generated by `npm run docs:messages`: do not edit these files by hand. `node scripts/render-messages.mjs --check`',
    'and `test/views/slack/docs-drift.test.ts` fail when they no longer match the code.',
    '',
    'Each `.json` file is exactly what Slack’s Block Kit Builder takes (`{"blocks": […]}` for a message, the',
    'view object for a modal or the Home tab); the preview links open it there (a Slack sign-in is needed).',
    'Times use Slack date formatting, so each reader sees them in their own time zone.',
    '',
  ];
  for (const example of examples) {
    files.set(`${example.name}.json`, `${JSON.stringify(builderPayload(example), null, 2)}\n`);
    readme.push(`## ${example.name} (${example.kind})`, '', example.description, '');
    readme.push(`- Payload: [${example.name}.json](${example.name}.json)`);
    readme.push(`- [Preview in Block Kit Builder](${builderLink(example)})`);
    if (example.kind === 'message') {
      readme.push(
        '- Text fallback (notifications, screen readers):',
        '',
        '````text',
        example.payload.text,
        '````',
      );
    }
    readme.push('');
  }
  files.set('README.md', `${readme.join('\n').trimEnd()}\n`);
  return files;
}
