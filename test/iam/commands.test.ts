import type { CommandSwitches } from '../../src/config';
import {
  createUser,
  disableUser,
  enableUser,
  getUser,
  previewDisable,
  previewEnable,
  previewUpdate,
  updateUser,
} from '../../src/iam/commands';
import { createPlan, readApprovalPlan } from '../../src/iam/approval-plan';
import { getMappingFields, testModule } from '../../src/iam/directory-info';
import { parseUserProfile, ProfileError } from '../../src/iam/profile';
import type { ScimUser } from '../../src/scim/types';
import { sandboxContext, sandboxHarness, type SandboxHarness } from '../support/sandbox-directory';

let harness: SandboxHarness;
beforeEach(() => {
  harness = sandboxHarness();
});
afterEach(() => harness.close());

const context = (switches: Partial<CommandSwitches> = {}) => sandboxContext(harness, switches);

const profile = (value: Record<string, unknown>) => parseUserProfile(value);
const ALLOW = { allowEnable: true };

/** Puts a user straight into the sandbox and forgets the calls it took. */
async function seed(user: Partial<ScimUser> & { userName: string }): Promise<ScimUser> {
  const { user: created } = await harness.client.createUser({
    emails: [{ value: user.userName, type: 'work', primary: true }],
    ...user,
  });
  harness.calls.length = 0;
  return created;
}

const calls = () => harness.calls.map((c) => `${c.method} ${c.path}`);

describe('a create never gives a second account to someone who has one (hostile review F2)', () => {
  it("refuses a create whose email is another, inactive account's userName, sending nothing", async () => {
    await seed({ userName: 'alice@example.com', active: false });
    const result = await createUser(
      context(),
      profile({ email: 'alice@example.com', username: 'alice2@example.com' }),
      ALLOW,
    );
    expect(result.IAM.Vendor).toMatchObject({ success: false, errorCode: 409 });
    expect(result.IAM.Vendor.errorMessage).toContain(
      'the email alice@example.com already belongs to the inactive Atlassian user alice@example.com',
    );
    expect(calls()).toEqual(['GET /Users', 'GET /Users']);
  });

  it("refuses an update that would create a user carrying another account's email or employee id", async () => {
    await seed({ userName: 'alice@example.com', active: false });
    await seed({ userName: 'carol@example.com', externalId: 'E1' });
    const viaEmail = await updateUser(
      context(),
      profile({ email: 'alice@example.com', username: 'alice3@example.com' }),
      ALLOW,
    );
    expect(viaEmail.IAM.Vendor).toMatchObject({ success: false, errorCode: 409 });
    const viaEmployeeId = await createUser(
      context(),
      profile({ email: 'attacker@example.com', employeeid: 'E1' }),
      ALLOW,
    );
    expect(viaEmployeeId.IAM.Vendor.errorMessage).toContain('the employee id E1 already belongs');
    expect(calls().filter((c) => c.startsWith('POST'))).toEqual([]);
  });

  it('a create of someone new still costs one lookup and the POST', async () => {
    const result = await createUser(context(), profile({ email: 'new@example.com' }), ALLOW);
    expect(result.IAM.Vendor).toMatchObject({ success: true, action: 'create' });
    expect(calls()).toEqual(['GET /Users', 'POST /Users']);
  });
});

