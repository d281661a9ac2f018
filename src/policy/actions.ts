/**
 * The actions a policy rule can govern. The file format is the same for all of them: a new action is
 * one line here (and the rules that mention it), never a new key or section.
 */

/** What a rule's `target` may match on: attributes of the user acted on, and for grants the group. */
export const TARGET_KEYS = ['domain', 'email', 'username', 'department', 'group'] as const;
export type TargetKey = (typeof TARGET_KEYS)[number];

const USER_TARGETS: readonly TargetKey[] = ['domain', 'email', 'username', 'department'];

export interface ActionSpec {
  /** Target keys a rule for this action may use. */
  targets: readonly TargetKey[];
  /**
   * With no matching rule: true, one approver other than the requester (today's two-person rule);
   * false, the operator acts at once (today's create and update).
   */
  approvalByDefault: boolean;
  /** Can be scheduled for a later time, so `maxScheduleAhead` applies. */
  schedulable: boolean;
  /**
   * Gives access for a time that ends by itself: `maxDuration` and `notifyBefore` apply, and `members`
   * may ask for themselves.
   */
  timeBound: boolean;
}

export const ACTIONS = {
  disable: { targets: USER_TARGETS, approvalByDefault: true, schedulable: true, timeBound: false },
  enable: { targets: USER_TARGETS, approvalByDefault: true, schedulable: false, timeBound: false },
  'identifier-change': {
    targets: USER_TARGETS,
    approvalByDefault: true,
    schedulable: false,
    timeBound: false,
  },
  update: { targets: USER_TARGETS, approvalByDefault: false, schedulable: false, timeBound: false },
  create: { targets: USER_TARGETS, approvalByDefault: false, schedulable: false, timeBound: false },
  grant: {
    targets: [...USER_TARGETS, 'group'],
    approvalByDefault: true,
    schedulable: false,
    timeBound: true,
  },
} as const satisfies Record<string, ActionSpec>;

export type PolicyAction = keyof typeof ACTIONS;

export const ACTION_NAMES = Object.keys(ACTIONS) as PolicyAction[];

export function isPolicyAction(name: string): name is PolicyAction {
  return Object.hasOwn(ACTIONS, name);
}

export function actionSpec(action: PolicyAction): ActionSpec {
  return ACTIONS[action];
}
