/**
 * The approval rule a request was made under, as stored with it (JSON column `policy_rule`): what
 * deciding it needs later, whatever IAM_POLICY_FILE says by then. A request stored before rules were
 * kept has none and reads as the built-in one-approver rule (LEGACY_RULE).
 */
import { z } from 'zod';

const ids = z.array(z.string());
const attribute = z.string().nullable().optional();

const ruleSchema = z.object({
  source: z.enum(['file', 'default']),
  number: z.number().int().positive().nullable(),
  name: z.string().nullable(),
  action: z.string(),
  approvals: z.number().int().min(1),
  /** null: IAM_APPROVERS (else the operators) as configured when the click comes, as before rules. */
  approvers: z.object({ ids, admins: z.boolean() }).nullable(),
  escalate: z.object({ afterMs: z.number().int().positive(), to: ids }).nullable(),
  remind: z.object({ afterMs: z.number().int().positive(), times: z.number().int().positive() }).nullable(),
  reason: z.enum(['required', 'optional']),
  breakGlass: z.boolean(),
  /**
   * The target the rule was matched against, so a click can be checked against the policy it comes
   * under (docs/POLICY.md). Absent on requests stored before it was kept: their stored rule alone decides.
   */
  target: z
    .object({ email: attribute, username: attribute, department: attribute, group: attribute })
    .optional(),
});

export type ApprovalRule = z.infer<typeof ruleSchema>;

/** What a request stored without a rule was decided by: one approver from the configured approvers. */
export const LEGACY_RULE: ApprovalRule = {
  source: 'default',
  number: null,
  name: null,
  action: 'disable',
  approvals: 1,
  approvers: null,
  escalate: null,
  remind: null,
  reason: 'optional',
  breakGlass: false,
};

/** The stored rule, or why it cannot be read (a request with such a rule ends as failed, never decided). */
export function readApprovalRule(value: Record<string, unknown>): ApprovalRule | { problem: string } {
  const parsed = ruleSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return {
    problem: `the stored approval rule is not valid (${issue?.path.join('.') || 'rule'}: ${issue?.message})`,
  };
}
