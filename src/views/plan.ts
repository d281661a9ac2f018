/**
 * Dry-run plans as people read them in a terminal (pure). Values go through showInvisible, like every
 * renderer for people; the JSON form (`--json`) keeps them as they are.
 */
import type { CommandPlan, PlannedUser } from '../iam';
import type { AttributeChange } from '../iam';
import { showInvisible } from './invisible';

const NONE = '(none)';

const valueText = (value: string | null): string => (value === null ? NONE : showInvisible(value));

/** `jane@example.com (id 8f2…)`: the user's email, else username, with the id when known. */
export function userText(user: PlannedUser): string {
  const name = user.email ?? user.username ?? user.id ?? 'the user';
  return showInvisible(user.id && name !== user.id ? `${name} (id ${user.id})` : name);
}

/** One line per attribute, names aligned: `  title           Engineer → Staff Engineer`. */
export function changeLines(changes: readonly AttributeChange[], indent = '  '): string[] {
  const width = Math.max(...changes.map((change) => change.attribute.length));
  return changes.map(
    (change) =>
      `${indent}${change.attribute.padEnd(width)}  ${valueText(change.before)} → ${valueText(change.after)}`,
  );
}

const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The plan's headline, without the attribute lines: what would happen, to whom. */
export function planHeadline(plan: CommandPlan): string {
  switch (plan.kind) {
    case 'change':
      return `would change ${userText(plan.user)}: ${count(plan.changes.length, 'attribute')}${
        plan.takesOver ? ' (in Slack this needs an approval)' : ''
      }`;
    case 'no-change':
      return `no change: ${userText(plan.user)} already has these values`;
    case 'create':
      return `would create ${valueText(plan.changes.find((c) => c.attribute === 'userName')?.after ?? null)}`;
    case 'skip':
      return `would skip${plan.user ? ` ${userText(plan.user)}` : ''}: ${showInvisible(plan.reason)}`;
    case 'fail':
      return `cannot tell: the lookup failed: ${showInvisible(plan.reason)}`;
  }
}

/** The whole plan of one command, for the terminal. */
export function renderPlan(plan: CommandPlan, options: { sandbox: boolean }): string {
  const changes = plan.kind === 'change' || plan.kind === 'create' ? changeLines(plan.changes) : [];
  return [
    `DRY RUN${options.sandbox ? ' (SANDBOX)' : ''}: ${plan.command}: nothing was sent`,
    planHeadline(plan),
    ...changes,
    ...joinLines(plan, '  '),
  ].join('\n');
}

/** `then joins groups: A, B` for a create with groups (already a member: nothing is sent for that one). */
function joinLines(plan: CommandPlan, indent: string): string[] {
  const groups =
    plan.kind === 'change' || plan.kind === 'no-change' || plan.kind === 'create' ? plan.groups : undefined;
  return groups && groups.length > 0
    ? [`${indent}then joins groups: ${groups.map(showInvisible).join(', ')}`]
    : [];
}

/** One bulk row of a dry run: `row 2 (jane@example.com): dry-run: would change …; title: A → B`. */
export function renderRowPlan(row: number, identifier: string | null, plan: CommandPlan): string {
  const who = identifier ? ` (${showInvisible(identifier)})` : '';
  const changes = plan.kind === 'change' || plan.kind === 'create' ? changeLines(plan.changes, '') : [];
  return [
    `row ${row}${who}: dry-run: ${planHeadline(plan)}`,
    ...changes.map((line) => `    ${line}`),
    ...joinLines(plan, '    '),
  ].join('\n');
}

/** The end of a bulk dry run: what a real run would do, row counts by plan. */
export function renderDryRunSummary(
  label: string,
  counts: Record<CommandPlan['kind'] | 'malformed' | 'alreadyDone', number>,
): string {
  const parts = [
    `${counts.change} would change`,
    `${counts.create} would be created`,
    `${counts['no-change']} no change`,
    `${counts.skip} would skip`,
    `${counts.fail} lookup failed`,
    `${counts.malformed} malformed`,
    `${counts.alreadyDone} already done (a real run leaves them)`,
  ];
  return `DRY RUN: ${label}: nothing was sent\n${parts.join(', ')}`;
}
