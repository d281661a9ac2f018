import { followDatabase } from '../../src/store/database-clock';
import type { Store } from '../../src/store/types';

/** A store whose server clock reads `server()`; only databaseTime is ever called. */
const storeAt = (server: () => Date | null): Store =>
  ({ databaseTime: async () => server() }) as unknown as Store;

describe('followDatabase (issue 11: one clock)', () => {
  it('follows the server once synced: an instance 4 minutes fast reads the server time', async () => {
    const own = () => new Date(Date.UTC(2030, 0, 1, 12, 4));
    const clock = followDatabase(
      own,
      storeAt(() => new Date(Date.UTC(2030, 0, 1, 12, 0))),
    );
    expect(clock.now()).toEqual(own());
    expect(await clock.sync()).toBe(-4 * 60_000);
    expect(clock.now()).toEqual(new Date(Date.UTC(2030, 0, 1, 12, 0)));
  });

  it('keeps its own clock with a store that keeps none (SQLite)', async () => {
    const own = () => new Date(Date.UTC(2030, 0, 1));
    const clock = followDatabase(
      own,
      storeAt(() => null),
    );
    expect(await clock.sync()).toBeNull();
    expect(clock.now()).toEqual(own());
  });
});
