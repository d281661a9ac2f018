/** `atlassian-iam policy check`: the rules in effect as a text table, file rules first, then the built-in ones. */
import {
  ACTION_NAMES,
  type Audience,
  builtInRule,
  formatPolicyDuration,
  type Policy,
  type PolicyRule,
} from '../policy';
import { terminalSafe } from './audit-table';
import type { TextTable } from './table';

export const POLICY_COLUMNS = [
  '#',
  'action',
  'target',
  'requesters',
  'approvers',
  'N',
  'reason',
  'expires',
  'channel',
  'remind',
  'escalate',
  'break-glass',
  'schedule ahead',
  'max duration',
  'notify before',
];

function audienceText(audience: Audience, members = false): string {
  return [
    ...audience.ids,
    ...(audience.admins ? ['workspace admins'] : []),
    ...(members ? ['any member (for themselves)'] : []),
  ].join(', ');
}

/** The time-bound columns: max duration and notify before, `-` for other actions. */
function timeBoundText(rule: PolicyRule): string[] {
  if (rule.notifyBeforeMs.length === 0 && rule.maxDurationMs === null) return ['-', '-'];
  return [
    rule.maxDurationMs === null ? 'no limit' : formatPolicyDuration(rule.maxDurationMs),
    rule.notifyBeforeMs.map(formatPolicyDuration).join(', ') || '-',
  ];
}

function targetText(rule: PolicyRule): string {
  const parts = Object.entries(rule.target).map(([key, patterns]) => `${key}=${(patterns ?? []).join('|')}`);
  return parts.length === 0 ? 'any' : parts.join(' ');
}

function row(rule: PolicyRule): string[] {
  const asks = rule.approvals > 0;
  const when = (text: string | null) => (asks && text !== null ? text : '-');
  const name = rule.name === null ? '' : ` ${rule.name}`;
  return [
    rule.number === null ? 'default' : `${rule.number}${name}`,
    rule.actions.join(', '),
    targetText(rule),
    audienceText(rule.requesters, rule.membersMayAsk),
    asks ? `${audienceText(rule.approvers)}${rule.approversFromConfig ? ' (IAM_APPROVERS)' : ''}` : '-',
    asks ? String(rule.approvals) : 'none: acts at once',
    when(rule.reason),
    when(formatPolicyDuration(rule.expiresMs)),
    when(rule.channel ?? 'where asked'),
    when(rule.remind && `every ${formatPolicyDuration(rule.remind.afterMs)} x${rule.remind.times}`),
    when(
      rule.escalate &&
        `after ${formatPolicyDuration(rule.escalate.afterMs)} to ${rule.escalate.to.join(', ')}`,
    ),
    rule.breakGlass ? 'yes' : 'no',
    rule.maxScheduleAheadMs === null ? '-' : formatPolicyDuration(rule.maxScheduleAheadMs),
    ...timeBoundText(rule),
  ].map(terminalSafe);
}

/** Actions that some request could still reach the built-in rule for: no rule of the file covers every target. */
function uncoveredActions(policy: Policy) {
  return ACTION_NAMES.filter(
    (action) =>
      !policy.rules.some((rule) => rule.actions.includes(action) && Object.keys(rule.target).length === 0),
  );
}

export function policyTable(policy: Policy): TextTable {
  const defaults = uncoveredActions(policy).map((action) => builtInRule(action, policy.defaults));
  return {
    title: `Rules in effect${policy.file === null ? '' : ` (${terminalSafe(policy.file)})`}: the first rule that matches a request wins; "default" rows apply when none does`,
    columns: POLICY_COLUMNS,
    rows: [...policy.rules, ...defaults].map(row),
  };
}
