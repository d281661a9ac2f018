import http from 'node:http';

/** Relays one request to http://host:port/path and pipes the answer back (502 when the target fails). */
export function forwardRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: { hostname: string; port: string; path: string },
): void {
  const upstream = http.request(
    { host: target.hostname, port: target.port, path: target.path, method: req.method, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
}
