import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { parseUserProfile, ProfileError } from '../../src/iam/profile';
import { unstorableCharacter, UnstorableTextError } from '../../src/storable-text';
import {
  AlreadyOpenError,
  type ApprovalRequest,
  type ApprovalRule,
  type ClaimedFollowUp,
  LEGACY_RULE,
  type NewApproval,
  type NewApprovalFollowUp,
  type NewAuditEntry,
  type NewGrant,
  type Store,
} from '../../src/store';
import { hostileText } from '../support/hostile-text';

/** Fixed times, with milliseconds, so a store that drops precision fails the round trip. */
export const T0 = new Date('2030-01-01T00:00:00.123Z');
export const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

export function newApproval(overrides: Partial<NewApproval> = {}): NewApproval {
  return {
    id: randomUUID(),
    action: 'disable',
    requesterId: 'U0REQUESTER',
    channelId: 'C0CHANNEL',
    teamId: 'T0TEAM',
    enterpriseId: null,
    profile: { email: 'jane@example.com', olduserdata: { email: 'j.doe@example.com' }, active: true },
    target: 'jane@example.com',
    reason: 'left the company',
    createdAt: at(0),
    expiresAt: at(60),
    ...overrides,
  };
}

export function newAudit(overrides: Partial<NewAuditEntry> = {}): NewAuditEntry {
  return {
    at: at(0),
    actor: 'U0OPERATOR',
    source: 'slack',
    kind: 'command',
    command: 'iam-get-user',
    target: 'jane@example.com',
    outcome: 'success',
    requestId: null,
    detail: { IAM: { Vendor: { success: true } } },
    ...overrides,
  };
}

/** The audit row of a completed request's result (see Store.completeApproval). */
export const resultRow = (requestId: string): NewAuditEntry =>
  newAudit({ kind: 'result', command: 'iam-disable-user', outcome: 'success', requestId });

export function newGrant(overrides: Partial<NewGrant> = {}): NewGrant {
  return {
    id: randomUUID(),
    requestId: randomUUID(),
    userId: 'u-jane',
    target: 'jane@example.com',
    slackUserId: 'U0JANE',
    groupId: 'g-jira',
    groupName: 'jira-software-users',
    grantedBy: 'U0APPROVER',
    grantedAt: at(0),
    endsAt: at(60),
    channelId: 'C0CHANNEL',
    threadTs: '1712345678.000100',
    noticesAt: [at(0), at(59)],
    ...overrides,
  };
}

/** A new grant as the store hands it back: active, never claimed. */
const storedGrant = ({ noticesAt: _noticesAt, ...grant }: NewGrant) => ({
  ...grant,
  endedAt: null,
  endedBy: null,
  endReason: null,
  claimedBy: null,
  endAttempts: 0,
});

/** Stores every request at once, half through `store`, half through `other`: what was stored, what was refused. */
async function raceToStore(store: Store, other: Store, requests: NewApproval[]) {
  const settled = await Promise.allSettled(
    requests.map((request, i) => (i % 2 === 0 ? store : other).createApproval(request)),
  );
  const stored = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const refused = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as Error] : []));
  return { stored, refused };
}

/** Each refusal is AlreadyOpenError naming `open`. */
function expectRefusedFor(refused: Error[], open: ApprovalRequest, count: number) {
  expect(refused).toHaveLength(count);
  for (const error of refused) {
    expect(error).toBeInstanceOf(AlreadyOpenError);
    expect((error as AlreadyOpenError).existing).toMatchObject({ id: open.id, status: open.status });
  }
}

/** The audit row of a grant's end (see GrantStore.endGrant). */
export const endRow = (overrides: Partial<NewAuditEntry> = {}): NewAuditEntry =>
  newAudit({
    kind: 'result',
    command: 'grant-revoke',
    outcome: 'success',
    detail: { group: 'jira' },
    ...overrides,
  });

export interface StoreBackend {
  /** A fresh, empty store for each test. */
  makeStore(): Promise<Store>;
  /** Another instance on the database `makeStore` gave last: a second connection or pool, or a restart. */
  openAgain(): Promise<Store>;
  /** From now on every audit row written to that database fails, as a broken disk or a full one would. */
  refuseAuditRows(): Promise<void>;
  /** Runs after every store of the test is closed (e.g. to delete a temporary database). */
  cleanup?(): Promise<void> | void;
}

