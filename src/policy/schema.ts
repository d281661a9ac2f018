/** The policy file's shape, checked with zod; durations come out in milliseconds. */
import { z } from 'zod';
import { ACTION_NAMES, isPolicyAction, type PolicyAction, TARGET_KEYS } from './actions';
import { formatPolicyDuration, isDurationText, parsePolicyDuration } from './duration';

/** Longest duration a policy may give: anything longer is a typo, and dates that far out break. */
const MAX_POLICY_DURATION_MS = 3650 * 86_400_000;
import { closest } from '../closest-word';

const DURATION_HINT = 'a duration such as 30m, 4h, 1d12h or 7d (units s, m, h, d, w)';

/** Why `text` is not a usable duration, or null when it is one. */
function durationProblem(text: string, ms: number | null): string | null {
  if (ms === null && !isDurationText(text)) return `"${text}" is not ${DURATION_HINT}`;
  if (ms === 0) return `"${text}" is not longer than zero`;
  if (ms === null || ms > MAX_POLICY_DURATION_MS) {
    return `"${text}" is too long: at most ${formatPolicyDuration(MAX_POLICY_DURATION_MS)} (10 years)`;
  }
  return null;
}

const duration = z.string({ error: `must be ${DURATION_HINT}` }).transform((text, ctx) => {
  const ms = parsePolicyDuration(text);
  const problem = durationProblem(text, ms);
  if (problem !== null) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return ms ?? z.NEVER;
});

/** A value or a list of values (`action: disable` or `action: [disable, enable]`). */
function oneOrMany<T extends z.ZodType>(item: T, what: string, empty = 'must not be an empty list') {
  return z.preprocess(
    (value) => (typeof value === 'string' ? [value] : value),
    z.array(item, { error: `must be ${what}, or a list of them` }).min(1, { error: empty }),
  );
}

const text = (what: string) =>
  z
    .string({ error: `must be ${what}` })
    .trim()
    .min(1, { error: `must be ${what}, not empty` });

/** `"@jane" is not …`: on a line listing several values, says which one is wrong. */
const quoted = (input: unknown) => (typeof input === 'string' ? `"${input}" ` : '');

const NOT_A_NAME = 'not a name or handle: in Slack, open the profile or group and copy its ID';
const userOrGroup = text('a Slack user id (U…, W…) or user-group id (S…)').regex(/^[UWS][A-Z0-9]{2,}$/, {
  error: (issue) =>
    `${quoted(issue.input)}must be a Slack user id (U…, W…) or user-group id (S…), ${NOT_A_NAME}`,
});
const requester = z.union([z.literal('operators'), z.literal('members'), userOrGroup], {
  error: (issue) =>
    `${quoted(issue.input)}must be "operators", "members", a Slack user id (U…, W…) or a user-group id (S…), ${NOT_A_NAME}`,
});

/** Longest rule name: it is a label in tables and Slack messages, not a description. */
export const MAX_RULE_NAME_LENGTH = 80;

/** Controls and invisible format characters (bidi overrides such as U+202E, zero-width spaces). */
const HIDDEN_CHARACTER = /[\p{Cc}\p{Cf}]/u;

const ruleName = text('a short name')
  .max(MAX_RULE_NAME_LENGTH, { error: `must be at most ${MAX_RULE_NAME_LENGTH} characters (a short label)` })
  .refine((name) => !HIDDEN_CHARACTER.test(name), {
    error: (issue) => {
      const char = HIDDEN_CHARACTER.exec(String(issue.input))?.[0] ?? '';
      const code = char.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0');
      return `contains an invisible or control character (U+${code}), which can make the name read differently; remove it`;
    },
  });

const action = z.string({ error: 'must be an action name' }).transform((name, ctx): PolicyAction => {
  if (isPolicyAction(name)) return name;
  const near = closest(name, ACTION_NAMES);
  ctx.addIssue({
    code: 'custom',
    message: `unknown action "${name}"${near ? `; did you mean ${near}?` : ''} (known: ${ACTION_NAMES.join(', ')})`,
  });
  return z.NEVER;
});

const count = (what: string) =>
  z
    .number({ error: `must be a whole number (${what})` })
    .int({ error: `must be a whole number (${what})` })
    .min(1, { error: `must be at least 1 (${what})` });

const targetPatterns = oneOrMany(text('a pattern'), 'a pattern such as example.com or *-admin@*').optional();

export const targetSchema = z.strictObject(
  Object.fromEntries(TARGET_KEYS.map((key) => [key, targetPatterns])) as Record<
    (typeof TARGET_KEYS)[number],
    typeof targetPatterns
  >,
  { error: `must be a mapping with some of ${TARGET_KEYS.join(', ')}` },
);

export const remindSchema = z.strictObject(
  { after: duration, times: count('how many reminders at most').default(1) },
  { error: 'must be a mapping: {after: 4h, times: 2}' },
);

export const escalateSchema = z.strictObject(
  {
    after: duration,
    to: oneOrMany(userOrGroup, 'a Slack user or user-group id', 'must name at least one user or user group'),
  },
  { error: 'must be a mapping: {after: 12h, to: [S…]}' },
);

export const ruleSchema = z.strictObject(
  {
    name: ruleName.optional(),
    action: oneOrMany(action, `an action (${ACTION_NAMES.join(', ')})`, 'must name at least one action'),
    target: targetSchema.optional(),
    requesters: oneOrMany(
      requester,
      '"operators", "members" or a Slack user or user-group id',
      'is empty: nobody could ask',
    ).optional(),
    approvers: oneOrMany(
      userOrGroup,
      'a Slack user or user-group id',
      'is empty: no one could ever approve',
    ).optional(),
    approvals: count('distinct approvers needed, never the requester').optional(),
    reason: z.enum(['required', 'optional'], { error: 'must be required or optional' }).optional(),
    expires: duration.optional(),
    channel: text('a channel id')
      .regex(/^[CG][A-Z0-9]{2,}$/, {
        error:
          'must be a channel id (C…), not a name: in Slack, open the channel details and copy the Channel ID',
      })
      .optional(),
    remind: remindSchema.optional(),
    escalate: escalateSchema.optional(),
    breakGlass: z.boolean({ error: 'must be true or false' }).optional(),
    maxScheduleAhead: duration.optional(),
    maxDuration: duration.optional(),
    notifyBefore: oneOrMany(duration, 'a duration such as 1h', 'must name at least one duration').optional(),
  },
  { error: 'must be a mapping (a rule: action, target, approvers, …)' },
);

export const fileSchema = z.strictObject(
  { rules: z.array(ruleSchema, { error: 'must be a list of rules (each starting with "- action: …")' }) },
  { error: 'the policy file must be a mapping with a "rules:" list' },
);

export type RawRule = z.infer<typeof ruleSchema>;

/** The keys allowed in the mapping at a path of the file, for "did you mean" hints. */
export function knownKeysAt(path: readonly PropertyKey[]): readonly string[] {
  if (path.length === 0) return Object.keys(fileSchema.shape);
  if (path.length === 2) return Object.keys(ruleSchema.shape);
  const shapes: Record<string, { shape: object }> = {
    target: targetSchema,
    remind: remindSchema,
    escalate: escalateSchema,
  };
  return Object.keys(shapes[String(path[2])]?.shape ?? {});
}
