import { looksLikeEmail, ProfileError } from '../../iam';
import { AUDIT_HISTORY_LIMIT, auditHistoryMessage } from '../../views/slack';
import { type CommandInput, parseCommandText } from '../command-text';
import { auditDone, type BotContext } from '../context';
import { tellEphemeral } from '../posting';
import { type CommandArgs, handleSlashCommand } from './slash-command';

const EXAMPLE = 'e.g. /iam-audit jane@example.com or /iam-audit group=jira-software-users';

/** What /iam-audit shows: entries about a user, a group, or a user in a group. */
export interface AuditFilter {
  email?: string;
  group?: string;
}

/** The one email /iam-audit takes (bare, `email=…` or `{"email":…}`); anything else is a usage error. */
export function auditEmailOf(input: CommandInput): string {
  if (input.kind === 'empty') throw new ProfileError(`say whose audit history to show, ${EXAMPLE}`);
  const keys = Object.keys(input.profile);
  const email = input.profile.email;
  if (
    keys.length !== 1 ||
    typeof email !== 'string' ||
    input.allowEnable !== undefined ||
    input.reason !== undefined
  ) {
    throw new ProfileError(`/iam-audit takes one email, a group=NAME, or both, ${EXAMPLE}`);
  }
  if (!looksLikeEmail(email.trim())) throw new ProfileError(`"${email}" is not an email, ${EXAMPLE}`);
  return email.trim();
}

// `group=name`, `group="two words"` or `group='…'`, anywhere in the text.
const GROUP_PAIR = /(?:^|\s)group=(?:"([^"]*)"|'([^']*)'|(\S*))/i;

/** `/iam-audit` text: an email, `group=NAME`, or both (`jane@example.com group=jira-software-users`). */
export function parseAuditText(text: string): AuditFilter {
  const match = GROUP_PAIR.exec(text.replace(/[\u201C\u201D\u201E]/g, '"').replace(/[\u2018\u2019]/g, "'"));
  if (match === null) return { email: auditEmailOf(parseCommandText(text)) };
  const group = (match[1] ?? match[2] ?? match[3] ?? '').trim();
  if (group === '') throw new ProfileError(`group= needs a group name, ${EXAMPLE}`);
  const rest = (
    match.input.slice(0, match.index) +
    ' ' +
    match.input.slice(match.index + match[0].length)
  ).trim();
  if (GROUP_PAIR.test(rest)) throw new ProfileError('group is given twice');
  return rest === '' ? { group } : { email: auditEmailOf(parseCommandText(rest)), group };
}

/**
 * /iam-audit <email> | group=NAME: the latest audit entries about that user or group (operators only,
 * like every command). The viewing itself is audited once the history has been shown, so it does not
 * crowd the list it shows.
 */
export function iamAudit(context: BotContext) {
  return (args: CommandArgs) =>
    handleSlashCommand(
      context,
      args,
      'iam-audit',
      async (filter: AuditFilter) => {
        const entry = {
          actor: args.command.user_id,
          command: 'iam-audit',
          target: filter.email ?? null,
          requestId: null,
          kind: 'result',
        } as const;
        const group = filter.group === undefined ? {} : { group: filter.group };
        let shown: number;
        try {
          shown = await showAuditHistory(context, args, filter);
        } catch (error) {
          const detail = { ...group, reason: (error as Error).message };
          await auditDone(context, { ...entry, outcome: 'failure', detail });
          throw error;
        }
        await auditDone(context, { ...entry, outcome: 'success', detail: { ...group, entries: shown } });
      },
      parseAuditText,
    );
}

/** The latest entries matching the filter, told to the operator who asked; how many were shown. */
async function showAuditHistory(context: BotContext, args: CommandArgs, { email, group }: AuditFilter) {
  const filter = group === undefined ? {} : { group };
  const entries = await context.store.listAudit({ target: email, ...filter, limit: AUDIT_HISTORY_LIMIT });
  // Audit history is sensitive (who did what to whom, refusals, approval decisions): it goes only to
  // the operator who asked, as an ephemeral reply through response_url, never into the channel.
  await tellEphemeral(
    args.respond,
    auditHistoryMessage(entries, {
      sandbox: context.sandbox,
      target: email,
      ...filter,
      limit: AUDIT_HISTORY_LIMIT,
    }),
  );
  return entries.length;
}
