/**
 * A TCP relay in front of a server (PostgreSQL in the tests) that can stop passing bytes, as a paused
 * server or a silent network does, and cut every connection, as a restarted server does.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Bytes already sent are held and new ones are not passed on until `resume()`. */
  pause(): void;
  resume(): void;
  /** Destroys every open connection (both sides). */
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let paused = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, targetHost);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    if (paused) pair.forEach((s) => s.pause());
    client.pipe(upstream);
    upstream.pipe(client);
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
    close: () =>
      new Promise<void>((resolve) => {
        each((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}
