/**
 * A TCP relay in front of a server (PostgreSQL, Slack or Atlassian in the tests) that can stop passing
 * bytes, as a paused server or a silent network does, cut every connection, as a restarted server
 * does, and, in front of PostgreSQL, end one backend the way pg_terminate_backend does (see
 * `terminateAt`). For that it reads the PostgreSQL wire protocol without TLS: each message is a type
 * byte and an int32 length, but the client's first (startup) has no type byte.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Bytes already sent are held and new ones are not passed on until `resume()`. */
  pause(): void;
  resume(): void;
  /** Destroys every open connection (both sides). */
  cut(): void;
  /**
   * Only with `{ postgres: true }`. Arms one termination (each call one more), for the first client
   * message (simple query 'Q' or Parse 'P') whose SQL contains `sql`. `after-work` (default): the message is passed on, the
   * server's reply up to and including ReadyForQuery is swallowed, and the client gets FATAL 57P01
   * instead: a backend terminated after its work (a COMMIT that committed, an autocommit statement
   * that did). `before-work`: the message is never passed on, so the server does nothing of it.
   */
  terminateAt(sql: string, when?: 'after-work' | 'before-work'): void;
  /** How many armed terminations have happened. */
  readonly terminations: number;
  close(): Promise<void>;
}

/** What a backend ended by pg_terminate_backend sends its client before closing. */
const TERMINATED_MESSAGE = 'terminating connection due to administrator command';

function errorResponse(fields: Record<string, string>): Buffer {
  const body = Buffer.concat([
    ...Object.entries(fields).map(([field, value]) => Buffer.from(`${field}${value}\0`, 'utf8')),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(5);
  header.write('E', 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const FATAL_57P01 = errorResponse({ S: 'FATAL', V: 'FATAL', C: '57P01', M: TERMINATED_MESSAGE });

/** Cuts a byte stream into whole protocol messages; `untyped`: the first has no type byte. */
function messageReader(untyped: boolean): (chunk: Buffer) => Buffer[] {
  let buffered = Buffer.alloc(0);
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    const messages: Buffer[] = [];
    for (;;) {
      const typeBytes = untyped ? 0 : 1;
      if (buffered.length < typeBytes + 4) return messages;
      const size = typeBytes + buffered.readInt32BE(typeBytes);
      if (buffered.length < size) return messages;
      messages.push(buffered.subarray(0, size));
      buffered = buffered.subarray(size);
      untyped = false;
    }
  };
}

const type = (message: Buffer): string => String.fromCharCode(message[0] ?? 0);

export async function startTcpProxy(
  targetHost: string,
  targetPort: number,
  options: { postgres?: boolean } = {},
): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let paused = false;
  const armed: { sql: string; when: 'after-work' | 'before-work' }[] = [];
  let terminations = 0;

  /** The armed termination this message is for, if any, taken (the first armed for its SQL). */
  const takeArmed = (message: Buffer): 'after-work' | 'before-work' | null => {
    if (!['Q', 'P'].includes(type(message))) return null;
    const text = message.toString('utf8');
    const index = armed.findIndex(({ sql }) => text.includes(sql));
    if (index < 0) return null;
    terminations += 1;
    return armed.splice(index, 1)[0]!.when;
  };

  /** Passes whole PostgreSQL messages each way, carrying out an armed termination. */
  const relayPostgres = (client: net.Socket, upstream: net.Socket) => {
    let swallowing = false;
    const terminate = () => client.end(FATAL_57P01, () => upstream.destroy());
    const fromClient = messageReader(true);
    client.on('data', (chunk: Buffer) => {
      for (const message of fromClient(chunk)) {
        const fault = swallowing ? null : takeArmed(message);
        if (fault === 'before-work') return terminate();
        if (fault === 'after-work') swallowing = true;
        upstream.write(message);
      }
    });
    const fromServer = messageReader(false);
    upstream.on('data', (chunk: Buffer) => {
      for (const message of fromServer(chunk)) {
        if (!swallowing) client.write(message);
        else if (type(message) === 'Z') return terminate();
      }
    });
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    if (options.postgres) {
      // Messages are passed one write each: without this, Nagle's algorithm holds the later ones back.
      pair.forEach((s) => s.setNoDelay(true));
      relayPostgres(client, upstream);
    } else {
      client.pipe(upstream);
      upstream.pipe(client);
    }
    // After the relaying is set up: pipe() and a 'data' listener set a socket flowing again.
    if (paused) pair.forEach((s) => s.pause());
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const each = (action: (socket: net.Socket) => void) => pairs.forEach((pair) => pair.forEach(action));
  return {
    port: (server.address() as net.AddressInfo).port,
    pause() {
      paused = true;
      each((s) => s.pause());
    },
    resume() {
      paused = false;
      each((s) => s.resume());
    },
    cut: () => each((s) => s.destroy()),
    terminateAt(sql, when = 'after-work') {
      if (!options.postgres) throw new Error('terminateAt needs startTcpProxy(..., { postgres: true })');
      armed.push({ sql, when });
    },
    get terminations() {
      return terminations;
    },
    close: () =>
      new Promise<void>((resolve) => {
        each((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}
