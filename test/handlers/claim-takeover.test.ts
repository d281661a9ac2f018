/**
 * Regression: a bot killed (SIGKILL) while carrying out an approved disable left its claim's lease
 * running; the restarted bot's recovery could not claim it, so the disable stayed stuck (recovery ran
 * only at start). Now a claim whose holder is certainly dead is taken over at once, and a live or
 * unknown holder keeps its lease.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { CLAIM_OWNER, claimHolderIsDead } from '../../src/handlers/claims';
import { openStore } from '../../src/store';
import { makeTempDir, removeTempDirs } from '../support/cli';

afterAll(() => removeTempDirs());

describe('claimHolderIsDead', () => {
  const host = os.hostname();
  const deadPid = (): number => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    return Number(child.stdout.toString());
  };

  it('a process on this host that no longer exists is dead', () => {
    expect(claimHolderIsDead(`${host}/${deadPid()}/boot-a`)).toBe(true);
  });

  it('an earlier process with our own pid is dead; this process is not', () => {
    expect(claimHolderIsDead(`${host}/${process.pid}/an-earlier-boot`)).toBe(true);
    expect(claimHolderIsDead(CLAIM_OWNER)).toBe(false);
  });

  it('a live process, another host, a missing or malformed owner are presumed alive', () => {
    expect(claimHolderIsDead(`${host}/${process.ppid}/boot-b`)).toBe(false);
    expect(claimHolderIsDead(`another-host/${deadPid()}/boot-c`)).toBe(false);
    expect(claimHolderIsDead(null)).toBe(false);
    expect(claimHolderIsDead(undefined)).toBe(false);
    expect(claimHolderIsDead('garbage')).toBe(false);
  });
});

describe('claimApproval with takeOverFrom (SQLite)', () => {
  it('takes over a running lease only from the named holder, once', async () => {
    const store = await openStore({ kind: 'sqlite', path: `${makeTempDir()}/claims.db` });
    try {
      const now = new Date('2026-11-29T12:00:00Z');
      await store.createApproval({
        id: 'r1',
        action: 'disable',
        requesterId: 'UREQ',
        channelId: 'C1',
        teamId: 'T1',
        enterpriseId: null,
        profile: { id: 'u1' },
        target: 'u1',
        reason: null,
        createdAt: now,
        expiresAt: new Date(now.getTime() + 3_600_000),
      });
      await store.decideApproval('r1', 'approved', 'UAPPROVER', now);
      expect(await store.claimApproval('r1', now, 120_000, 'h/1/dead')).toMatchObject({
        claimedBy: 'h/1/dead',
      });
      const later = new Date(now.getTime() + 1_000);
      expect(await store.claimApproval('r1', later, 120_000, 'h/2/me')).toBeNull();
      expect(await store.claimApproval('r1', later, 120_000, 'h/2/me', 'h/3/other')).toBeNull();
      expect(await store.claimApproval('r1', later, 120_000, 'h/2/me', 'h/1/dead')).toMatchObject({
        claimedBy: 'h/2/me',
      });
      // The dead holder's claim is gone: a second taker naming it gets nothing.
      expect(await store.claimApproval('r1', later, 120_000, 'h/4/x', 'h/1/dead')).toBeNull();
      expect((await store.listApprovedIncomplete())[0]?.claimedBy).toBe('h/2/me');
    } finally {
      await store.close();
    }
  });
});
