import type { Store } from './types';

/** A clock that follows the database server's: `base` plus the offset last measured by `sync`. */
export interface DatabaseClock {
  now(): Date;
  /**
   * Measures the offset to Store.databaseTime again (taken at the middle of the round trip) and
   * returns it in ms; null when the store keeps no clock of its own (the offset stays 0).
   */
  sync(): Promise<number | null>;
}

/**
 * With PostgreSQL the store times expiry, leases and audit rows by the server's now(); what an instance
 * times by itself (retry waits, the age of a command to reconcile, a schedule's lateness) follows the
 * same clock through this, so an instance whose own clock is minutes off still agrees with its peers.
 */
export function followDatabase(base: () => Date, store: Store): DatabaseClock {
  let offsetMs = 0;
  return {
    now: () => new Date(base().getTime() + offsetMs),
    async sync() {
      const before = base().getTime();
      const server = await store.databaseTime();
      if (!server) return null;
      const after = base().getTime();
      offsetMs = server.getTime() - (before + after) / 2;
      return offsetMs;
    },
  };
}
