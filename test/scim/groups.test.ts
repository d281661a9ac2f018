import nock from 'nock';
import { createScimClient, type ScimClient } from '../../src/scim/client';
import { scimFailure } from '../support/scim-failure';

const BASE = 'https://scim.test.example';
const PREFIX = '/scim/directory/dir-1';
const TOKEN = 'tok-SECRET-123';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const JIRA = {
  schemas: [GROUP_SCHEMA],
  id: 'g-1',
  displayName: 'jira-software-users',
  members: [{ type: 'User', value: 'u-1', display: 'jane@example.com' }],
};

const clients: ScimClient[] = [];
let sleeps: number[] = [];

function client(): ScimClient {
  sleeps = [];
  const created = createScimClient({
    baseUrl: BASE,
    directoryId: 'dir-1',
    accessToken: TOKEN,
    proxy: null,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
  });
  clients.push(created);
  return created;
}

const atlassian = () => nock(BASE);

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  for (const c of clients.splice(0)) c.close();
});
afterAll(() => {
  nock.enableNetConnect();
  nock.restore();
});

describe('group requests', () => {
  it('findGroupsByName sends displayName eq with the same escaping as users', async () => {
    const scope = atlassian()
      .get(`${PREFIX}/Groups`)
      .query({ filter: 'displayName eq "quote\\"and\\\\back"' })
      .matchHeader('authorization', `Bearer ${TOKEN}`)
      .reply(200, { totalResults: 1, Resources: [JIRA] });
    await expect(client().findGroupsByName('quote"and\\back')).resolves.toEqual([JIRA]);
    scope.done();
  });

  it('listGroups pages with startIndex and count', async () => {
    const scope = atlassian()
      .get(`${PREFIX}/Groups`)
      .query({ startIndex: '101', count: '100' })
      .reply(200, { totalResults: 150, Resources: [JIRA] });
    await expect(client().listGroups(101, 100)).resolves.toEqual({ groups: [JIRA], totalResults: 150 });
    scope.done();
  });

  it('addGroupMembers sends ONE PATCH, the body of the document example', async () => {
    let body: unknown;
    const scope = atlassian()
      .patch(`${PREFIX}/Groups/g-1`, (b: unknown) => {
        body = b;
        return true;
      })
      .matchHeader('content-type', 'application/scim+json')
      .reply(200, JIRA);
    await client().addGroupMembers('g-1', ['u-1', 'u-2']);
    expect(body).toEqual({
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'add', path: 'members', value: [{ value: 'u-1' }, { value: 'u-2' }] }],
    });
    scope.done();
  });

  it('removeGroupMembers sends ONE PATCH with members[value eq "<id>"] (RFC 7644 3.5.2.2)', async () => {
    let body: unknown;
    const scope = atlassian()
      .patch(`${PREFIX}/Groups/g-1`, (b: unknown) => {
        body = b;
        return true;
      })
      .reply(204);
    await client().removeGroupMembers('g-1', ['u-1']);
    expect(body).toEqual({
      schemas: [PATCH_SCHEMA],
      Operations: [{ op: 'remove', path: 'members[value eq "u-1"]' }],
    });
    scope.done();
  });

  it('createGroup POSTs the Group schema and the name', async () => {
    const scope = atlassian()
      .post(`${PREFIX}/Groups`, { schemas: [GROUP_SCHEMA], displayName: 'team-a' })
      .reply(201, { ...JIRA, id: 'g-2', displayName: 'team-a', members: [] });
    await expect(client().createGroup('team-a')).resolves.toMatchObject({ id: 'g-2' });
    scope.done();
  });

  it('getGroupById answers null on 404', async () => {
    atlassian().get(`${PREFIX}/Groups/nope`).reply(404, { detail: 'Group not found.' });
    await expect(client().getGroupById('nope')).resolves.toBeNull();
  });
});

describe('group errors', () => {
  it('409 on create says the name is taken, without retrying', async () => {
    atlassian().post(`${PREFIX}/Groups`).reply(409, { detail: 'A group with same name already exists.' });
    const error = await scimFailure(client().createGroup('jira-software-users'));
    expect(error.status).toBe(409);
    expect(error.message).toBe('a group named "jira-software-users" already exists (HTTP 409)');
    expect(sleeps).toEqual([]);
  });

  it('404 on a membership PATCH says the group or user does not exist, with Atlassian’s words', async () => {
    atlassian().patch(`${PREFIX}/Groups/g-1`).reply(404, { detail: 'User not found.' });
    const error = await scimFailure(client().addGroupMembers('g-1', ['u-9']));
    expect(error.status).toBe(404);
    expect(error.message).toBe('the group or the user does not exist (HTTP 404): User not found.');
  });

  it('a membership PATCH is retried exactly as user calls are (503, then 200)', async () => {
    const scope = atlassian()
      .patch(`${PREFIX}/Groups/g-1`)
      .reply(503)
      .patch(`${PREFIX}/Groups/g-1`)
      .reply(200, JIRA);
    await client().addGroupMembers('g-1', ['u-1']);
    expect(sleeps).toEqual([125]);
    scope.done();
  });

  it('a group write that may have landed (5xx until the retries end) says to look the group up, not a user', async () => {
    atlassian().post(`${PREFIX}/Groups`).times(5).reply(503);
    const error = await scimFailure(client().createGroup('team-a'));
    expect(error.message).toMatch(
      /the group may have been created all the same: look the group up before trying again$/,
    );
    atlassian().patch(`${PREFIX}/Groups/g-1`).times(5).reply(503);
    const patch = await scimFailure(client().addGroupMembers('g-1', ['u-1']));
    expect(patch.message).toMatch(/the change may have been made all the same: look the group up/);
  });

  it.each(['', '.', '..', 'a/b'])('refuses the group id %j before any URL is built', async (id) => {
    const c = client();
    await expect(c.getGroupById(id)).rejects.toThrow(/not a valid group id; nothing was sent/);
    await expect(c.addGroupMembers(id, ['u-1'])).rejects.toThrow(/not a valid group id; nothing was sent/);
    await expect(c.removeGroupMembers('g-1', [id])).rejects.toThrow(/not a valid user id; nothing was sent/);
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('an answer that is not a Group with a string id is refused', async () => {
    atlassian()
      .get(`${PREFIX}/Groups/g-1`)
      .reply(200, { schemas: [GROUP_SCHEMA], displayName: 'x' });
    await expect(client().getGroupById('g-1')).rejects.toThrow(/expected a Group with a string id/);
    atlassian()
      .get(`${PREFIX}/Groups`)
      .query(true)
      .reply(200, {
        Resources: [{ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: 'u', displayName: 'u' }],
      });
    await expect(client().findGroupsByName('x')).rejects.toThrow(/Resources is not a list of groups/);
  });
});
