/** Checks across keys and rules, once each rule has the right shape: what zod alone cannot see. */
import { actionSpec } from './actions';
import { formatPolicyDuration as show } from './duration';
import type { PolicyPath } from './locate';
import { approverShortfall } from './rules';
import type { RawRule } from './schema';
import type { PolicyRule } from './types';

export interface PathProblem {
  path: PolicyPath;
  message: string;
}

function timingProblems(raw: RawRule, rule: PolicyRule, at: PolicyPath): PathProblem[] {
  const problems: PathProblem[] = [];
  const expiry = `requests expire after ${show(rule.expiresMs)}${raw.expires === undefined ? ' (IAM_APPROVAL_TTL)' : ''}`;
  if (rule.remind) {
    const { afterMs, times } = rule.remind;
    if (afterMs >= rule.expiresMs) {
      problems.push({
        path: [...at, 'remind', 'after'],
        message: `${show(afterMs)} is not before the expiry: ${expiry}, so no reminder would ever be sent`,
      });
    } else if (afterMs * times >= rule.expiresMs) {
      const sent = Math.ceil(rule.expiresMs / afterMs) - 1;
      problems.push({
        path: [...at, 'remind', 'times'],
        message: `${times} reminders every ${show(afterMs)} do not fit: ${expiry}, so at most ${sent} would be sent; lower times or remind.after`,
      });
    }
  }
  if (rule.escalate && rule.escalate.afterMs >= rule.expiresMs) {
    problems.push({
      path: [...at, 'escalate', 'after'],
      message: `${show(rule.escalate.afterMs)} is not before the expiry: ${expiry}, so it would never escalate`,
    });
  }
  return problems;
}

function applicabilityProblems(raw: RawRule, rule: PolicyRule, at: PolicyPath): PathProblem[] {
  const problems: PathProblem[] = [];
  for (const key of Object.keys(rule.target) as (keyof typeof rule.target)[]) {
    const refusing = rule.actions.filter((action) => !actionSpec(action).targets.includes(key));
    if (refusing.length > 0) {
      problems.push({
        path: [...at, 'target', key],
        message: `does not apply to ${refusing.join(', ')} (it targets ${actionSpec(refusing[0]).targets.join(', ')}); put it in a rule of its own`,
      });
    }
  }
  if (raw.maxScheduleAhead !== undefined && rule.maxScheduleAheadMs === null) {
    problems.push({
      path: [...at, 'maxScheduleAhead'],
      message: `does not apply: ${rule.actions.join(', ')} cannot be scheduled`,
    });
  }
  return [...problems, ...timeBoundProblems(raw, rule, at)];
}

/** `maxDuration`, `notifyBefore` and the requester `members` are for time-bound access (grant) only. */
function timeBoundProblems(raw: RawRule, rule: PolicyRule, at: PolicyPath): PathProblem[] {
  const other = rule.actions.filter((action) => !actionSpec(action).timeBound);
  if (other.length === 0) return [];
  const notFor = `does not apply to ${other.join(', ')} (only to time-bound access: grant); put it in a rule of its own`;
  const members = raw.requesters?.indexOf('members') ?? -1;
  return [
    ...(raw.maxDuration !== undefined ? [{ path: [...at, 'maxDuration'], message: notFor }] : []),
    ...(raw.notifyBefore !== undefined ? [{ path: [...at, 'notifyBefore'], message: notFor }] : []),
    ...(members >= 0 ? [{ path: [...at, 'requesters', members], message: `members ${notFor}` }] : []),
  ];
}

function approverProblems(raw: RawRule, rule: PolicyRule, at: PolicyPath): PathProblem[] {
  const shortfall = approverShortfall(rule);
  if (shortfall === null) return [];
  const key =
    raw.approvals !== undefined ? 'approvals' : raw.approvers !== undefined ? 'approvers' : 'action';
  return [{ path: [...at, key], message: shortfall }];
}

/**
 * A rule that comes after one matching every request it could match is never used: almost surely an
 * ordering mistake. The first rule per action and exact target is remembered, so a long file is checked
 * in one pass.
 */
function shadowProblems(rules: readonly PolicyRule[]): PathProblem[] {
  const problems: PathProblem[] = [];
  const first = new Map<string, PolicyRule>();
  const ANY = JSON.stringify({});
  rules.forEach((rule, index) => {
    const target = JSON.stringify(rule.target);
    for (const action of new Set(rule.actions)) {
      const candidates = [first.get(`${action} ${ANY}`), first.get(`${action} ${target}`)];
      const earlier = candidates
        .filter((other) => other !== undefined)
        .sort((a, b) => (a.number ?? 0) - (b.number ?? 0))[0];
      if (earlier) {
        problems.push({
          path: ['rules', index, 'action'],
          message: `is never used for ${action}: rule ${earlier.number} (line ${earlier.line}) matches every such ${action} first (the first matching rule wins); move this rule above it`,
        });
      }
      if (!first.has(`${action} ${target}`)) first.set(`${action} ${target}`, rule);
    }
  });
  return problems;
}

export function semanticProblems(raws: readonly RawRule[], rules: readonly PolicyRule[]): PathProblem[] {
  const perRule = rules.flatMap((rule, index) => {
    const at: PolicyPath = ['rules', index];
    return [
      ...applicabilityProblems(raws[index], rule, at),
      ...timingProblems(raws[index], rule, at),
      ...approverProblems(raws[index], rule, at),
    ];
  });
  return [...perRule, ...shadowProblems(rules)];
}