/** The behaviour every `Store` backend must have, alone and as several instances on one database. */
export function describeStoreContract(name: string, backend: StoreBackend): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    const others: Store[] = [];
    const another = async (): Promise<Store> => {
      const s = await backend.openAgain();
      others.push(s);
      return s;
    };

    beforeEach(async () => {
      store = await backend.makeStore();
    });

    afterEach(async () => {
      for (const s of [store, ...others.splice(0)]) await s.close();
      await backend.cleanup?.();
    });

    describe('approval requests', () => {
      it('round-trips every field of a created request', async () => {
        const request = newApproval({
          profile: { email: 'zoë@example.com', name: { given: 'Zoë', family: '王' }, tags: ['a', 1, null] },
          target: 'zoë@example.com',
        });
        const created = await store.createApproval(request);
        const expected = {
          ...request,
          messageTs: null,
          status: 'pending',
          decidedBy: null,
          decidedAt: null,
          result: null,
        };
        expect(created).toEqual(expected);
        const read = await store.getApproval(request.id);
        expect(read).toEqual(expected);
        expect(read?.createdAt).toBeInstanceOf(Date);
        expect(read?.createdAt.getTime()).toBe(request.createdAt.getTime());
        expect(read?.expiresAt.getTime()).toBe(request.expiresAt.getTime());
      });

      it('keeps the team and enterprise a request was made in, or null (finding 9: decisions bound to their context)', async () => {
        const grid = newApproval({ teamId: 'T0GRID', enterpriseId: 'E0ORG' });
        const unknown = newApproval({ teamId: null, enterpriseId: null, createdAt: at(1) });
        await store.createApproval(grid);
        await store.createApproval(unknown);
        expect(await store.getApproval(grid.id)).toMatchObject({ teamId: 'T0GRID', enterpriseId: 'E0ORG' });
        expect(await store.getApproval(unknown.id)).toMatchObject({ teamId: null, enterpriseId: null });
        expect((await store.listPendingApprovals()).map((r) => r.enterpriseId)).toEqual(['E0ORG', null]);
      });

      it('keeps a null reason', async () => {
        const request = newApproval({ reason: null });
        await store.createApproval(request);
        expect((await store.getApproval(request.id))?.reason).toBeNull();
      });

      it('refuses a second request with the same id', async () => {
        const request = newApproval();
        await store.createApproval(request);
        await expect(store.createApproval({ ...request, target: 'other@example.com' })).rejects.toThrow(
          /already exists/,
        );
        expect((await store.getApproval(request.id))?.target).toBe(request.target);
      });

      it('records where the request message was posted', async () => {
        const request = newApproval();
        await store.createApproval(request);
        await store.setApprovalMessage(request.id, 'C0OTHER', '1712345678.000100');
        const read = await store.getApproval(request.id);
        expect(read).toMatchObject({
          channelId: 'C0OTHER',
          messageTs: '1712345678.000100',
          status: 'pending',
        });
      });

      it('answers null or false for an unknown id', async () => {
        expect(await store.getApproval('no-such-id')).toBeNull();
        expect(await store.decideApproval('no-such-id', 'approved', 'U0APPROVER', at(1))).toBeNull();
        expect(await store.completeApproval('no-such-id', { ok: true }, resultRow('no-such-id'))).toBe(false);
        await expect(store.setApprovalMessage('no-such-id', 'C0CHANNEL', '1.2')).resolves.toBeUndefined();
        expect(await store.getApproval('no-such-id')).toBeNull();
      });
    });

    describe('deciding', () => {
      it('decides a request exactly once: the first approval wins', async () => {
        const request = newApproval();
        await store.createApproval(request);
        const first = await store.decideApproval(request.id, 'approved', 'U0FIRST', at(5));
        expect(first).toMatchObject({ id: request.id, status: 'approved', decidedBy: 'U0FIRST' });
        expect(first?.decidedAt?.getTime()).toBe(at(5).getTime());
        expect(await store.decideApproval(request.id, 'approved', 'U0SECOND', at(6))).toBeNull();
        expect(await store.decideApproval(request.id, 'denied', 'U0THIRD', at(7))).toBeNull();
        const read = await store.getApproval(request.id);
        expect(read).toMatchObject({ status: 'approved', decidedBy: 'U0FIRST' });
        expect(read?.decidedAt?.getTime()).toBe(at(5).getTime());
      });

      it('denies, after which nothing else decides or completes it', async () => {
        const request = newApproval();
        await store.createApproval(request);
        const denied = await store.decideApproval(request.id, 'denied', 'U0APPROVER', at(2));
        expect(denied).toMatchObject({ status: 'denied', decidedBy: 'U0APPROVER', decidedAt: at(2) });
        expect(await store.decideApproval(request.id, 'approved', 'U0OTHER', at(3))).toBeNull();
        expect(await store.completeApproval(request.id, { ok: true }, resultRow(request.id))).toBe(false);
        expect(await store.getApproval(request.id)).toMatchObject({ status: 'denied', result: null });
      });

      it('does not decide a request at or after its expiry', async () => {
        const request = newApproval({ expiresAt: at(10) });
        await store.createApproval(request);
        expect(await store.decideApproval(request.id, 'approved', 'U0APPROVER', at(10))).toBeNull();
        expect(await store.decideApproval(request.id, 'denied', 'U0APPROVER', at(11))).toBeNull();
        const read = await store.getApproval(request.id);
        expect(read?.status).not.toMatch(/approved|denied/);
        expect(read?.decidedBy).toBeNull();
        // One millisecond before expiry still counts.
        const other = newApproval({ expiresAt: at(10) });
        await store.createApproval(other);
        const decided = await store.decideApproval(
          other.id,
          'approved',
          'U0APPROVER',
          new Date(at(10).getTime() - 1),
        );
        expect(decided?.status).toBe('approved');
      });

      it('lets exactly one of 50 concurrent decisions win', async () => {
        const request = newApproval();
        await store.createApproval(request);
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.decideApproval(request.id, i % 2 === 0 ? 'approved' : 'denied', `U0DECIDER${i}`, at(1)),
          ),
        );
        const winners = results.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        const read = await store.getApproval(request.id);
        expect(read).toMatchObject({ status: winners[0]?.status, decidedBy: winners[0]?.decidedBy });
      });

      it('writes the decision row with the decision: once, by the winner of concurrent decisions', async () => {
        const request = newApproval();
        await store.createApproval(request);
        const record = (i: number) =>
          newAudit({ kind: 'decision', command: 'approve', actor: `U0DECIDER${i}`, requestId: request.id });
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.decideApproval(request.id, 'approved', `U0DECIDER${i}`, at(1), record(i)),
          ),
        );
        const winners = results.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        const rows = (await store.listAudit({ limit: 100 })).filter((e) => e.requestId === request.id);
        expect(rows).toEqual([{ ...record(0), actor: winners[0]?.decidedBy, id: rows[0]?.id }]);
      });

      it('decides nothing when the decision row cannot be written', async () => {
        const request = newApproval();
        await store.createApproval(request);
        const before = (await store.listAudit({ limit: 1 }))[0]?.id ?? 0;
        await expect(
          store.decideApproval(
            request.id,
            'approved',
            'U0APPROVER',
            at(1),
            newAudit({ actor: 'U0\u0000', kind: 'decision', requestId: request.id }),
          ),
        ).rejects.toThrow(UnstorableTextError);
        expect(await store.getApproval(request.id)).toMatchObject({ status: 'pending', decidedBy: null });
        expect((await store.listAudit({ limit: 1 }))[0]?.id ?? 0).toBe(before);
      });
    });

    describe('approval rules and votes (issue 14: N-of-M approvals)', () => {
      const twoOfM: ApprovalRule = {
        ...LEGACY_RULE,
        source: 'file',
        number: 2,
        name: 'admin-disable',
        approvals: 2,
        approvers: { ids: ['U0A', 'U0B', 'S0SECURITY'], admins: false },
        escalate: { afterMs: 3_600_000, to: ['S0CISO'] },
        remind: { afterMs: 600_000, times: 2 },
        reason: 'required',
        // What it was matched on, so a click can be matched again under the policy running then.
        target: { email: 'boss-admin@example.com', username: 'boss-admin@example.com', department: null },
      };
      const voteRow =
        (request: NewApproval, voter: string, minutes: number) => (vote: { decided: boolean }) =>
          newAudit({
            at: at(minutes),
            actor: voter,
            kind: 'decision',
            command: 'approve',
            outcome: vote.decided ? 'approved' : 'voted',
            requestId: request.id,
          });

      it('keeps the rule a request was made under; one stored without reads as before (no rule)', async () => {
        const ruled = newApproval({ rule: twoOfM });
        const plain = newApproval({ createdAt: at(1) });
        expect((await store.createApproval(ruled)).rule).toEqual(twoOfM);
        expect((await store.getApproval(ruled.id))?.rule).toEqual(twoOfM);
        expect((await store.listPendingApprovals()).map((r) => r.rule)).toEqual([twoOfM, undefined]);
        expect(await store.createApproval(plain)).not.toHaveProperty('rule');
      });

      it('approves on the second distinct vote; a repeated vote changes nothing', async () => {
        const request = newApproval({ rule: twoOfM });
        await store.createApproval(request);
        const first = await store.voteApproval(request.id, 'U0A', at(1), voteRow(request, 'U0A', 1));
        expect(first).toMatchObject({ voters: ['U0A'], counted: true, decided: false });
        expect(first?.request).toMatchObject({ status: 'pending', decidedBy: null });
        const again = await store.voteApproval(request.id, 'U0A', at(2), voteRow(request, 'U0A', 2));
        expect(again).toMatchObject({ voters: ['U0A'], counted: false, decided: false });
        expect(await store.getApproval(request.id)).toMatchObject({ status: 'pending' });
        const second = await store.voteApproval(request.id, 'U0B', at(3), voteRow(request, 'U0B', 3));
        expect(second).toMatchObject({ voters: ['U0A', 'U0B'], counted: true, decided: true });
        expect(second?.request).toMatchObject({ status: 'approved', decidedBy: 'U0B', decidedAt: at(3) });
        expect(await store.voteApproval(request.id, 'U0C', at(4))).toBeNull();
        expect(await store.listVoters(request.id)).toEqual(['U0A', 'U0B']);
        expect(await store.listVoters('no-such-id')).toEqual([]);
        const rows = (await store.listAudit()).filter((e) => e.requestId === request.id);
        expect(rows.map((e) => [e.actor, e.outcome])).toEqual([
          ['U0B', 'approved'],
          ['U0A', 'voted'],
        ]);
      });

      it('approves a request stored without a rule on its first vote', async () => {
        const request = newApproval();
        await store.createApproval(request);
        const vote = await store.voteApproval(request.id, 'U0A', at(1));
        expect(vote).toMatchObject({ voters: ['U0A'], decided: true });
        expect(await store.getApproval(request.id)).toMatchObject({ status: 'approved', decidedBy: 'U0A' });
      });

      it('takes no vote after the expiry, after a deny, or for an unknown id; a deny ends a half-approved request', async () => {
        const expiring = newApproval({ rule: twoOfM, expiresAt: at(10) });
        const denied = newApproval({ rule: twoOfM });
        for (const r of [expiring, denied]) await store.createApproval(r);
        expect(await store.voteApproval(expiring.id, 'U0A', at(10))).toBeNull();
        expect(await store.voteApproval(denied.id, 'U0A', at(1))).toMatchObject({ decided: false });
        expect(await store.decideApproval(denied.id, 'denied', 'U0B', at(2))).toMatchObject({
          status: 'denied',
          decidedBy: 'U0B',
        });
        expect(await store.voteApproval(denied.id, 'U0C', at(3))).toBeNull();
        expect(await store.voteApproval('no-such-id', 'U0A', at(1))).toBeNull();
        expect(await store.getApproval(expiring.id)).toMatchObject({ status: 'pending' });
      });

      it('leaves out the votes of voters who no longer qualify: a counted vote drops them, a repeat only skips them', async () => {
        const request = newApproval({ rule: twoOfM });
        await store.createApproval(request);
        await store.voteApproval(request.id, 'U0A', at(1), voteRow(request, 'U0A', 1));
        const again = await store.voteApproval(request.id, 'U0A', at(2), voteRow(request, 'U0A', 2), ['U0A']);
        expect(again).toMatchObject({ voters: ['U0A'], counted: false });
        const second = await store.voteApproval(request.id, 'U0B', at(3), voteRow(request, 'U0B', 3), [
          'U0A',
        ]);
        expect(second).toMatchObject({ voters: ['U0B'], counted: true, decided: false });
        expect(second?.request).toMatchObject({ status: 'pending', decidedBy: null });
        expect(await store.listVoters(request.id)).toEqual(['U0B']);
        const third = await store.voteApproval(request.id, 'U0C', at(4), voteRow(request, 'U0C', 4), ['U0Z']);
        expect(third).toMatchObject({ voters: ['U0B', 'U0C'], decided: true });
        expect(third?.request).toMatchObject({ status: 'approved', decidedBy: 'U0C' });
        const rows = (await store.listAudit()).filter((e) => e.requestId === request.id);
        expect(rows.map((e) => [e.actor, e.outcome])).toEqual([
          ['U0C', 'approved'],
          ['U0B', 'voted'],
          ['U0A', 'voted'],
        ]);
      });

      it('keeps the lapsed votes when the vote that would drop them cannot be recorded', async () => {
        const request = newApproval({ rule: twoOfM });
        await store.createApproval(request);
        await store.voteApproval(request.id, 'U0A', at(1));
        const bad = () => newAudit({ actor: 'U0\u0000', kind: 'decision', requestId: request.id });
        await expect(store.voteApproval(request.id, 'U0B', at(2), bad, ['U0A'])).rejects.toThrow(
          UnstorableTextError,
        );
        expect(await store.listVoters(request.id)).toEqual(['U0A']);
      });

      it('records no vote when its audit row cannot be written', async () => {
        const request = newApproval({ rule: twoOfM });
        await store.createApproval(request);
        const bad = () => newAudit({ actor: 'U0\u0000', kind: 'decision', requestId: request.id });
        await expect(store.voteApproval(request.id, 'U0A', at(1), bad)).rejects.toThrow(UnstorableTextError);
        expect(await store.voteApproval(request.id, 'U0A', at(2))).toMatchObject({ counted: true });
      });

      it('with two needed and three voters racing on two instances, exactly one vote decides', async () => {
        const b = await another();
        for (let round = 0; round < 10; round++) {
          const request = newApproval({ rule: twoOfM, createdAt: at(round) });
          await store.createApproval(request);
          const votes = await Promise.all(
            ['U0A', 'U0B', 'U0C'].map((voter, i) =>
              (i % 2 === 0 ? store : b).voteApproval(request.id, voter, at(20), voteRow(request, voter, 20)),
            ),
          );
          expect(votes.filter((v) => v?.decided)).toHaveLength(1);
          expect(votes.filter((v) => v === null)).toHaveLength(1);
          const rows = (await b.listAudit({ limit: 1000 })).filter((e) => e.requestId === request.id);
          expect(rows.map((e) => e.outcome).sort()).toEqual(['approved', 'voted']);
          expect(await b.getApproval(request.id)).toMatchObject({ status: 'approved' });
        }
      });
    });

    describe('actions and failing', () => {
      it('keeps the action of each request: disable, enable, update, grant, create', async () => {
        for (const action of ['disable', 'enable', 'update', 'grant', 'create'] as const) {
          const request = newApproval({ action });
          expect((await store.createApproval(request)).action).toBe(action);
          expect((await store.getApproval(request.id))?.action).toBe(action);
        }
      });

      it('carries a create (a profile with no user id) through approval, one claim and completion', async () => {
        const profile = {
          email: 'new@example.com',
          user: { email: 'new@example.com', department: 'Sales' },
          changes: [{ attribute: 'department', before: null, after: 'Sales' }],
        };
        const request = newApproval({ action: 'create', profile, target: 'new@example.com' });
        await store.createApproval(request);
        expect(await store.decideApproval(request.id, 'approved', 'U0APPROVER', at(1))).toMatchObject({
          action: 'create',
          profile,
        });
        const claims = await Promise.all(
          Array.from({ length: 5 }, () => store.claimApproval(request.id, at(2), 60_000)),
        );
        expect(claims.filter((c) => c !== null)).toHaveLength(1);
        await store.completeApproval(request.id, { ok: true }, resultRow(request.id));
        expect(await store.getApproval(request.id)).toMatchObject({
          action: 'create',
          status: 'completed',
          profile,
        });
      });

      it('ends a pending or an approved request as failed, once, keeping the reason', async () => {
        const pending = newApproval();
        const approved = newApproval({ action: 'update' });
        await store.createApproval(pending);
        await store.createApproval(approved);
        await store.decideApproval(approved.id, 'approved', 'U0APPROVER', at(1));
        const ended = await Promise.all(
          Array.from({ length: 10 }, () => store.failApproval(approved.id, 'no usable id')),
        );
        expect(ended.filter((r) => r !== null)).toHaveLength(1);
        expect(ended.find((r) => r !== null)).toMatchObject({
          id: approved.id,
          action: 'update',
          status: 'failed',
          decidedBy: 'U0APPROVER',
          result: { reason: 'no usable id' },
        });
        expect(await store.failApproval(pending.id, 'not posted')).toMatchObject({ status: 'failed' });
        expect((await store.getApproval(pending.id))?.result).toEqual({ reason: 'not posted' });
      });

      it('never fails a denied, expired, completed or unknown request; a failed one is never decided, claimed, completed, expired or listed', async () => {
        const denied = newApproval();
        const expired = newApproval({ expiresAt: at(1) });
        const completed = newApproval();
        const failed = newApproval({ expiresAt: at(1) });
        for (const r of [denied, expired, completed, failed]) await store.createApproval(r);
        await store.decideApproval(denied.id, 'denied', 'U0APPROVER', at(0));
        await store.decideApproval(completed.id, 'approved', 'U0APPROVER', at(0));
        await store.completeApproval(completed.id, { ok: true }, resultRow(completed.id));
        await store.failApproval(failed.id, 'broken');
        await store.expireApprovals(at(2));
        for (const r of [denied, expired, completed, failed]) {
          expect(await store.failApproval(r.id, 'again')).toBeNull();
        }
        expect(await store.failApproval('no-such-id', 'x')).toBeNull();
        expect(await store.decideApproval(failed.id, 'approved', 'U0APPROVER', at(0))).toBeNull();
        expect(await store.claimApproval(failed.id, at(0), 1000)).toBeNull();
        expect(await store.completeApproval(failed.id, { ok: true }, resultRow(failed.id))).toBe(false);
        expect(await store.listPendingApprovals()).toEqual([]);
        expect(await store.listApprovedIncomplete()).toEqual([]);
        expect(await store.getApproval(failed.id)).toMatchObject({
          status: 'failed',
          result: { reason: 'broken' },
        });
      });
    });

    describe('failing with its audit row (issue 11: no change without its record)', () => {
      it('writes the failure row with the failure: once, by the one of concurrent callers that failed it', async () => {
        const request = newApproval();
        await store.createApproval(request);
        await store.decideApproval(request.id, 'approved', 'U0APPROVER', at(1));
        const row = (actor: string) =>
          newAudit({
            kind: 'result',
            command: 'iam-disable-user',
            outcome: 'failed',
            actor,
            requestId: request.id,
          });
        const ended = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.failApproval(request.id, 'no usable id', row(`U0SYS${i}`)),
          ),
        );
        const winner = ended.findIndex((r) => r !== null);
        expect(ended.filter((r) => r !== null)).toHaveLength(1);
        const rows = (await store.listAudit()).filter((e) => e.requestId === request.id);
        expect(rows).toEqual([{ ...row(`U0SYS${winner}`), id: rows[0]?.id }]);
        expect(await store.failApproval(request.id, 'again', row('U0LATE'))).toBeNull();
        expect((await store.listAudit()).filter((e) => e.requestId === request.id)).toHaveLength(1);
      });

      it('fails nothing when the failure row cannot be written', async () => {
        const request = newApproval();
        await store.createApproval(request);
        await store.decideApproval(request.id, 'approved', 'U0APPROVER', at(1));
        const row = newAudit({ kind: 'result', outcome: 'failed', requestId: request.id });
        await expect(store.failApproval(request.id, 'broken', { ...row, actor: 'U0\u0000' })).rejects.toThrow(
          UnstorableTextError,
        );
        await backend.refuseAuditRows();
        // The driver's error, maybe from another realm (a native addon loaded by an earlier test file).
        const refused = await store.failApproval(request.id, 'broken', row).then(
          () => 'failed',
          () => 'refused',
        );
        expect(refused).toBe('refused');
        expect(await store.getApproval(request.id)).toMatchObject({ status: 'approved', result: null });
        expect(await store.listAudit()).toEqual([]);
      });
    });

    describe('claiming an approved request', () => {
      it('gives the lease to one caller at a time, and again once it has run out', async () => {
        const request = newApproval();
        await store.createApproval(request);
        expect(await store.claimApproval(request.id, at(1), 60_000)).toBeNull();
        await store.decideApproval(request.id, 'approved', 'U0APPROVER', at(1));
        const claims = await Promise.all(
          Array.from({ length: 20 }, () => store.claimApproval(request.id, at(2), 60_000)),
        );
        expect(claims.filter((c) => c !== null)).toHaveLength(1);
        expect(claims.find((c) => c !== null)).toMatchObject({ id: request.id, status: 'approved' });
        expect(await store.claimApproval(request.id, new Date(at(2).getTime() + 59_999), 60_000)).toBeNull();
        expect(
          await store.claimApproval(request.id, new Date(at(2).getTime() + 60_000), 60_000),
        ).not.toBeNull();
      });

      it('renews a lease only for its holder, so a live holder past its first lease is never taken over (issue 11: leases renewed while work runs)', async () => {
        const request = newApproval();
        await store.createApproval(request);
        await store.decideApproval(request.id, 'approved', 'U0APPROVER', at(1));
        expect(await store.claimApproval(request.id, at(2), 60_000, 'host/1/a')).not.toBeNull();
        expect(await store.renewClaim(request.id, 'host/2/b', at(2.5), 60_000)).toBe(false);
        expect(await store.renewClaim(request.id, 'host/1/a', at(2.5), 60_000)).toBe(true);
        // Past the first lease (at(3)) but within the renewed one (at(3.5)): still held.
        expect(await store.claimApproval(request.id, at(3.2), 60_000, 'host/2/b')).toBeNull();
        expect(await store.claimApproval(request.id, at(3.5), 60_000, 'host/2/b')).not.toBeNull();
        expect(await store.renewClaim(request.id, 'host/1/a', at(3.6), 60_000)).toBe(false);
      });

      it('counts attempts and defers an approved request after a transient failure: not claimed before its next attempt, still approved (issue 11: approved work survives Atlassian trouble)', async () => {
        const request = newApproval();
        await store.createApproval(request);
        await store.decideApproval(request.id, 'approved', 'U0APPROVER', at(1));
        const first = await store.claimApproval(request.id, at(2), 60_000, 'host/1/a');
        expect(first?.attempts).toBe(1);
        expect(await store.deferApproval(request.id, 'host/2/b', at(4), 'not mine')).toBeNull();
        const deferred = await store.deferApproval(request.id, 'host/1/a', at(4), 'Atlassian answered 503');
        expect(deferred).toMatchObject({
          status: 'approved',
          attempts: 1,
          nextAttemptAt: at(4),
          lastError: 'Atlassian answered 503',
        });
        expect(await store.getApproval(request.id)).toEqual(deferred);
        expect((await store.listApprovedIncomplete()).map((r) => r.id)).toEqual([request.id]);
        // The lease ended with the deferral, but the next attempt is not due before at(4).
        expect(await store.claimApproval(request.id, at(3.9), 60_000, 'host/2/b')).toBeNull();
        const second = await store.claimApproval(request.id, at(4), 60_000, 'host/2/b');
        expect(second).toMatchObject({
          attempts: 2,
          claimedBy: 'host/2/b',
          lastError: 'Atlassian answered 503',
        });
        expect(await store.completeApproval(request.id, { ok: true }, resultRow(request.id))).toBe(true);
        expect(await store.deferApproval(request.id, 'host/2/b', at(9), 'late')).toBeNull();
        const unstorable = newApproval();
        await store.createApproval(unstorable);
        await store.decideApproval(unstorable.id, 'approved', 'U0APPROVER', at(1));
        await store.claimApproval(unstorable.id, at(2), 60_000, 'me');
        const kept = await store.deferApproval(unstorable.id, 'me', at(3), 'bad \u0000 text');
        expect(kept?.lastError).toContain('bad');
      });

      it('cannot claim a completed, denied or unknown request', async () => {
        const request = newApproval();
        await store.createApproval(request);
        await store.decideApproval(request.id, 'approved', 'U0APPROVER', at(1));
        await store.completeApproval(request.id, { ok: true }, resultRow(request.id));
        expect(await store.claimApproval(request.id, at(2), 1000)).toBeNull();
        const denied = newApproval();
        await store.createApproval(denied);
        await store.decideApproval(denied.id, 'denied', 'U0APPROVER', at(1));
        expect(await store.claimApproval(denied.id, at(2), 1000)).toBeNull();
        expect(await store.claimApproval('no-such-id', at(2), 1000)).toBeNull();
      });
    });

    describe('completing', () => {
      it('completes only an approved request, once, keeping its result', async () => {
        const request = newApproval();
        await store.createApproval(request);
        expect(await store.completeApproval(request.id, { early: true }, resultRow(request.id))).toBe(false);
        await store.decideApproval(request.id, 'approved', 'U0APPROVER', at(1));
        const result = {
          IAM: { Vendor: { action: 'disable', success: true, active: false, details: null } },
        };
        expect(await store.completeApproval(request.id, result, resultRow(request.id))).toBe(true);
        expect(await store.completeApproval(request.id, { again: true }, resultRow(request.id))).toBe(false);
        const read = await store.getApproval(request.id);
        expect(read).toMatchObject({ status: 'completed', decidedBy: 'U0APPROVER', result });
        // Its result row was written with it, once: not by the calls that completed nothing.
        const rows = (await store.listAudit()).filter((e) => e.requestId === request.id);
        expect(rows).toEqual([{ ...resultRow(request.id), id: rows[0]?.id }]);
      });

      it('completes nothing when the result row cannot be written (issue 11: the kill window between them)', async () => {
        const request = newApproval();
        await store.createApproval(request);
        await store.decideApproval(request.id, 'approved', 'U0APPROVER', at(1));
        await backend.refuseAuditRows();
        // The driver's error, maybe from another realm (a native addon loaded by an earlier test file).
        const refused = await store.completeApproval(request.id, { ok: true }, resultRow(request.id)).then(
          () => 'completed',
          () => 'refused',
        );
        expect(refused).toBe('refused');
        expect(await store.getApproval(request.id)).toMatchObject({ status: 'approved', result: null });
        expect(await store.listUnannounced()).toEqual([]);
        expect(await store.listAudit()).toEqual([]);
      });

      it('keeps a completed request unannounced until marked, its announcement claimed by one caller at a time (issue 11: a restart announces what a crash completed)', async () => {
        const request = newApproval();
        await store.createApproval(request);
        await store.decideApproval(request.id, 'approved', 'U0APPROVER', at(1));
        await store.claimApproval(request.id, at(2), 60_000, 'host/1/a');
        expect(await store.listUnannounced()).toEqual([]);
        await store.completeApproval(request.id, { ok: true }, resultRow(request.id));
        expect((await store.listUnannounced()).map((r) => [r.id, r.status])).toEqual([
          [request.id, 'completed'],
        ]);
        // The completer's lease still runs, and its heartbeat extends it while it announces.
        expect(await store.claimAnnouncement(request.id, at(2.5), 60_000, 'host/2/b')).toBeNull();
        expect(await store.renewClaim(request.id, 'host/1/a', at(2.5), 60_000)).toBe(true);
        expect(await store.claimAnnouncement(request.id, at(3.2), 60_000, 'host/2/b')).toBeNull();
        // A holder known to be dead is taken over at once; then one caller at a time.
        const takers = await Promise.all([
          store.claimAnnouncement(request.id, at(3.2), 60_000, 'host/2/b', 'host/1/a'),
          store.claimAnnouncement(request.id, at(3.2), 60_000, 'host/3/c', 'host/1/a'),
        ]);
        expect(takers.filter((t) => t !== null)).toHaveLength(1);
        expect(await store.claimAnnouncement(request.id, at(9), 60_000, 'host/4/d')).not.toBeNull();
        await store.markAnnounced(request.id);
        expect(await store.listUnannounced()).toEqual([]);
        expect(await store.claimAnnouncement(request.id, at(20), 60_000, 'host/4/d')).toBeNull();
        expect(await store.renewClaim(request.id, 'host/4/d', at(20), 60_000)).toBe(false);
        expect(await store.claimApproval(request.id, at(20), 60_000, 'host/4/d')).toBeNull();
      });

      it('does not complete an expired request', async () => {
        const request = newApproval({ expiresAt: at(1) });
        await store.createApproval(request);
        await store.expireApprovals(at(2));
        expect(await store.completeApproval(request.id, { ok: true }, resultRow(request.id))).toBe(false);
        expect((await store.getApproval(request.id))?.status).toBe('expired');
      });
    });

    describe('expiring', () => {
      it('expires pending requests due at or before now, each once, and leaves the rest', async () => {
        const past = newApproval({ createdAt: at(0), expiresAt: at(5) });
        const exact = newApproval({ createdAt: at(1), expiresAt: at(10) });
        const future = newApproval({ createdAt: at(2), expiresAt: at(11) });
        const approved = newApproval({ createdAt: at(3), expiresAt: at(4) });
        for (const r of [future, exact, past, approved]) await store.createApproval(r);
        await store.decideApproval(approved.id, 'approved', 'U0APPROVER', at(3));

        const expired = await store.expireApprovals(at(10));
        expect(expired.map((r) => r.id).sort()).toEqual([past.id, exact.id].sort());
        expect(expired.every((r) => r.status === 'expired')).toBe(true);
        expect(await store.expireApprovals(at(10))).toEqual([]);

        expect((await store.getApproval(past.id))?.status).toBe('expired');
        expect((await store.getApproval(future.id))?.status).toBe('pending');
        expect((await store.getApproval(approved.id))?.status).toBe('approved');
        expect(await store.decideApproval(past.id, 'approved', 'U0APPROVER', at(1))).toBeNull();
      });

      it('hands each expired request to only one of several concurrent callers', async () => {
        const requests = Array.from({ length: 20 }, (_, i) =>
          newApproval({ createdAt: at(i), expiresAt: at(30) }),
        );
        for (const r of requests) await store.createApproval(r);
        const batches = await Promise.all(Array.from({ length: 5 }, () => store.expireApprovals(at(30))));
        const ids = batches.flat().map((r) => r.id);
        expect(ids).toHaveLength(requests.length);
        expect(new Set(ids)).toEqual(new Set(requests.map((r) => r.id)));
      });
    });

    describe('listing', () => {
      it('lists pending requests oldest first, without decided or expired ones', async () => {
        const a = newApproval({ createdAt: at(3) });
        const b = newApproval({ createdAt: at(1) });
        const c = newApproval({ createdAt: at(2) });
        const decided = newApproval({ createdAt: at(0) });
        const expired = newApproval({ createdAt: at(0), expiresAt: at(4) });
        for (const r of [a, b, c, decided, expired]) await store.createApproval(r);
        await store.decideApproval(decided.id, 'denied', 'U0APPROVER', at(4));
        await store.expireApprovals(at(5));
        const pending = await store.listPendingApprovals();
        expect(pending.map((r) => r.id)).toEqual([b.id, c.id, a.id]);
        expect(pending.every((r) => r.status === 'pending')).toBe(true);
      });

      it('lists approved but incomplete requests only', async () => {
        const approved = newApproval({ createdAt: at(1) });
        const completed = newApproval({ createdAt: at(2) });
        const denied = newApproval({ createdAt: at(3) });
        const pending = newApproval({ createdAt: at(4) });
        for (const r of [approved, completed, denied, pending]) await store.createApproval(r);
        await store.decideApproval(approved.id, 'approved', 'U0APPROVER', at(5));
        await store.decideApproval(completed.id, 'approved', 'U0APPROVER', at(5));
        await store.completeApproval(completed.id, { ok: true }, resultRow(completed.id));
        await store.decideApproval(denied.id, 'denied', 'U0APPROVER', at(5));
        const incomplete = await store.listApprovedIncomplete();
        expect(incomplete.map((r) => r.id)).toEqual([approved.id]);
        expect(incomplete[0]).toMatchObject({
          status: 'approved',
          decidedBy: 'U0APPROVER',
          profile: approved.profile,
        });
      });
    });

    describe('scheduled requests (issue 14: scheduled disables)', () => {
      const scheduled = (minutes: number, overrides: Partial<NewApproval> = {}) =>
        newApproval({
          schedule: { at: at(minutes), zone: 'Europe/Berlin' },
          expiresAt: at(minutes),
          approvedBy: 'cli:admin',
          ...overrides,
        });

      it('keeps the schedule and its zone, and a request approved ahead as approved by its actor', async () => {
        const request = scheduled(30);
        const created = await store.createApproval(request);
        expect(created).toMatchObject({
          status: 'approved',
          decidedBy: 'cli:admin',
          decidedAt: at(0),
          scheduledAt: at(30),
          scheduleZone: 'Europe/Berlin',
        });
        expect(await store.getApproval(request.id)).toEqual(created);
        const pending = await store.createApproval(scheduled(30, { approvedBy: undefined }));
        expect(pending).toMatchObject({ status: 'pending', decidedBy: null, scheduledAt: at(30) });
        const plain = await store.createApproval(newApproval());
        expect(plain.scheduledAt).toBeUndefined();
      });

      it('is not claimed before its time, by claimApproval or claimDueScheduled', async () => {
        const { id } = await store.createApproval(scheduled(30));
        expect(await store.claimApproval(id, at(29), 60_000, 'me')).toBeNull();
        expect(await store.claimDueScheduled(at(29), 60_000, 'me', 10)).toEqual([]);
        const [claimed] = await store.claimDueScheduled(at(30), 60_000, 'me', 10);
        expect(claimed).toMatchObject({ id, claimedBy: 'me' });
      });

      it('claims due approved ones only, soonest first, up to the limit, each once while its lease runs', async () => {
        const late = await store.createApproval(scheduled(20));
        const early = await store.createApproval(scheduled(10));
        const third = await store.createApproval(scheduled(15));
        await store.createApproval(scheduled(10, { approvedBy: undefined })); // pending: never claimed
        await store.createApproval(scheduled(40)); // not due
        const first = await store.claimDueScheduled(at(30), 60_000, 'a', 2);
        expect(first.map((r) => r.id)).toEqual([early.id, third.id]);
        const second = await store.claimDueScheduled(at(30), 60_000, 'b', 10);
        expect(second.map((r) => r.id)).toEqual([late.id]);
        expect(await store.claimDueScheduled(at(30), 60_000, 'b', 10)).toEqual([]);
        // A claimant that crashed: its lease runs out and the request is claimed again.
        const again = await store.claimDueScheduled(at(32), 60_000, 'c', 10);
        expect(again.map((r) => r.id)).toEqual([early.id, third.id, late.id]);
        expect(await store.completeApproval(early.id, { done: true }, resultRow(early.id))).toBe(true);
        expect((await store.claimDueScheduled(at(40), 60_000, 'd', 10)).map((r) => r.id)).not.toContain(
          early.id,
        );
      });

      it('hands each of 60 due requests to exactly one of two connections claiming at once', async () => {
        const other = await another();
        const ids = new Set<string>();
        for (let i = 0; i < 60; i++) ids.add((await store.createApproval(scheduled(i % 7))).id);
        const claimAll = async (s: Store, owner: string) => {
          const mine: string[] = [];
          for (;;) {
            const batch = await s.claimDueScheduled(at(10), 60_000, owner, 5);
            if (batch.length === 0) return mine;
            mine.push(...batch.map((r) => r.id));
          }
        };
        const [a, b] = await Promise.all([claimAll(store, 'a'), claimAll(other, 'b')]);
        expect([...a, ...b].sort()).toEqual([...ids].sort());
      });

      it('lists pending and approved scheduled requests, soonest first', async () => {
        const later = await store.createApproval(scheduled(20));
        const sooner = await store.createApproval(scheduled(10, { approvedBy: undefined }));
        await store.createApproval(newApproval());
        const done = await store.createApproval(scheduled(5));
        await store.completeApproval(done.id, {}, resultRow(done.id));
        expect((await store.listScheduled()).map((r) => r.id)).toEqual([sooner.id, later.id]);
      });

      /** A Cancel click's audit row (see Store.cancelScheduled). */
      const cancelRow = (requestId: string, actor: string, minutes: number) =>
        newAudit({
          at: at(minutes),
          actor,
          kind: 'decision',
          command: 'cancel',
          outcome: 'cancelled',
          requestId,
        });
      const rowsOf = async (id: string) => (await store.listAudit()).filter((e) => e.requestId === id);

      it('keeps one open schedule per user: of ten racing on two instances one is stored, the rest refused naming it, storing nothing; once it has ended another may be (task D: two CLI --at at once)', async () => {
        const other = await another();
        const ofJane = (minutes: number, overrides: Partial<NewApproval> = {}) =>
          scheduled(minutes, { profile: { id: 'u-jane', email: 'jane@example.com' }, ...overrides });
        const attempts = Array.from({ length: 10 }, (_, i) => ofJane(30 + i));
        const { stored, refused } = await raceToStore(store, other, attempts);
        expect(stored).toHaveLength(1);
        const [open] = stored;
        expectRefusedFor(refused, open, 9);
        expect((await other.listScheduled()).map((r) => r.id)).toEqual([open.id]);
        for (const request of attempts.filter((r) => r.id !== open.id)) {
          expect(await store.getApproval(request.id)).toBeNull();
        }
        // A pending one is refused too; another user's schedule and an unscheduled disable are not.
        await expect(store.createApproval(ofJane(50, { approvedBy: undefined }))).rejects.toThrow(
          AlreadyOpenError,
        );
        await store.createApproval(scheduled(30, { profile: { id: 'u-john' } }));
        await store.createApproval(newApproval({ profile: { id: 'u-jane' } }));
        // Cancelled, it no longer counts; nor does one carried out.
        await store.cancelScheduled(open.id, cancelRow(open.id, 'U0REQUESTER', 1));
        const next = await other.createApproval(ofJane(60));
        await store.claimDueScheduled(at(60), 60_000, 'a', 10);
        await store.completeApproval(next.id, {}, resultRow(next.id));
        await expect(store.createApproval(ofJane(70))).resolves.toMatchObject({ status: 'approved' });
      });

      it('cancels before its time, once, keeping who and when; never at its time or while claimed', async () => {
        const request = await store.createApproval(scheduled(30));
        const cancel = (id: string, by: string, minutes: number) =>
          store.cancelScheduled(id, cancelRow(id, by, minutes));
        const cancelled = await cancel(request.id, 'U0REQUESTER', 5);
        expect(cancelled).toMatchObject({
          status: 'cancelled',
          decidedBy: 'cli:admin',
          result: { cancelledBy: 'U0REQUESTER', cancelledAt: at(5).toISOString() },
        });
        expect(await cancel(request.id, 'U0OTHER', 6)).toBeNull();
        expect(await store.claimDueScheduled(at(31), 60_000, 'x', 10)).toEqual([]);
        expect(await store.listScheduled()).toEqual([]);
        expect((await rowsOf(request.id)).map((e) => [e.actor, e.command, e.outcome])).toEqual([
          ['U0REQUESTER', 'cancel', 'cancelled'],
        ]);

        const due = await store.createApproval(scheduled(30));
        expect(await cancel(due.id, 'U0REQUESTER', 30)).toBeNull();
        const claimed = await store.createApproval(scheduled(30));
        await store.claimApproval(claimed.id, at(30), 60_000, 'x');
        expect(await cancel(claimed.id, 'U0REQUESTER', 29)).toBeNull();
        expect(await cancel(newApproval().id, 'U0REQUESTER', 1)).toBeNull();
        const plain = await store.createApproval(newApproval());
        expect(await cancel(plain.id, 'U0REQUESTER', 1)).toBeNull();
        for (const id of [due.id, claimed.id, plain.id]) expect(await rowsOf(id)).toEqual([]);
      });

      it('writes the cancel row once, by the one of concurrent cancellers that cancelled it', async () => {
        const b = await another();
        const request = await store.createApproval(scheduled(30));
        const cancelled = await Promise.all(
          ['U0A', 'U0B', 'U0C', 'U0D'].map((by, i) =>
            (i % 2 === 0 ? store : b).cancelScheduled(request.id, cancelRow(request.id, by, 5)),
          ),
        );
        const winners = cancelled.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        const by = winners[0]?.result?.cancelledBy;
        expect((await rowsOf(request.id)).map((e) => e.actor)).toEqual([by]);
      });

      it('cancels nothing when the cancel row cannot be written', async () => {
        const request = await store.createApproval(scheduled(30));
        const row = cancelRow(request.id, 'U0REQUESTER', 5);
        await expect(store.cancelScheduled(request.id, { ...row, actor: 'U0\u0000' })).rejects.toThrow(
          UnstorableTextError,
        );
        await backend.refuseAuditRows();
        // The driver's error, maybe from another realm (a native addon loaded by an earlier test file).
        const refused = await store.cancelScheduled(request.id, row).then(
          () => 'cancelled',
          () => 'refused',
        );
        expect(refused).toBe('refused');
        expect(await store.getApproval(request.id)).toMatchObject({ status: 'approved', result: null });
        expect((await store.listScheduled()).map((r) => r.id)).toEqual([request.id]);
        expect(await store.listAudit()).toEqual([]);
      });
    });

    it('keeps no clock of its own unless it takes its times from a database server (one clock)', async () => {
      // SQLite, and PostgreSQL on the caller's clock (as these contract tests open it): the caller's times.
      expect(await store.databaseTime()).toBeNull();
    });

    describe('grants (issue 15: time-bound group access)', () => {
      const ids = (grants: { id: string }[]) => grants.map((g) => g.id);

      it('round-trips every field of a grant, with or without an end; an unknown id reads as null', async () => {
        const timed = newGrant({ target: 'zoë@example.com', groupName: 'Zoë’s 王 group' });
        const open = newGrant({
          requestId: null,
          slackUserId: null,
          endsAt: null,
          channelId: null,
          threadTs: null,
          noticesAt: [],
        });
        expect(await store.createGrant(timed)).toEqual(storedGrant(timed));
        expect(await store.createGrant(open)).toEqual(storedGrant(open));
        expect(await store.getGrant(timed.id)).toEqual(storedGrant(timed));
        expect(await store.getGrant(open.id)).toEqual(storedGrant(open));
        expect((await store.getGrant(timed.id))?.endsAt?.getTime()).toBe(at(60).getTime());
        expect(await store.getGrant('no-such-grant')).toBeNull();
        expect(await store.getGrant('a\u0000')).toBeNull();
      });

      it('refuses a second grant with the same id, and text no store can keep, storing nothing', async () => {
        const grant = newGrant();
        await store.createGrant(grant);
        await expect(store.createGrant({ ...grant, target: 'other@example.com' })).rejects.toThrow(
          /already exists/,
        );
        await expect(store.createGrant(newGrant({ groupName: 'a\u0000' }))).rejects.toThrow(
          UnstorableTextError,
        );
        expect(ids(await store.listGrants())).toEqual([grant.id]);
      });

      it('lists soonest end first, grants without an end last, filtered by person, user, group, state and end', async () => {
        const late = await store.createGrant(newGrant({ endsAt: at(90) }));
        const forever = await store.createGrant(newGrant({ endsAt: null, noticesAt: [] }));
        const soon = await store.createGrant(
          newGrant({ endsAt: at(30), slackUserId: 'U0BOB', userId: 'u-bob' }),
        );
        const other = await store.createGrant(newGrant({ endsAt: at(45), groupId: 'g-conf' }));
        await store.endGrant(other.id, { by: 'U0OPERATOR', at: at(10), reason: 'revoked' }, endRow());
        expect(ids(await store.listGrants())).toEqual([soon.id, other.id, late.id, forever.id]);
        expect(ids(await store.listGrants({ slackUserId: 'U0JANE' }))).toEqual([
          other.id,
          late.id,
          forever.id,
        ]);
        expect(ids(await store.listGrants({ userId: 'u-bob' }))).toEqual([soon.id]);
        expect(ids(await store.listGrants({ groupId: 'g-jira', active: true }))).toEqual([
          soon.id,
          late.id,
          forever.id,
        ]);
        expect(ids(await store.listGrants({ active: false }))).toEqual([other.id]);
        expect(ids(await store.listGrants({ endingBefore: at(90), active: true }))).toEqual([soon.id]);
        expect(await store.listGrants({ slackUserId: 'U0\u0000' })).toEqual([]);
      });

      it('claims due active ends only, soonest first, up to the limit, each once while its lease runs', async () => {
        const late = await store.createGrant(newGrant({ endsAt: at(20) }));
        const early = await store.createGrant(newGrant({ endsAt: at(10) }));
        const third = await store.createGrant(newGrant({ endsAt: at(15) }));
        await store.createGrant(newGrant({ endsAt: at(40) })); // not due
        await store.createGrant(newGrant({ endsAt: null, noticesAt: [] })); // never ends by itself
        const ended = await store.createGrant(newGrant({ endsAt: at(5) }));
        await store.endGrant(ended.id, { by: 'U0JANE', at: at(4), reason: 'done' }, endRow());
        const first = await store.claimDueGrantEnds(at(30), 60_000, 'a', 2);
        expect(ids(first)).toEqual([early.id, third.id]);
        expect(first[0]).toMatchObject({ claimedBy: 'a', endedAt: null });
        expect(ids(await store.claimDueGrantEnds(at(30), 60_000, 'b', 10))).toEqual([late.id]);
        expect(await store.claimDueGrantEnds(at(30), 60_000, 'b', 10)).toEqual([]);
        // A claimant that crashed: its lease runs out and the end is claimed again.
        const again = await store.claimDueGrantEnds(at(32), 60_000, 'c', 10);
        expect(ids(again)).toEqual([early.id, third.id, late.id]);
        expect(
          await store.endGrant(early.id, { by: 'c', at: at(32), reason: 'expired' }, endRow()),
        ).not.toBeNull();
        expect(ids(await store.claimDueGrantEnds(at(40), 60_000, 'd', 10))).not.toContain(early.id);
      });

      it('ends a grant once, keeping who, when and why; never again, and never an unknown one', async () => {
        const grant = await store.createGrant(newGrant());
        const ended = await store.endGrant(
          grant.id,
          { by: 'U0OPERATOR', at: at(5), reason: 'revoked' },
          endRow(),
        );
        expect(ended).toEqual({
          ...grant,
          endedAt: at(5),
          endedBy: 'U0OPERATOR',
          endReason: 'revoked',
        });
        expect(
          await store.endGrant(grant.id, { by: 'sweeper', at: at(60), reason: 'expired' }, endRow()),
        ).toBeNull();
        expect(await store.getGrant(grant.id)).toEqual(ended);
        expect(
          await store.endGrant('no-such-grant', { by: 'U0OPERATOR', at: at(5), reason: 'done' }, endRow()),
        ).toBeNull();
        expect(await store.claimDueGrantEnds(at(61), 60_000, 'a', 10)).toEqual([]);
      });

      it('writes the end row with the end: once, by the one caller that ends it (issue 11: no end without its record)', async () => {
        const grant = await store.createGrant(newGrant());
        const row = endRow({ actor: 'U0OPERATOR', detail: { group: grant.groupName, grantId: grant.id } });
        expect(
          await store.endGrant(grant.id, { by: 'U0OPERATOR', at: at(5), reason: 'revoked' }, row),
        ).not.toBeNull();
        expect(
          await store.endGrant(
            grant.id,
            { by: 'sweeper', at: at(6), reason: 'expired' },
            endRow({ actor: 'system' }),
          ),
        ).toBeNull();
        expect(
          await store.endGrant(
            'no-such-grant',
            { by: 'U0X', at: at(6), reason: 'done' },
            endRow({ actor: 'U0X' }),
          ),
        ).toBeNull();
        const rows = await store.listAudit();
        expect(rows).toEqual([{ ...row, id: rows[0]?.id }]);
      });

      it('ends nothing when the end row cannot be written: the grant stays active and claimable, the call rejects', async () => {
        const grant = await store.createGrant(newGrant({ endsAt: at(10) }));
        await expect(
          store.endGrant(
            grant.id,
            { by: 'U0OPERATOR', at: at(5), reason: 'revoked' },
            endRow({ target: 'a\u0000' }),
          ),
        ).rejects.toThrow(UnstorableTextError);
        await backend.refuseAuditRows();
        const refused = await store
          .endGrant(grant.id, { by: 'system', at: at(11), reason: 'expired' }, endRow())
          .then(
            () => 'ended',
            () => 'refused',
          );
        expect(refused).toBe('refused');
        expect(await store.getGrant(grant.id)).toEqual(grant);
        expect(await store.listAudit()).toEqual([]);
        expect(ids(await store.claimDueGrantEnds(at(11), 60_000, 'a', 10))).toEqual([grant.id]);
      });

      it('counts the claims of a grant end, so a sweep knows an earlier attempt was cut short', async () => {
        const grant = await store.createGrant(newGrant({ endsAt: at(10) }));
        const [first] = await store.claimDueGrantEnds(at(10), 60_000, 'a', 10);
        expect(first).toMatchObject({ id: grant.id, claimedBy: 'a', endAttempts: 1 });
        expect(await store.claimDueGrantEnds(at(10.5), 60_000, 'b', 10)).toEqual([]);
        const [again] = await store.claimDueGrantEnds(at(11), 60_000, 'b', 10);
        expect(again).toMatchObject({ id: grant.id, claimedBy: 'b', endAttempts: 2 });
        expect(await store.getGrant(grant.id)).toMatchObject({ endAttempts: 2 });
      });

      it('extends an active grant with new notices; not once it has ended or its end is claimed', async () => {
        const grant = await store.createGrant(newGrant({ endsAt: at(60), noticesAt: [at(30), at(59)] }));
        expect((await store.claimDueGrantNotices(at(30), 10)).map((n) => n.dueAt)).toEqual([at(30)]);
        expect(await store.extendGrant(grant.id, at(120), [at(119)])).toBe(true);
        expect((await store.getGrant(grant.id))?.endsAt).toEqual(at(120));
        // The old unsent notice (59) is gone; the new one comes at its time.
        expect(await store.claimDueGrantNotices(at(100), 10)).toEqual([]);
        expect(await store.claimDueGrantEnds(at(100), 60_000, 'a', 10)).toEqual([]);
        const [notice] = await store.claimDueGrantNotices(at(119), 10);
        expect(notice).toMatchObject({ dueAt: at(119), grant: { id: grant.id, endsAt: at(120) } });

        const claimed = await store.createGrant(newGrant({ endsAt: at(10) }));
        await store.claimDueGrantEnds(at(10), 60_000, 'a', 10);
        expect(await store.extendGrant(claimed.id, at(100), [])).toBe(false);
        await store.endGrant(grant.id, { by: 'U0JANE', at: at(121), reason: 'done' }, endRow());
        expect(await store.extendGrant(grant.id, at(200), [])).toBe(false);
        expect((await store.getGrant(grant.id))?.endsAt).toEqual(at(120));
        expect(await store.extendGrant('no-such-grant', at(200), [])).toBe(false);
      });

      it('keeps one open Extend per grant: of ten racing on two instances one is stored, the rest refused naming it, storing nothing; denied or expired, another may be (task D: concurrent Extend clicks)', async () => {
        const other = await another();
        const extendOf = (grantId: string | undefined, requesterId = 'U0JANE') =>
          newApproval({
            action: 'grant',
            requesterId,
            profile: {
              id: 'u-jane',
              group: { id: 'g-jira', displayName: 'jira-software-users' },
              durationMs: 3_600_000,
              grantee: 'U0JANE',
              ...(grantId === undefined ? {} : { extends: grantId }),
            },
          });
        const attempts = Array.from({ length: 10 }, (_, i) => extendOf('grant-1', `U0CLICK${i}`));
        const { stored, refused } = await raceToStore(store, other, attempts);
        expect(stored).toHaveLength(1);
        const [open] = stored;
        expectRefusedFor(refused, open, 9);
        expect((await store.listPendingApprovals()).map((r) => r.id)).toEqual([open.id]);
        // Approved (being carried out) it still counts; another grant's Extend and new grants do not.
        await store.decideApproval(open.id, 'approved', 'U0APPROVER', at(1));
        await expect(other.createApproval(extendOf('grant-1'))).rejects.toThrow(AlreadyOpenError);
        await store.createApproval(extendOf('grant-2'));
        await store.createApproval(extendOf(undefined));
        await store.createApproval(extendOf(undefined));
        await store.failApproval(open.id, 'the grant has ended');
        const denied = await other.createApproval(extendOf('grant-1'));
        await store.decideApproval(denied.id, 'denied', 'U0APPROVER', at(2));
        const expiring = await store.createApproval(extendOf('grant-1'));
        expect(await store.expireApprovals(at(60))).toEqual(
          expect.arrayContaining([expect.objectContaining({ id: expiring.id })]),
        );
        await expect(other.createApproval(extendOf('grant-1'))).resolves.toMatchObject({ status: 'pending' });
      });

      it('hands out each due notice once, soonest first, never for an ended grant or one whose end has come', async () => {
        const a = await store.createGrant(newGrant({ endsAt: at(60), noticesAt: [at(20), at(50)] }));
        const b = await store.createGrant(
          newGrant({ endsAt: at(40), noticesAt: [at(10)], slackUserId: 'U0BOB' }),
        );
        const done = await store.createGrant(newGrant({ endsAt: at(60), noticesAt: [at(5)] }));
        await store.endGrant(done.id, { by: 'U0JANE', at: at(1), reason: 'done' }, endRow());
        const late = await store.createGrant(newGrant({ endsAt: at(15), noticesAt: [at(14)] }));
        expect(await store.claimDueGrantNotices(at(9), 10)).toEqual([]);
        const first = await store.claimDueGrantNotices(at(20), 10);
        expect(first.map((n) => [n.grant.id, n.dueAt])).toEqual([
          [b.id, at(10)],
          [a.id, at(20)],
        ]);
        expect(first[0].grant).toEqual(await store.getGrant(b.id));
        expect(await store.claimDueGrantNotices(at(20), 10)).toEqual([]);
        expect((await store.claimDueGrantNotices(at(55), 1)).map((n) => [n.grant.id, n.dueAt])).toEqual([
          [a.id, at(50)],
        ]);
        expect(ids((await store.claimDueGrantNotices(at(55), 10)).map((n) => n.grant))).not.toContain(
          late.id,
        );
      });

      it('hands each of 60 due ends, and each of 60 notices, to exactly one of two connections at once', async () => {
        const other = await another();
        const created = new Set<string>();
        for (let i = 0; i < 60; i++) {
          created.add(
            (await store.createGrant(newGrant({ endsAt: at(10 + (i % 7)), noticesAt: [at(i % 5)] }))).id,
          );
        }
        const drain = async <T>(take: () => Promise<T[]>): Promise<T[]> => {
          const mine: T[] = [];
          for (let batch = await take(); batch.length > 0; batch = await take()) mine.push(...batch);
          return mine;
        };
        const notices = await Promise.all(
          [store, other, store, other].map((s) => drain(() => s.claimDueGrantNotices(at(9), 4))),
        );
        expect(
          notices
            .flat()
            .map((n) => n.grant.id)
            .sort(),
        ).toEqual([...created].sort());
        const ends = await Promise.all(
          [store, other, store, other].map((s, i) =>
            drain(() => s.claimDueGrantEnds(at(20), 60_000, `o${i}`, 5)),
          ),
        );
        expect(ids(ends.flat()).sort()).toEqual([...created].sort());
      });

      it('ends each of 20 grants for exactly one of four concurrent callers on two connections', async () => {
        const other = await another();
        const grants = [];
        for (let i = 0; i < 20; i++) grants.push(await store.createGrant(newGrant()));
        const results = await Promise.all(
          grants.flatMap((g) => [
            store.endGrant(g.id, { by: 'a', at: at(5), reason: 'revoked' }, endRow()),
            other.endGrant(g.id, { by: 'b', at: at(5), reason: 'expired' }, endRow()),
            store.endGrant(g.id, { by: 'c', at: at(5), reason: 'done' }, endRow()),
            other.endGrant(g.id, { by: 'd', at: at(5), reason: 'revoked' }, endRow()),
          ]),
        );
        for (let i = 0; i < grants.length; i++) {
          const winners = results.slice(4 * i, 4 * i + 4).filter((r) => r !== null);
          expect(winners).toHaveLength(1);
          expect(await other.getGrant(grants[i].id)).toEqual(winners[0]);
        }
        // One end row per grant: only the winners wrote theirs.
        expect(await store.listAudit({ limit: 1000 })).toHaveLength(grants.length);
      });

      it('keeps grants and sent notices across a restart', async () => {
        const grant = newGrant({ noticesAt: [at(1), at(50)] });
        await store.createGrant(grant);
        await store.claimDueGrantNotices(at(1), 10);
        await store.close();
        const after = await another();
        expect(await after.getGrant(grant.id)).toEqual(storedGrant(grant));
        expect((await after.claimDueGrantNotices(at(55), 10)).map((n) => n.dueAt)).toEqual([at(50)]);
      });
    });

    describe('audit log', () => {
      it('appends entries with increasing ids and returns them whole', async () => {
        const entries = [];
        for (let i = 0; i < 5; i++) {
          const entry = newAudit({ at: at(i), outcome: `o${i}`, requestId: i % 2 ? `req-${i}` : null });
          const stored = await store.appendAudit(entry);
          expect(stored).toEqual({ ...entry, id: stored.id });
          entries.push(stored);
        }
        const ids = entries.map((e) => e.id);
        expect(ids).toEqual([...ids].sort((x, y) => x - y));
        expect(new Set(ids).size).toBe(ids.length);
      });

      it('lists newest first, filtered by since, target and limit', async () => {
        await store.appendAudit(newAudit({ at: at(1), target: 'Jane@Example.com', outcome: 'one' }));
        await store.appendAudit(newAudit({ at: at(2), target: 'bob@example.com', outcome: 'two' }));
        await store.appendAudit(newAudit({ at: at(3), target: 'jane@example.com', outcome: 'three' }));
        await store.appendAudit(newAudit({ at: at(4), target: null, outcome: 'four' }));
        await store.appendAudit(newAudit({ at: at(5), target: 'jane@example.com.au', outcome: 'five' }));
        const outcomes = async (query?: Parameters<Store['listAudit']>[0]): Promise<string[]> =>
          (await store.listAudit(query)).map((e) => e.outcome);

        expect(await outcomes()).toEqual(['five', 'four', 'three', 'two', 'one']);
        expect(await outcomes({ since: at(3) })).toEqual(['five', 'four', 'three']);
        expect(await outcomes({ target: 'JANE@example.COM' })).toEqual(['three', 'one']);
        expect(await outcomes({ limit: 2 })).toEqual(['five', 'four']);
        expect(await outcomes({ since: at(2), target: 'jane@example.com', limit: 5 })).toEqual(['three']);
        expect(await outcomes({ before: at(3) })).toEqual(['two', 'one']);
        expect(await outcomes({ since: at(2), before: at(5) })).toEqual(['four', 'three', 'two']);
        expect(await outcomes({ target: 'nobody@example.com' })).toEqual([]);
        const [newest] = await store.listAudit({ limit: 1 });
        expect(newest?.at.getTime()).toBe(at(5).getTime());
      });

      it('pages every entry exactly once in the order written (writtenBefore), whatever their times say', async () => {
        // Written by instances whose clocks disagree: times out of order, several equal.
        const times = [5, 1, 5, 3, 5, 0, 2, 5, 4, 1, 5];
        for (const [i, minute] of times.entries()) {
          await store.appendAudit(newAudit({ at: at(minute), outcome: `w${i}`, target: 'old@example.com' }));
        }
        await store.appendAudit(newAudit({ at: at(9), outcome: 'other', target: 'new@example.com' }));
        const seen: string[] = [];
        let cursor: number | null = null;
        for (;;) {
          const page = await store.listAudit({ target: 'old@example.com', limit: 4, writtenBefore: cursor });
          seen.push(...page.map((e) => e.outcome));
          if (page.length < 4) break;
          cursor = page[page.length - 1].id;
        }
        expect(seen).toEqual(times.map((_, i) => `w${i}`).reverse());
      });

      it('filters by the group an entry names (detail.group), ignoring case, with the other filters', async () => {
        const grant = (group: unknown) => ({ group, IAM: { Vendor: { group: 'not-this-one' } } });
        await store.appendAudit(
          newAudit({ at: at(1), detail: grant('jira-software-users'), outcome: 'one' }),
        );
        await store.appendAudit(newAudit({ at: at(2), detail: grant('Confluence-Users'), outcome: 'two' }));
        await store.appendAudit(
          newAudit({ at: at(3), detail: { group: 'JIRA-software-users' }, outcome: 'three' }),
        );
        await store.appendAudit(newAudit({ at: at(4), detail: null, outcome: 'four' }));
        await store.appendAudit(
          newAudit({ at: at(5), detail: { group: 'jira-software-users-2' }, outcome: 'five' }),
        );
        await store.appendAudit(newAudit({ at: at(6), detail: { group: 7 }, outcome: 'six' }));
        await store.appendAudit(
          newAudit({ at: at(7), detail: { groups: ['jira-software-users'] }, outcome: 'seven' }),
        );
        await store.appendAudit(
          newAudit({
            at: at(8),
            target: 'bob@example.com',
            detail: { group: 'jira-software-users' },
            outcome: 'eight',
          }),
        );
        const outcomes = async (query: Parameters<Store['listAudit']>[0]): Promise<string[]> =>
          (await store.listAudit(query)).map((e) => e.outcome);

        expect(await outcomes({ group: 'Jira-Software-Users' })).toEqual(['eight', 'three', 'one']);
        expect(await outcomes({ group: 'confluence-users' })).toEqual(['two']);
        expect(await outcomes({ group: 'not-this-one' })).toEqual([]);
        expect(await outcomes({ group: 'jira-software-users', target: 'bob@example.com' })).toEqual([
          'eight',
        ]);
        expect(await outcomes({ group: 'jira-software-users', before: at(3), limit: 5 })).toEqual(['one']);
        expect(await outcomes({ group: 'jira%' })).toEqual([]);
        expect(await outcomes({ group: 'a\u0000b' })).toEqual([]);
      });

      it('prunes entries strictly older than a time, and only counts them on a dry run', async () => {
        for (let i = 1; i <= 5; i++) await store.appendAudit(newAudit({ at: at(i), outcome: `o${i}` }));
        expect(await store.pruneAudit(at(3), true)).toBe(2);
        expect((await store.listAudit()).length).toBe(5);
        expect(await store.pruneAudit(at(3))).toBe(2);
        expect((await store.listAudit()).map((e) => e.outcome)).toEqual(['o5', 'o4', 'o3']);
        expect(await store.pruneAudit(at(3))).toBe(0);
      });

      it('orders entries with the same time by append order, newest first', async () => {
        const first = await store.appendAudit(newAudit({ outcome: 'first' }));
        const second = await store.appendAudit(newAudit({ outcome: 'second' }));
        expect((await store.listAudit()).map((e) => e.id)).toEqual([second.id, first.id]);
      });

      it('returns 100 entries by default', async () => {
        for (let i = 0; i < 105; i++) await store.appendAudit(newAudit({ at: at(i), outcome: `o${i}` }));
        const listed = await store.listAudit();
        expect(listed).toHaveLength(100);
        expect(listed[0]?.outcome).toBe('o104');
        expect(listed[99]?.outcome).toBe('o5');
      });

      it('round-trips detail JSON: nesting, unicode, emoji, null', async () => {
        const detail = {
          IAM: {
            Vendor: {
              brand: 'Atlassian IAM',
              success: false,
              errorCode: 409,
              errorMessage: 'déjà vu — 用户已存在 🙈',
            },
            UserProfile: {
              displayname: 'Zoë "Z" O’Brien 👩🏽‍💻',
              nested: { deeper: [1, 2.5, true, null, { x: '\u0000\n' }] },
            },
          },
          empty: {},
          list: [],
        };
        const stored = await store.appendAudit(newAudit({ detail }));
        const withoutDetail = await store.appendAudit(
          newAudit({ detail: null, kind: 'refusal', source: 'cli' }),
        );
        const listed = await store.listAudit();
        expect(listed.find((e) => e.id === stored.id)?.detail).toEqual(detail);
        expect(listed.find((e) => e.id === withoutDetail.id)).toMatchObject({
          detail: null,
          kind: 'refusal',
          source: 'cli',
        });
      });
    });

    describe('text fields (one rule for both stores: src/storable-text.ts)', () => {
      const TEXT_RUNS = { seed: 20_261_206, numRuns: 40 };
      const AUDIT_TEXT = ['actor', 'command', 'target', 'outcome', 'requestId'] as const;
      const APPROVAL_TEXT = ['id', 'requesterId', 'channelId', 'target', 'reason'] as const;

      it('keeps every text an audit entry may hold exactly, refuses the rest alike and stores nothing', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...AUDIT_TEXT),
            hostileText,
            hostileText,
            async (field, text, inDetail) => {
              const entry = newAudit({ [field]: text, detail: { value: inDetail, [inDetail]: [inDetail] } });
              const before = (await store.listAudit({ limit: 1 }))[0]?.id ?? 0;
              if (unstorableCharacter(text) === null) {
                const stored = await store.appendAudit(entry);
                expect(stored).toEqual({ ...entry, id: stored.id });
                expect((await store.listAudit({ limit: 1 }))[0]).toEqual(stored);
              } else {
                await expect(store.appendAudit(entry)).rejects.toThrow(UnstorableTextError);
                await expect(store.appendAudit(entry)).rejects.toThrow(`\`${field}\` contains`);
                expect((await store.listAudit({ limit: 1 }))[0]?.id ?? 0).toBe(before);
              }
            },
          ),
          TEXT_RUNS,
        );
      });

      it('keeps every text an approval request may hold exactly, refuses the rest alike and stores nothing', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...APPROVAL_TEXT),
            hostileText,
            hostileText,
            async (field, text, inProfile) => {
              const request = newApproval({
                [field]: text,
                profile: { email: inProfile, [inProfile]: inProfile },
              });
              // A fresh id unless the id is the field under test (an earlier run may have stored that text).
              if (field === 'id' && (await store.getApproval(text).catch(() => null))) return;
              const pendingBefore = (await store.listPendingApprovals()).length;
              if (unstorableCharacter(text) === null) {
                const stored = await store.createApproval(request);
                const read = await store.getApproval(request.id);
                expect(read).toEqual(stored);
                expect(read).toMatchObject({ ...request, status: 'pending' });
              } else {
                await expect(store.createApproval(request)).rejects.toThrow(UnstorableTextError);
                expect((await store.listPendingApprovals()).length).toBe(pendingBefore);
              }
            },
          ),
          TEXT_RUNS,
        );
      });

      it('keeps exactly whatever the profile parser lets through; what it refuses never reaches the store', async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom('email', 'employeeid', 'title', 'scim:nickName'),
            hostileText,
            async (key, text) => {
              let profile;
              try {
                profile = parseUserProfile({ id: 'u-1', [key]: text });
              } catch (error) {
                expect(error).toBeInstanceOf(ProfileError);
                // Refused for a reason: text no store can hold, or Atlassian's own value rules (an
                // email's shape, at most 255 characters).
                const why = { storable: unstorableCharacter(text) === null, key, length: text.length };
                expect(why.storable && key !== 'email' && text.length <= 255).toBe(false);
                return;
              }
              const value = typeof profile[key] === 'string' ? (profile[key] as string) : 'u-1';
              const entry = newAudit({ target: value, detail: { UserProfile: profile } });
              const stored = await store.appendAudit(entry);
              expect((await store.listAudit({ limit: 1 }))[0]).toEqual({ ...entry, id: stored.id });
              const request = newApproval({ profile, target: value, reason: value });
              await store.createApproval(request);
              expect(await store.getApproval(request.id)).toMatchObject({ ...request, status: 'pending' });
            },
          ),
          TEXT_RUNS,
        );
      });

      it('finds nothing by text no store can hold, and refuses to write such text, alike on both', async () => {
        const stored = await store.createApproval(newApproval());
        await store.appendAudit(newAudit());
        expect(await store.getApproval('x\u0000')).toBeNull();
        expect(await store.listAudit({ target: 'a\ud800' })).toEqual([]);
        expect(await store.decideApproval('x\u0000', 'approved', 'U0A', at(0))).toBeNull();
        expect(await store.claimApproval('\udc00', at(0), 1000, 'me')).toBeNull();
        expect(await store.completeApproval('\u0000', {}, resultRow('x'))).toBe(false);
        await expect(store.decideApproval(stored.id, 'approved', 'U\u0000', at(0))).rejects.toThrow(
          '`deciderId` contains a NUL character (U+0000); remove it',
        );
        await expect(store.setApprovalMessage(stored.id, 'C\ud800', '1.2')).rejects.toThrow(
          UnstorableTextError,
        );
        expect(await store.getApproval(stored.id)).toEqual(stored);
      });
    });

    describe('Slack triggers (finding 9: a replayed trigger_id does nothing the second time)', () => {
      const DAY = 24 * 60;

      it('takes a trigger once; a replay is refused, on this connection and on another', async () => {
        expect(await store.claimTrigger('1234.5678.abc', at(0))).toBe(true);
        expect(await store.claimTrigger('1234.5678.abc', at(1))).toBe(false);
        const b = await another();
        expect(await b.claimTrigger('1234.5678.abc', at(2))).toBe(false);
        expect(await b.claimTrigger('1234.5678.def', at(2))).toBe(true);
        expect(await store.claimTrigger('1234.5678.def', at(3))).toBe(false);
      });

      it('hands a trigger raced by two connections to exactly one', async () => {
        const b = await another();
        const ids = Array.from({ length: 30 }, (_, i) => `race-${i}`);
        const answers = await Promise.all(
          ids.flatMap((id) => [store.claimTrigger(id, at(0)), b.claimTrigger(id, at(0))]),
        );
        for (let i = 0; i < ids.length; i++) {
          expect(answers.slice(2 * i, 2 * i + 2).filter(Boolean)).toHaveLength(1);
        }
      });

      it('forgets triggers handled more than a day ago, and only those', async () => {
        await store.claimTrigger('old', at(0));
        await store.claimTrigger('recent', at(DAY - 10));
        await store.claimTrigger('other', at(DAY + 1));
        expect(await store.claimTrigger('old', at(DAY + 2))).toBe(true);
        expect(await store.claimTrigger('recent', at(DAY + 2))).toBe(false);
      });
    });

    describe('reminders and escalations (issue 14)', () => {
      const followUp = (
        requestId: string,
        minutes: number,
        overrides: Partial<NewApprovalFollowUp> = {},
      ): NewApprovalFollowUp => ({
        requestId,
        kind: 'remind',
        n: 1,
        dueAt: at(minutes),
        notify: ['U0APPROVER', 'S0SECURITY'],
        ...overrides,
      });
      const claimAll = async (s: Store, now: Date, owner: string) => {
        const mine: ClaimedFollowUp[] = [];
        for (;;) {
          const batch = await s.claimDueFollowUps(now, owner, 3);
          if (batch.length === 0) return mine;
          mine.push(...batch);
        }
      };

      it('hands out due follow-ups once, soonest first, with their request, marked sent by the claimant', async () => {
        const request = await store.createApproval(newApproval({ expiresAt: at(60) }));
        const other = await store.createApproval(newApproval({ expiresAt: at(60) }));
        await store.addFollowUps([
          followUp(request.id, 10),
          followUp(request.id, 20, { n: 2 }),
          followUp(request.id, 15, { kind: 'escalate', notify: ['S0CISO'] }),
        ]);
        await store.addFollowUps([followUp(other.id, 5)]);
        // Stored again (a retried store): nothing is added twice.
        await store.addFollowUps([followUp(request.id, 10, { notify: ['U0SOMEONE'] })]);

        expect(await store.claimDueFollowUps(at(4), 'a', 10)).toEqual([]);
        const first = await store.claimDueFollowUps(at(15), 'a', 10);
        expect(first.map((f) => [f.requestId, f.kind, f.n])).toEqual([
          [other.id, 'remind', 1],
          [request.id, 'remind', 1],
          [request.id, 'escalate', 1],
        ]);
        expect(first[1]).toEqual({
          requestId: request.id,
          kind: 'remind',
          n: 1,
          dueAt: at(10),
          notify: ['U0APPROVER', 'S0SECURITY'],
          sentAt: at(15),
          sentBy: 'a',
          request: await store.getApproval(request.id),
        });
        expect(first[2].notify).toEqual(['S0CISO']);
        expect(await store.claimDueFollowUps(at(16), 'b', 10)).toEqual([]);
        const [second] = await store.claimDueFollowUps(at(25), 'b', 1);
        expect(second).toMatchObject({ requestId: request.id, n: 2, sentBy: 'b' });
        expect(await store.claimDueFollowUps(at(59), 'c', 10)).toEqual([]);
      });

      it('never hands out a follow-up of a request decided, ended or expired', async () => {
        const approved = await store.createApproval(newApproval());
        const denied = await store.createApproval(newApproval());
        const failed = await store.createApproval(newApproval());
        const expired = await store.createApproval(newApproval({ expiresAt: at(30) }));
        const lapsed = await store.createApproval(newApproval({ expiresAt: at(30) }));
        const live = await store.createApproval(newApproval({ expiresAt: at(90) }));
        for (const r of [approved, denied, failed, expired, lapsed, live]) {
          await store.addFollowUps([followUp(r.id, 10), followUp(r.id, 20, { n: 2 })]);
        }
        await store.decideApproval(approved.id, 'approved', 'U0APPROVER', at(5));
        await store.decideApproval(denied.id, 'denied', 'U0APPROVER', at(5));
        await store.failApproval(failed.id, 'could not be posted');
        await store.expireApprovals(at(30));
        // `lapsed` was marked expired with the others; a request past its expiry counts so even before
        // a sweep has marked it, so both are checked at a time past it.
        const claimed = await store.claimDueFollowUps(at(40), 'a', 100);
        expect(claimed.map((f) => [f.requestId, f.n])).toEqual([
          [live.id, 1],
          [live.id, 2],
        ]);
        const unswept = await store.createApproval(newApproval({ createdAt: at(40), expiresAt: at(50) }));
        await store.addFollowUps([followUp(unswept.id, 45)]);
        expect(await store.claimDueFollowUps(at(50), 'a', 100)).toEqual([]);
      });

      it('keeps unsent follow-ups across a restart, and never sends a sent one again', async () => {
        const request = await store.createApproval(newApproval());
        await store.addFollowUps([followUp(request.id, 10), followUp(request.id, 20, { n: 2 })]);
        expect(await store.claimDueFollowUps(at(10), 'before', 10)).toHaveLength(1);
        await store.close();
        const after = await another();
        const claimed = await after.claimDueFollowUps(at(30), 'after', 10);
        expect(claimed.map((f) => [f.n, f.sentBy])).toEqual([[2, 'after']]);
      });

      it('hands each of 60 due follow-ups to exactly one of two connections claiming at once', async () => {
        const other = await another();
        const expected: string[] = [];
        for (let i = 0; i < 20; i++) {
          const request = await store.createApproval(newApproval({ createdAt: at(i % 4) }));
          const three = [1, 2, 3].map((n) => followUp(request.id, n + (i % 5), { n }));
          await (i % 2 ? other : store).addFollowUps(three);
          expected.push(...three.map((f) => `${f.requestId}/${f.n}`));
        }
        const [a, b] = await Promise.all([claimAll(store, at(10), 'a'), claimAll(other, at(10), 'b')]);
        const claimed = [...a, ...b].map((f) => `${f.requestId}/${f.n}`);
        expect(claimed.sort()).toEqual(expected.sort());
      });

      it('claims racing with decisions on another connection: all decided, each reminder at most once, none after', async () => {
        const other = await another();
        const requests = [];
        for (let i = 0; i < 20; i++) {
          const request = await store.createApproval(newApproval());
          await store.addFollowUps([followUp(request.id, 10)]);
          requests.push(request);
        }
        const decisions = requests.map((r) => other.decideApproval(r.id, 'approved', 'U0APPROVER', at(10)));
        const [claimed, decided] = await Promise.all([claimAll(store, at(10), 'a'), Promise.all(decisions)]);
        expect(decided.every((d) => d?.status === 'approved')).toBe(true);
        const ids = claimed.map((f) => f.requestId);
        expect(new Set(ids).size).toBe(ids.length);
        // Those claimed were claimed while still pending; once decided, none is handed out.
        for (const f of claimed) expect(f.request.status).toBe('pending');
        expect(await claimAll(other, at(11), 'b')).toEqual([]);
      });
    });

    describe('several instances on one database', () => {
      it('loses nothing across a restart (close and reopen)', async () => {
        const before = store;
        const pending = newApproval({ createdAt: at(1) });
        const approved = newApproval({ createdAt: at(2) });
        const completed = newApproval({ createdAt: at(3) });
        for (const r of [pending, approved, completed]) await before.createApproval(r);
        await before.setApprovalMessage(pending.id, 'C0CHANNEL', '1712345678.000200');
        await before.decideApproval(approved.id, 'approved', 'U0APPROVER', at(4));
        await before.decideApproval(completed.id, 'approved', 'U0APPROVER', at(4));
        await before.completeApproval(
          completed.id,
          { IAM: { Vendor: { success: true } } },
          resultRow(completed.id),
        );
        const entry = await before.appendAudit(newAudit({ detail: { note: 'before restart ✓' } }));
        const requests = [pending, approved, completed];
        const snapshot = await Promise.all(requests.map((r) => before.getApproval(r.id)));
        await before.close();
        await before.close(); // a second close is harmless

        const after = await another();
        expect(await Promise.all(requests.map((r) => after.getApproval(r.id)))).toEqual(snapshot);
        expect((await after.listPendingApprovals()).map((r) => r.id)).toEqual([pending.id]);
        expect((await after.listApprovedIncomplete()).map((r) => r.id)).toEqual([approved.id]);
        expect((await after.listAudit()).map((e) => e.outcome)).toEqual([entry.outcome, 'success']);
        expect((await after.listAudit())[0]).toEqual(entry);
        expect((await after.listUnannounced()).map((r) => r.id)).toEqual([completed.id]);
        expect((await after.appendAudit(newAudit())).id).toBeGreaterThan(entry.id);
      });

      it('decides each of 30 requests exactly once across two instances', async () => {
        const a = store;
        const b = await another();
        const requests = Array.from({ length: 30 }, (_, i) => newApproval({ createdAt: at(i) }));
        for (const r of requests) await a.createApproval(r);
        const results = await Promise.all(
          requests.flatMap((r) => [
            a.decideApproval(r.id, 'approved', 'U0ALICE', at(40)),
            b.decideApproval(r.id, 'denied', 'U0BOB', at(40)),
          ]),
        );
        for (let i = 0; i < requests.length; i++) {
          const pair = results.slice(2 * i, 2 * i + 2).filter((r) => r !== null);
          expect(pair).toHaveLength(1);
          expect(await b.getApproval(requests[i].id)).toMatchObject({
            status: pair[0]?.status,
            decidedBy: pair[0]?.decidedBy,
          });
        }
        // Both instances see the same state.
        expect(await a.listApprovedIncomplete()).toEqual(await b.listApprovedIncomplete());
      });

      it('gives each claim to one instance only, and completes once', async () => {
        const a = store;
        const b = await another();
        const requests = Array.from({ length: 20 }, (_, i) => newApproval({ createdAt: at(i) }));
        for (const r of requests) {
          await a.createApproval(r);
          await a.decideApproval(r.id, 'approved', 'U0APPROVER', at(30));
        }
        const claims = await Promise.all(
          requests.flatMap((r) => [
            a.claimApproval(r.id, at(31), 60_000),
            b.claimApproval(r.id, at(31), 60_000),
            a.claimApproval(r.id, at(31), 60_000),
            b.claimApproval(r.id, at(31), 60_000),
          ]),
        );
        for (let i = 0; i < requests.length; i++) {
          expect(claims.slice(4 * i, 4 * i + 4).filter((c) => c !== null)).toHaveLength(1);
        }
        // The lease runs out: another instance may take over, once.
        const later = new Date(at(31).getTime() + 60_000);
        const takeovers = await Promise.all(
          requests.flatMap((r) => [
            a.claimApproval(r.id, later, 60_000),
            b.claimApproval(r.id, later, 60_000),
          ]),
        );
        expect(takeovers.filter((c) => c !== null)).toHaveLength(requests.length);
        const completions = await Promise.all(
          requests.flatMap((r) => [
            a.completeApproval(r.id, { by: 'a' }, resultRow(r.id)),
            b.completeApproval(r.id, { by: 'b' }, resultRow(r.id)),
          ]),
        );
        expect(completions.filter(Boolean)).toHaveLength(requests.length);
        const results = (await a.listAudit({ limit: 1000 })).filter((e) => e.kind === 'result');
        expect(results).toHaveLength(requests.length); // one result row each, by the one that completed it
      });

      it('hands each expired request to one instance only', async () => {
        const a = store;
        const b = await another();
        const requests = Array.from({ length: 40 }, (_, i) =>
          newApproval({ createdAt: at(i), expiresAt: at(50 + (i % 5)) }),
        );
        for (const r of requests) await a.createApproval(r);
        const batches = await Promise.all(
          [50, 51, 52, 53, 54, 54].flatMap((m) => [a.expireApprovals(at(m)), b.expireApprovals(at(m))]),
        );
        const ids = batches.flat().map((r) => r.id);
        expect(ids.sort()).toEqual(requests.map((r) => r.id).sort());
      });
    });
  });
}
