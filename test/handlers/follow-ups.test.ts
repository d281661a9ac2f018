import { FollowUps } from '../../src/handlers/follow-ups';

/** A promise with its resolve function: stands for a command whose SCIM answer has not come yet. */
function pending<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Timers the test fires by hand. */
function manualTimers() {
  const armed: Array<() => void> = [];
  return {
    armed,
    set: (run: () => void) => {
      armed.push(run);
      return setTimeout(() => {}, 0);
    },
    clear: (timer: NodeJS.Timeout) => clearTimeout(timer),
  };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('FollowUps: results first, follow-ups after', () => {
  it('runs a follow-up at once when no command is waiting for its result', async () => {
    const followUps = new FollowUps();
    await expect(followUps.followUp(async () => 'thread reply')).resolves.toBe('thread reply');
  });

  it("holds the first command's thread reply until the second command has posted its result", async () => {
    const followUps = new FollowUps();
    const order: string[] = [];
    const secondAnswer = pending();
    const first = followUps
      .result(async () => order.push('first result'))
      .then(() => followUps.followUp(async () => order.push('first thread reply')));
    const second = followUps.result(async () => {
      await secondAnswer.promise;
      order.push('second result');
    });
    await settle();
    expect(order).toEqual(['first result']);
    secondAnswer.resolve();
    await Promise.all([first, second]);
    expect(order).toEqual(['first result', 'second result', 'first thread reply']);
    expect(followUps.awaitingResult).toBe(0);
  });

  it('lets held follow-ups go after the longest wait even while a slow command is still working', async () => {
    const timers = manualTimers();
    const followUps = new FollowUps(2000, timers);
    const slow = pending();
    const slowCommand = followUps.result(() => slow.promise);
    const done: string[] = [];
    const reply = followUps.followUp(async () => done.push('reply'));
    await settle();
    expect(done).toEqual([]);
    expect(timers.armed).toHaveLength(1);
    timers.armed[0]();
    await reply;
    expect(done).toEqual(['reply']);
    slow.resolve();
    await slowCommand;
  });

  it("hands a follow-up's failure to whoever waits for it, and a failed command still releases the others", async () => {
    const followUps = new FollowUps();
    const failing = pending();
    const command = followUps.result(async () => {
      await failing.promise;
      throw new Error('Atlassian refused');
    });
    const reply = followUps.followUp(async () => {
      throw new Error('Slack refused the thread reply');
    });
    failing.resolve();
    await expect(command).rejects.toThrow('Atlassian refused');
    await expect(reply).rejects.toThrow('Slack refused the thread reply');
    expect(followUps.awaitingResult).toBe(0);
  });
});
