import type { DueGrantNotice, Grant, GrantEnd, GrantQuery, GrantStore, NewGrant } from './grants';
import type { NewAuditEntry } from './types';

/** A store whose grant methods are those of its backend's grants half (sqlite-grants.ts, postgres-grants.ts). */
export abstract class GrantsDelegated implements GrantStore {
  protected abstract readonly grants: GrantStore;

  createGrant(grant: NewGrant): Promise<Grant> {
    return this.grants.createGrant(grant);
  }

  getGrant(id: string): Promise<Grant | null> {
    return this.grants.getGrant(id);
  }

  listGrants(query?: GrantQuery): Promise<Grant[]> {
    return this.grants.listGrants(query);
  }

  claimDueGrantEnds(now: Date, leaseMs: number, owner: string, limit: number): Promise<Grant[]> {
    return this.grants.claimDueGrantEnds(now, leaseMs, owner, limit);
  }

  endGrant(id: string, end: GrantEnd, record: NewAuditEntry): Promise<Grant | null> {
    return this.grants.endGrant(id, end, record);
  }

  extendGrant(id: string, endsAt: Date, noticesAt: readonly Date[]): Promise<boolean> {
    return this.grants.extendGrant(id, endsAt, noticesAt);
  }

  claimDueGrantNotices(now: Date, limit: number): Promise<DueGrantNotice[]> {
    return this.grants.claimDueGrantNotices(now, limit);
  }
}
