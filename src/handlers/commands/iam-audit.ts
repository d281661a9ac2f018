import { looksLikeEmail, ProfileError } from '../../iam';
import { AUDIT_HISTORY_LIMIT, auditHistoryMessage } from '../../views/slack';
import type { CommandInput } from '../command-text';
import { auditDone, type BotContext } from '../context';
import { tellEphemeral } from '../posting';
import { type CommandArgs, handleSlashCommand } from './slash-command';

const EXAMPLE = 'e.g. /iam-audit jane@example.com';

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
    throw new ProfileError(`/iam-audit takes one email and nothing else, ${EXAMPLE}`);
  }
  if (!looksLikeEmail(email.trim())) throw new ProfileError(`"${email}" is not an email, ${EXAMPLE}`);
  return email.trim();
}

/**
 * /iam-audit <email>: the latest audit entries about that user (operators only, like every command).
 * The viewing itself is audited once the history has been shown, so it does not crowd the list it shows.
 */
export function iamAudit(context: BotContext) {
  return (args: CommandArgs) =>
    handleSlashCommand(context, args, 'iam-audit', async (input) => {
      const email = auditEmailOf(input);
      const entry = {
        actor: args.command.user_id,
        command: 'iam-audit',
        target: email,
        requestId: null,
      } as const;
      let shown: number;
      try {
        const entries = await context.store.listAudit({ target: email, limit: AUDIT_HISTORY_LIMIT });
        shown = entries.length;
        // Audit history is sensitive (who did what to whom, refusals, approval decisions): it goes only to
        // the operator who asked, as an ephemeral reply through response_url, never into the channel.
        await tellEphemeral(
          args.respond,
          auditHistoryMessage(entries, {
            sandbox: context.sandbox,
            target: email,
            limit: AUDIT_HISTORY_LIMIT,
          }),
        );
      } catch (error) {
        await auditDone(context, {
          ...entry,
          kind: 'result',
          outcome: 'failure',
          detail: { reason: (error as Error).message },
        });
        throw error;
      }
      await auditDone(context, { ...entry, kind: 'result', outcome: 'success', detail: { entries: shown } });
    });
}
