/**
 * `bulk … --dry-run`: the plan of every row (src/iam/plan.ts, lookups only), with the same concurrency
 * control as a real run. Nothing is written to Atlassian and no report line is written, so a later real
 * run does every row; each planned row gets one audit row with outcome `dry-run`.
 */
import { type CommandPlan, type IamContext, planCommand, planMembership, ProfileError } from '../iam';
import { type AimdController, runPool } from './concurrency';
import type { BulkRow } from './csv';
import { type BulkOperation, commandOf, type RowAudit } from './runner';

/** One row's plan: a membership change for group operations, else the user command's plan. */
function planRow(
  row: BulkRow,
  options: { operation: BulkOperation; allowEnable: boolean; context: IamContext },
) {
  const command = commandOf(options.operation);
  const profile = row.profile ?? {};
  return command === 'iam-add-to-group' || command === 'iam-remove-from-group'
    ? planMembership(command, options.context, profile, row.group)
    : planCommand(command, options.context, profile, { allowEnable: options.allowEnable });
}

/** One row of a dry run: its plan, or why it cannot run (malformed). */
export interface RowPlan {
  row: number;
  identifier: string | null;
  plan?: CommandPlan;
  malformed?: string;
}

export type DryRunCounts = Record<CommandPlan['kind'] | 'malformed' | 'alreadyDone', number>;

/** Plans every row; the result is in file order. */
export async function planRows(
  rows: readonly BulkRow[],
  options: {
    operation: BulkOperation;
    allowEnable: boolean;
    context: IamContext;
    audit: Pick<RowAudit, 'dryRun'>;
    controller: AimdController;
    shouldStop?: () => boolean;
  },
): Promise<RowPlan[]> {
  const planned: RowPlan[] = rows
    .filter((row) => row.problem !== undefined)
    .map((row) => ({ row: row.row, identifier: row.identifier, malformed: row.problem }));
  const planOne = async (row: BulkRow): Promise<boolean> => {
    const profile = row.profile ?? {};
    try {
      const plan = await planRow(row, options);
      planned.push({ row: row.row, identifier: row.identifier, plan });
      const detail = row.group === undefined ? undefined : { group: row.group };
      await options.audit.dryRun(`bulk-${options.operation}`, profile, plan, detail);
      return plan.kind !== 'fail';
    } catch (error) {
      if (!(error instanceof ProfileError)) throw error;
      planned.push({ row: row.row, identifier: row.identifier, malformed: error.message });
      return true;
    }
  };
  await runPool(
    rows.filter((row) => row.problem === undefined),
    options.controller,
    planOne,
    { shouldStop: options.shouldStop },
  );
  return planned.sort((a, b) => a.row - b.row);
}

/** How many rows would do what. */
export function countPlans(plans: readonly RowPlan[], alreadyDone: number): DryRunCounts {
  const counts: DryRunCounts = {
    change: 0,
    'no-change': 0,
    create: 0,
    skip: 0,
    fail: 0,
    malformed: 0,
    alreadyDone,
  };
  for (const planned of plans) counts[planned.plan?.kind ?? 'malformed']++;
  return counts;
}
