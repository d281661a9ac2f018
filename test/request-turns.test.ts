import { oneCallPerTurn } from '../src/request-turns';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('oneCallPerTurn', () => {
  it('handles calls in arrival order, one per event-loop turn, so I/O queued by one runs before the next', async () => {
    const seen: string[] = [];
    const handle = oneCallPerTurn((name: string) => {
      seen.push(name);
      // Stands for the I/O a request starts (a SCIM connection completing): it must not wait for the burst.
      setImmediate(() => seen.push(`${name} done`));
    });
    handle('a');
    handle('b');
    handle('c');
    expect(seen).toEqual([]);
    for (let i = 0; i < 5; i++) await turn();
    expect(seen).toEqual(['a', 'a done', 'b', 'b done', 'c', 'c done']);
  });

  it('takes calls that arrive while it is draining, after those already waiting', async () => {
    const seen: number[] = [];
    const handle = oneCallPerTurn((n: number) => {
      seen.push(n);
      if (n === 1) handle(3);
    });
    handle(1);
    handle(2);
    for (let i = 0; i < 5; i++) await turn();
    expect(seen).toEqual([1, 2, 3]);
  });
});
