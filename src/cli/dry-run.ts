/**
 * `--dry-run` of the write commands: the plan of src/iam/plan.ts (lookups only), printed as the diff
 * (src/views/plan.ts) or, with --json, as the plan object. Nothing that changes the directory is sent.
 * One audit row (`command`, outcome `dry-run`, the plan as detail) says who looked at what.
 */
import type { CliAudit } from './audit-trail';
import { EXIT } from './errors';
import { type IamContext, planCommand, ProfileError, WRITE_COMMANDS, type WriteCommand } from '../iam';
import { readProfileInput } from './profile-input';
import { renderPlan } from '../views/plan';

export interface DryRunInvocation {
  command: string;
  profileText?: string;
  allowEnable?: string;
  json: boolean;
}

const isWrite = (command: string): command is WriteCommand =>
  (WRITE_COMMANDS as readonly string[]).includes(command);

/** Prints the plan; exit 0 when it could be computed (skips included), 1 when the lookup failed. */
export async function runDryRun(
  context: IamContext,
  invocation: DryRunInvocation,
  openAudit: () => Promise<CliAudit>,
  out: (text: string) => void,
  sandbox: boolean,
): Promise<number> {
  const { command } = invocation;
  if (!isWrite(command)) {
    throw new ProfileError(`--dry-run applies to the write commands only (${WRITE_COMMANDS.join(', ')})`);
  }
  const { profile, allowEnable } = readProfileInput(
    command,
    invocation.profileText,
    invocation.allowEnable,
    context.outgoing,
  );
  const plan = await planCommand(command, context, profile, { allowEnable });
  const audit = await openAudit();
  try {
    await audit.dryRun(command, profile, plan);
  } finally {
    await audit.close();
  }
  out(
    (invocation.json ? JSON.stringify({ dryRun: true, ...plan }, null, 2) : renderPlan(plan, { sandbox })) +
      '\n',
  );
  return plan.kind === 'fail' ? EXIT.failure : EXIT.success;
}
