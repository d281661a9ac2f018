/** How long a follow-up waits at most for other commands' results (a slow Atlassian must not hold it). */
export const FOLLOW_UP_MAX_WAIT_MS = 2000;

/**
 * Results first, follow-ups after. A command's result message is what its requester waits for; what
 * comes after it (the full attribute list in a get's thread) can wait. Under a burst of commands the
 * follow-ups of the first would otherwise take the CPU from the results of the others, so they are held
 * until no command is still working towards its result, or for at most `maxWaitMs`.
 */
export class FollowUps {
  #awaitingResult = 0;
  #held: Array<() => void> = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly maxWaitMs = FOLLOW_UP_MAX_WAIT_MS,
    private readonly timers: {
      set: (run: () => void, ms: number) => NodeJS.Timeout;
      clear: (timer: NodeJS.Timeout) => void;
    } = { set: (run, ms) => setTimeout(run, ms), clear: (timer) => clearTimeout(timer) },
  ) {}

  /** Commands still working towards their result message. */
  get awaitingResult(): number {
    return this.#awaitingResult;
  }

  /** Runs `work` (a command, up to and including posting its result) as one that follow-ups wait for. */
  async result<T>(work: () => Promise<T>): Promise<T> {
    this.#awaitingResult++;
    try {
      return await work();
    } finally {
      this.#awaitingResult--;
      if (this.#awaitingResult === 0) this.#release();
    }
  }

  /** Runs `task` now when no command awaits its result, else once none does (or `maxWaitMs` passed). */
  followUp<T>(task: () => Promise<T>): Promise<T> {
    if (this.#awaitingResult === 0) return task();
    return new Promise<T>((resolve, reject) => {
      this.#held.push(() => {
        task().then(resolve, reject);
      });
      this.#timer ??= this.timers.set(() => this.#release(), this.maxWaitMs);
    });
  }

  #release(): void {
    if (this.#timer !== null) {
      this.timers.clear(this.#timer);
      this.#timer = null;
    }
    const held = this.#held;
    this.#held = [];
    for (const run of held) run();
  }
}
