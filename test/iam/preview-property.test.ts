/**
 * Issue 14: "for random profiles the preview equals the change the sandbox directory then shows". The
 * plan (planCommand, built on the core previews) is taken, then the real command runs against the
 * sandbox directory through the real SCIM client, then the user is read back: every attribute the plan
 * names now holds its `after` (and held its `before`), and no attribute the plan does not name changed.
 */
import fc from 'fast-check';
import type { CommandSwitches } from '../../src/config';
import {
  changesOf,
  createUser,
  disableUser,
  enableUser,
  type IamContext,
  updateUser,
  type AttributeChange,
} from '../../src/iam/commands';
import { BUILT_IN_INCOMING, BUILT_IN_OUTGOING } from '../../src/iam/mappers';
import { planCommand, WRITE_COMMANDS, type WriteCommand } from '../../src/iam/plan';
import { parseUserProfile } from '../../src/iam/profile';
import type { ScimUser } from '../../src/scim/types';
import { sandboxHarness } from '../support/sandbox-directory';

const SWITCHES: CommandSwitches = {
  createEnabled: true,
  updateEnabled: true,
  disableEnabled: true,
  enableEnabled: true,
  createIfNotFound: true,
};

/** Profile keys an update form or CLI profile carries besides the identifier. */
const KEYS = ['givenname', 'surname', 'displayname', 'title', 'department', 'timezone', 'preferredlanguage'];
/** The ones the built-in mapper can clear (a plain path). */
const CLEARABLE = [
  'givenname',
  'surname',
  'displayname',
  'title',
  'department',
  'timezone',
  'preferredlanguage',
];

/** Values that collide often (so "no change" and case-only changes happen), and arbitrary text. */
const value = fc.oneof(
  fc.constantFrom('Engineer', 'engineer', 'Lead', 'Ops', 'Europe/Berlin', 'en-US', 'Jane', 'Doe'),
  fc.string({ minLength: 1, maxLength: 24 }).filter((text) => text.trim() !== ''),
);

/** A seeded user's attributes (SCIM) and the update profile (keys, values, keys to clear). */
const scenario = fc.record({
  seeded: fc.record(
    {
      title: value,
      department: value,
      displayName: value,
      givenName: value,
      familyName: value,
      timezone: value,
      active: fc.boolean(),
    },
    { requiredKeys: ['active'] },
  ),
  given: fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: KEYS.length }),
  clear: fc.subarray(CLEARABLE),
  allowEnable: fc.boolean(),
});

/** A user's attributes without what every write changes by itself (meta) or never (id, schemas). */
function attributesOf(user: ScimUser): Record<string, unknown> {
  const { meta: _meta, id: _id, schemas: _schemas, ...rest } = user as ScimUser & { meta?: unknown };
  return rest;
}

/** Every attribute whose value differs between `before` and `after`, both ways round. */
function actualChanges(before: ScimUser, after: ScimUser): Map<string, AttributeChange> {
  const changes = new Map<string, AttributeChange>();
  for (const change of changesOf(before, attributesOf(after))) changes.set(change.attribute, change);
  for (const change of changesOf(after, attributesOf(before))) {
    if (!changes.has(change.attribute))
      changes.set(change.attribute, {
        attribute: change.attribute,
        before: change.after,
        after: change.before,
      });
  }
  return changes;
}

it('for random profiles, the preview is exactly the change the sandbox directory then shows', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(scenario, async ({ seeded, given, clear, allowEnable }) => {
      const harness = sandboxHarness();
      try {
        const email = `prop-${++n}@example.com`;
        const { givenName, familyName, active, ...plain } = seeded;
        const { user: created } = await harness.client.createUser({
          userName: email,
          emails: [{ value: email, type: 'work', primary: true }],
          ...plain,
          ...(givenName || familyName ? { name: { givenName, familyName } } : {}),
        });
        const id = created.id as string;
        if (!active) await harness.client.patchUser(id, [{ op: 'replace', value: { active: false } }]);
        const context: IamContext = {
          directory: harness.client,
          switches: SWITCHES,
          instanceName: 'Atlassian IAM_instance_1',
          outgoing: BUILT_IN_OUTGOING,
          incoming: BUILT_IN_INCOMING,
        };
        const profile = parseUserProfile({ email, ...given });
        const options = { allowEnable, clear: clear.filter((key) => !(key in given)) };
        const before = (await harness.client.getUserById(id)) as ScimUser;

        const plan = await planCommand('iam-update-user', context, profile, options);
        const result = await updateUser(context, profile, options);
        const after = (await harness.client.getUserById(id)) as ScimUser;

        expect(result.IAM.Vendor.success).toBe(true);
        const actual = actualChanges(before, after);
        if (plan.kind === 'no-change') {
          expect([...actual.values()]).toEqual([]);
          return;
        }
        expect(plan.kind).toBe('change');
        if (plan.kind !== 'change') return;
        // Every previewed `after` is what the directory holds now; nothing else changed.
        expect(new Map(plan.changes.map((change) => [change.attribute, change]))).toEqual(actual);
      } finally {
        harness.close();
      }
    }),
    { numRuns: 150 },
  );
});

const RUN: Record<WriteCommand, typeof createUser> = {
  'iam-create-user': createUser,
  'iam-update-user': updateUser,
  'iam-disable-user': (context, profile) => disableUser(context, profile),
  'iam-enable-user': (context, profile) => enableUser(context, profile),
};

it('for every write command, user present or not, active or not: the plan is what the directory then shows', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...WRITE_COMMANDS),
      fc.boolean(),
      fc.boolean(),
      fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 4 }),
      async (command, exists, active, given) => {
        const harness = sandboxHarness();
        try {
          const email = `any-${++n}@example.com`;
          if (exists) {
            const { user } = await harness.client.createUser({
              userName: email,
              emails: [{ value: email, type: 'work', primary: true }],
              title: 'Engineer',
            });
            if (!active)
              await harness.client.patchUser(user.id as string, [
                { op: 'replace', value: { active: false } },
              ]);
          }
          const context: IamContext = {
            directory: harness.client,
            switches: SWITCHES,
            instanceName: 'Atlassian IAM_instance_1',
            outgoing: BUILT_IN_OUTGOING,
            incoming: BUILT_IN_INCOMING,
          };
          const profile = parseUserProfile({ email, ...given });
          const read = async () => (await harness.client.findUsers('userName', email))[0] ?? null;
          const before = await read();

          const plan = await planCommand(command, context, profile, { allowEnable: true });
          await RUN[command](context, profile, { allowEnable: true });
          const after = await read();

          if (plan.kind === 'create') {
            expect(before).toBeNull();
            expect(after).not.toBeNull();
            const created = new Map(
              changesOf({}, attributesOf(after as ScimUser)).map((c) => [c.attribute, c]),
            );
            for (const change of plan.changes) expect(created.get(change.attribute)).toEqual(change);
            return;
          }
          expect(before === null).toBe(after === null);
          if (before === null || after === null) return;
          const actual = actualChanges(before, after);
          const planned = plan.kind === 'change' ? plan.changes : [];
          expect(new Map(planned.map((change) => [change.attribute, change]))).toEqual(actual);
        } finally {
          harness.close();
        }
      },
    ),
    { numRuns: 150 },
  );
});
