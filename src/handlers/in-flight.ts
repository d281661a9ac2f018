/** What a request gets when it arrives while the bot is shutting down. */
export const RESTARTING = 'The bot is restarting, so nothing was done. Try again in a minute.';

/** Work taken on with an ack; shutdown waits for it so that no approved disable is cut in half. */
export class InFlight {
  readonly #running = new Set<Promise<unknown>>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `work` and tracks it; refuses new work once closing has begun. */
  run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('the bot is shutting down'));
    const promise = work();
    this.#running.add(promise);
    const forget = () => this.#running.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  /**
   * Acknowledges and takes on `work` in one step, so that a shutdown cannot fall between the two (a
   * request acknowledged, then its work refused). Once closing has begun, `refuse` answers instead:
   * it acknowledges with a message that nothing was done.
   */
  async ackThenRun(
    ack: () => Promise<void>,
    work: () => Promise<void>,
    refuse: () => Promise<void>,
  ): Promise<void> {
    if (this.#closed) return refuse();
    await this.run(async () => {
      await ack();
      await work();
    });
  }

  /** Stops taking work and resolves when everything running has settled. */
  async drain(): Promise<void> {
    this.#closed = true;
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }
}