describe('the XSOAR integration unit-test scenarios', () => {
  it('get existing user', async () => {
    const existing = await seed({ userName: 'jane@example.com', name: { givenName: 'Jane' } });
    const result = await getUser(context(), profile({ email: 'jane@example.com' }));
    expect(result.IAM.Vendor).toMatchObject({
      action: 'get',
      success: true,
      active: true,
      id: existing.id,
      username: 'jane@example.com',
      email: 'jane@example.com',
      brand: 'Atlassian IAM',
      instanceName: 'Atlassian IAM_instance_1',
    });
    expect(result.IAM.Vendor.details).toMatchObject({ id: existing.id, userName: 'jane@example.com' });
    expect(result.IAM.UserProfile).toMatchObject({
      id: existing.id,
      email: 'jane@example.com',
      givenname: 'Jane',
    });
  });

  it('get missing user', async () => {
    const result = await getUser(context(), profile({ email: 'ghost@example.com' }));
    expect(result.IAM.Vendor).toMatchObject({
      action: 'get',
      success: false,
      errorCode: 404,
      errorMessage: 'User does not exist',
      details: null,
    });
  });

  it('create new user', async () => {
    const result = await createUser(
      context(),
      profile({ email: 'new@example.com', givenname: 'New' }),
      ALLOW,
    );
    expect(result.IAM.Vendor).toMatchObject({
      action: 'create',
      success: true,
      active: true,
      username: 'new@example.com',
    });
    expect(result.IAM.Vendor.id).toEqual(expect.any(String));
    expect(calls()).toEqual(['GET /Users', 'POST /Users']);
  });

  it('create existing and disabled user with allow-enable false', async () => {
    await seed({ userName: 'old@example.com', active: false });
    const result = await createUser(context(), profile({ email: 'old@example.com', title: 'Back' }), {
      allowEnable: false,
    });
    expect(result.IAM.Vendor).toMatchObject({ action: 'update', success: true, active: false });
    expect(result.IAM.Vendor.details).toMatchObject({ title: 'Back', active: false });
    expect(calls()).toEqual(['GET /Users', expect.stringMatching(/^PATCH \/Users\//)]);
  });

  it('update missing user with create-if-not-found', async () => {
    const result = await updateUser(context(), profile({ email: 'fresh@example.com' }), ALLOW);
    expect(result.IAM.Vendor).toMatchObject({
      action: 'create',
      success: true,
      username: 'fresh@example.com',
    });
    expect(calls()).toEqual(['GET /Users', 'POST /Users']);
  });

  it('update with the command disabled', async () => {
    const result = await updateUser(
      context({ updateEnabled: false }),
      profile({ email: 'a@example.com' }),
      ALLOW,
    );
    expect(result.IAM.Vendor).toMatchObject({
      action: 'update',
      success: true,
      skipped: true,
      reason: 'Command is disabled.',
    });
    expect(calls()).toEqual([]);
  });

  it('disable missing user', async () => {
    const result = await disableUser(context(), profile({ email: 'ghost@example.com' }));
    expect(result.IAM.Vendor).toMatchObject({
      action: 'disable',
      success: true,
      skipped: true,
      reason: 'User does not exist',
    });
    expect(calls()).toEqual(['GET /Users']);
  });

  it('mapping fields', async () => {
    const fields = await getMappingFields(harness.client);
    const names = fields.map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining(['userName', 'name.givenName', 'emails', 'active', 'title']),
    );
    expect(calls()).toEqual(['GET /Schemas/urn:ietf:params:scim:schemas:core:2.0:User']);
  });
});

describe('decision table, row by row (SPEC.md section 2)', () => {
  it('create | command disabled: skipped, no SCIM call', async () => {
    const result = await createUser(
      context({ createEnabled: false }),
      profile({ email: 'a@example.com' }),
      ALLOW,
    );
    expect(result.IAM.Vendor).toMatchObject({
      action: 'create',
      success: true,
      skipped: true,
      reason: 'Command is disabled.',
    });
    expect(calls()).toEqual([]);
  });

  it('create | user exists: lookup, then a PATCH as update', async () => {
    await seed({ userName: 'a@example.com' });
    const result = await createUser(context(), profile({ email: 'a@example.com', department: 'Ops' }), ALLOW);
    expect(result.IAM.Vendor).toMatchObject({ action: 'update', success: true, active: true });
    expect(result.IAM.Vendor.details).toMatchObject({ department: 'Ops' });
    expect(calls()).toHaveLength(2);
  });

  it('create | not found: lookup, POST; active from the response', async () => {
    const result = await createUser(context(), profile({ email: 'a@example.com', employeeid: 'E7' }), ALLOW);
    expect(result.IAM.Vendor).toMatchObject({ action: 'create', success: true, active: true });
    expect(result.IAM.Vendor.details).toMatchObject({ externalId: 'E7' });
  });

  it('update | found: one PATCH of the mapped attributes only, never active', async () => {
    const user = await seed({ userName: 'a@example.com', title: 'Old', department: 'Keep' });
    const result = await updateUser(
      context(),
      profile({ email: 'a@example.com', title: 'New', active: false }),
      ALLOW,
    );
    expect(result.IAM.Vendor).toMatchObject({ action: 'update', success: true, active: true });
    expect(result.IAM.Vendor.details).toMatchObject({ title: 'New', department: 'Keep', active: true });
    expect(calls()).toEqual(['GET /Users', `PATCH /Users/${user.id}`]);
  });

  it('update | found, inactive, allow-enable true and enabling allowed: the same PATCH sets active', async () => {
    await seed({ userName: 'a@example.com', active: false });
    const result = await updateUser(context(), profile({ email: 'a@example.com', title: 'Back' }), ALLOW);
    expect(result.IAM.Vendor).toMatchObject({ action: 'update', success: true, active: true });
    expect(calls()).toHaveLength(2);
  });

  it('update | found, inactive, enabling switched off: stays inactive', async () => {
    await seed({ userName: 'a@example.com', active: false });
    const result = await updateUser(
      context({ enableEnabled: false }),
      profile({ email: 'a@example.com' }),
      ALLOW,
    );
    expect(result.IAM.Vendor).toMatchObject({ action: 'update', success: true, active: false });
  });

  it('update | not found, create-if-not-found off: skipped', async () => {
    const result = await updateUser(
      context({ createIfNotFound: false }),
      profile({ email: 'a@example.com' }),
      ALLOW,
    );
    expect(result.IAM.Vendor).toMatchObject({
      action: 'update',
      skipped: true,
      reason: 'User does not exist',
    });
    expect(calls()).toEqual(['GET /Users']);
  });

  it('update | not found, create switched off: never creates', async () => {
    const result = await updateUser(
      context({ createEnabled: false }),
      profile({ email: 'a@example.com' }),
      ALLOW,
    );
    expect(result.IAM.Vendor).toMatchObject({
      action: 'update',
      skipped: true,
      reason: 'User does not exist',
    });
    expect(calls()).toEqual(['GET /Users']);
  });

  it('update | olduserdata finds a user whose email changed', async () => {
    const user = await seed({ userName: 'old@example.com' });
    const result = await updateUser(
      context(),
      profile({ email: 'new@example.com', olduserdata: { email: 'old@example.com' } }),
      ALLOW,
    );
    expect(result.IAM.Vendor).toMatchObject({
      action: 'update',
      success: true,
      id: user.id,
      username: 'new@example.com',
    });
    expect(calls()).toEqual(['GET /Users', `PATCH /Users/${user.id}`]);
  });

  it('get | by id: one GET of that id', async () => {
    const user = await seed({ userName: 'a@example.com' });
    const result = await getUser(context(), profile({ id: user.id }));
    expect(result.IAM.Vendor).toMatchObject({ success: true, id: user.id });
    expect(calls()).toEqual([`GET /Users/${user.id}`]);
  });

  it('get | by employee id when there is no email', async () => {
    await seed({ userName: 'a@example.com', externalId: 'E-9' });
    const result = await getUser(context(), profile({ employeeid: 'E-9' }));
    expect(result.IAM.Vendor).toMatchObject({ success: true, username: 'a@example.com' });
  });

  it('disable | command disabled: skipped, no SCIM call', async () => {
    const result = await disableUser(context({ disableEnabled: false }), profile({ email: 'a@example.com' }));
    expect(result.IAM.Vendor).toMatchObject({
      action: 'disable',
      skipped: true,
      reason: 'Command is disabled.',
    });
    expect(calls()).toEqual([]);
  });

  it('disable | already inactive: skipped, active false', async () => {
    await seed({ userName: 'a@example.com', active: false });
    const result = await disableUser(context(), profile({ email: 'a@example.com' }));
    expect(result.IAM.Vendor).toMatchObject({
      skipped: true,
      reason: 'User is already disabled.',
      active: false,
    });
    expect(calls()).toEqual(['GET /Users']);
  });

  it('disable | active: PATCH active false, reversible', async () => {
    const user = await seed({ userName: 'a@example.com' });
    const result = await disableUser(context(), profile({ email: 'a@example.com' }));
    expect(result.IAM.Vendor).toMatchObject({
      action: 'disable',
      success: true,
      skipped: false,
      active: false,
    });
    expect(calls()).toEqual(['GET /Users', `PATCH /Users/${user.id}`]);
    const again = await getUser(context(), profile({ id: user.id }));
    expect(again.IAM.Vendor.active).toBe(false);
  });

  it('enable | mirror of disable', async () => {
    await seed({ userName: 'a@example.com', active: false });
    const enabled = await enableUser(context(), profile({ email: 'a@example.com' }));
    expect(enabled.IAM.Vendor).toMatchObject({ action: 'enable', success: true, active: true });
    const again = await enableUser(context(), profile({ email: 'a@example.com' }));
    expect(again.IAM.Vendor).toMatchObject({
      skipped: true,
      reason: 'User is already enabled.',
      active: true,
    });
    const missing = await enableUser(context(), profile({ email: 'b@example.com' }));
    expect(missing.IAM.Vendor).toMatchObject({ skipped: true, reason: 'User does not exist' });
    const off = await enableUser(context({ enableEnabled: false }), profile({ email: 'a@example.com' }));
    expect(off.IAM.Vendor).toMatchObject({ skipped: true, reason: 'Command is disabled.' });
  });

  it('any | Atlassian error: success false with its status and detail', async () => {
    harness.failNext({
      status: 403,
      body: { error: 'Forbidden: the key cannot manage this directory', traceId: 't' },
    });
    const result = await disableUser(context(), profile({ email: 'a@example.com' }));
    expect(result.IAM.Vendor).toMatchObject({
      action: 'disable',
      success: false,
      errorCode: 403,
      errorMessage: 'Forbidden: the key cannot manage this directory',
    });
  });

  it('any | ScimError detail is the message', async () => {
    await seed({ userName: 'a@example.com' });
    harness.failNext({ status: 400, body: { schemas: [], status: '400', detail: 'title is too long' } });
    const result = await updateUser(context(), profile({ email: 'a@example.com' }), ALLOW);
    expect(result.IAM.Vendor).toMatchObject({
      action: 'update',
      success: false,
      errorCode: 400,
      errorMessage: 'title is too long',
    });
  });

  it('two users matching one lookup is an error and nothing changes', async () => {
    await seed({ userName: 'a@example.com', externalId: 'DUP' });
    await seed({ userName: 'b@example.com', externalId: 'DUP' });
    const result = await disableUser(context(), profile({ employeeid: 'DUP' }));
    expect(result.IAM.Vendor).toMatchObject({ success: false, errorCode: null });
    expect(result.IAM.Vendor.errorMessage).toMatch(/2 users match externalId "DUP"; nothing was changed/);
    expect(calls()).toEqual(['GET /Users']);
  });

  it('a profile with no identifier is refused before any SCIM call', async () => {
    await expect(getUser(context(), profile({ title: 'x' }))).rejects.toThrow(ProfileError);
    await expect(createUser(context(), profile({ title: 'x' }), ALLOW)).rejects.toThrow(/no identifier/);
    expect(calls()).toEqual([]);
  });
});

describe('previewDisable (the approval step of disable)', () => {
  it('finds an active user with one lookup and changes nothing', async () => {
    const user = await seed({ userName: 'a@example.com' });
    const preview = await previewDisable(context(), profile({ email: 'a@example.com' }));
    expect(preview).toEqual({ user: expect.objectContaining({ id: user.id, active: true }) });
    expect(calls()).toEqual(['GET /Users']);
  });

  it('gives the final disable result when there is nothing to approve', async () => {
    await seed({ userName: 'off@example.com', active: false });
    const inactive = await previewDisable(context(), profile({ email: 'off@example.com' }));
    expect(inactive).toMatchObject({
      final: { IAM: { Vendor: { action: 'disable', skipped: true, reason: 'User is already disabled.' } } },
    });
    const missing = await previewDisable(context(), profile({ email: 'ghost@example.com' }));
    expect(missing).toMatchObject({ final: { IAM: { Vendor: { reason: 'User does not exist' } } } });
    const off = await previewDisable(context({ disableEnabled: false }), profile({ email: 'a@example.com' }));
    expect(off).toMatchObject({ final: { IAM: { Vendor: { reason: 'Command is disabled.' } } } });
    expect(calls()).toEqual(['GET /Users', 'GET /Users']);
  });
});

describe('previewEnable and previewUpdate (the approval step of enable and update)', () => {
  it('previewEnable finds an inactive user with one lookup; an active one is the final result', async () => {
    const off = await seed({ userName: 'off@example.com', active: false });
    expect(await previewEnable(context(), profile({ email: 'off@example.com' }))).toEqual({
      user: expect.objectContaining({ id: off.id, active: false }),
    });
    await seed({ userName: 'on@example.com' });
    expect(await previewEnable(context(), profile({ email: 'on@example.com' }))).toMatchObject({
      final: { IAM: { Vendor: { reason: 'User is already enabled.' } } },
    });
    expect(calls()).toEqual(['GET /Users']);
  });

  it('an update changing only a title does not take the account over; case-only email differences are no change', async () => {
    await seed({ userName: 'Jane@Example.com', title: 'Intern' });
    const preview = await previewUpdate(
      context(),
      profile({ email: 'jane@example.com', title: 'Lead' }),
      ALLOW,
    );
    expect(preview).toMatchObject({
      update: {
        changes: [{ attribute: 'title', before: 'Intern', after: 'Lead' }],
        reenables: false,
        changesIdentifier: false,
        takesOver: false,
      },
    });
    expect(calls()).toEqual(['GET /Users']);
  });

  it('an update changing userName, an email or externalId, or re-enabling, takes the account over', async () => {
    await seed({ userName: 'kim@example.com', externalId: 'E1' });
    const renamed = await previewUpdate(
      context(),
      profile({ email: 'evil@example.com', olduserdata: { email: 'kim@example.com' } }),
      ALLOW,
    );
    expect(renamed).toMatchObject({ update: { changesIdentifier: true, takesOver: true } });
    const external = await previewUpdate(
      context(),
      profile({ email: 'kim@example.com', employeeid: 'E2' }),
      ALLOW,
    );
    expect(external).toMatchObject({
      update: { changes: [{ attribute: 'externalId', before: 'E1', after: 'E2' }], takesOver: true },
    });
    await seed({ userName: 'off@example.com', active: false });
    const reenable = await previewUpdate(context(), profile({ email: 'off@example.com' }), ALLOW);
    expect(reenable).toMatchObject({
      update: { reenables: true, takesOver: true, value: expect.objectContaining({ active: true }) },
    });
    const stays = await previewUpdate(context(), profile({ email: 'off@example.com' }), {
      allowEnable: false,
    });
    expect(stays).toMatchObject({ update: { reenables: false, takesOver: false } });
    expect(await previewUpdate(context(), profile({ email: 'nobody@example.com' }), ALLOW)).toEqual({
      notFound: true,
    });
    expect(calls().every((c) => c.startsWith('GET'))).toBe(true);
  });
});

describe('readApprovalPlan (a stored request is validated when loaded)', () => {
  it('accepts a pinned user and a pinned update', () => {
    expect(readApprovalPlan('disable', { id: 'u1', email: 'a@example.com' })).toEqual({
      action: 'disable',
      profile: { id: 'u1', email: 'a@example.com' },
    });
    const update = {
      id: 'u1',
      value: { title: 'x' },
      changes: [{ attribute: 'title', before: null, after: 'x' }],
    };
    // A request stored before fields could be cleared reads as clearing nothing.
    expect(readApprovalPlan('update', update)).toEqual({
      action: 'update',
      profile: { ...update, cleared: [], remove: [] },
    });
    const clearing = {
      id: 'u1',
      value: {},
      cleared: ['title'],
      remove: ['title'],
      changes: [{ attribute: 'title', before: 'x', after: null }],
    };
    expect(readApprovalPlan('update', clearing)).toEqual({ action: 'update', profile: clearing });
  });

  it('reads back the plan of a create as createPlan made it: the profile, each attribute from none', () => {
    const plan = createPlan({ email: 'new@example.com', department: 'Sales', active: true });
    expect(plan.profile).toEqual({
      email: 'new@example.com',
      user: { email: 'new@example.com', department: 'Sales', active: true },
      changes: [
        { attribute: 'email', before: null, after: 'new@example.com' },
        { attribute: 'department', before: null, after: 'Sales' },
        { attribute: 'active', before: null, after: 'true' },
      ],
    });
    expect(readApprovalPlan('create', plan.profile)).toEqual(plan);
  });

  it.each([
    ['disable', {}, /id/],
    ['disable', { id: '.' }, /not a usable Atlassian user id/],
    ['enable', { id: 'a/b' }, /not a usable Atlassian user id/],
    ['update', { id: 'u1', value: {}, changes: [] }, /no attribute to change/],
    ['update', { id: 'u1' }, /value/],
    ['create', { user: { department: 'x' }, changes: [] }, /needs an email or username/],
    ['create', { email: 'a@example.com', user: {}, changes: [] }, /no attribute to create/],
    ['rename', { id: 'u1' }, /unknown action/],
  ])('refuses %s with %j, saying why', (action, stored, reason) => {
    expect(() => readApprovalPlan(action, stored)).toThrow(reason);
  });
});

describe('test-module', () => {
  it('is ok against a working directory', async () => {
    expect(await testModule(harness.client)).toEqual({ ok: true });
    expect(calls()).toEqual(['GET /Users']);
  });

  it('reports what is wrong', async () => {
    harness.failNext({ status: 401, body: { error: 'Invalid API key', traceId: 't' } });
    expect(await testModule(harness.client)).toMatchObject({
      ok: false,
      status: 401,
      message: expect.stringMatching(/Invalid API key/),
    });
  });
});

describe('update can clear attributes (issue 13: the update form can clear a field)', () => {
  it('clearing sends a PATCH remove of the mapped path and the result shows the key as null', async () => {
    const user = await seed({
      userName: 'c@example.com',
      title: 'Lead',
      name: { givenName: 'Cy', familyName: 'Roe' },
    });
    const result = await updateUser(context(), profile({ email: 'c@example.com', department: 'Ops' }), {
      ...ALLOW,
      clear: ['title', 'givenname'],
    });
    expect(calls()).toEqual(['GET /Users', `PATCH /Users/${user.id}`]);
    expect(result.IAM.Vendor.details).toMatchObject({ department: 'Ops', name: { familyName: 'Roe' } });
    expect(result.IAM.Vendor.details).not.toHaveProperty('title');
    expect(result.IAM.Vendor.details?.name).not.toHaveProperty('givenName');
    expect(result.IAM.UserProfile).toMatchObject({ department: 'Ops', title: null, givenname: null });
  });

  it('refuses, before any request, a key that is also given a value or that the mapper cannot clear', async () => {
    await seed({ userName: 'c@example.com', title: 'Lead' });
    const both = updateUser(context(), profile({ email: 'c@example.com', title: 'New' }), {
      ...ALLOW,
      clear: ['title'],
    });
    await expect(both).rejects.toThrow(new ProfileError('title is both given a value and cleared'));
    const unmapped = updateUser(context(), profile({ email: 'c@example.com' }), {
      ...ALLOW,
      clear: ['mobilephone'], // mapped into phoneNumbers[0]: no plain path to remove
    });
    await expect(unmapped).rejects.toThrow(/mobilephone cannot be cleared/);
    expect(calls()).toEqual([]);
  });
});
