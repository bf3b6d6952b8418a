import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** forwards to the SES emulator, or answers 503 (as SES does when throttled or down) while `failing` */
export interface FaultProxy {
  url: string;
  failing: boolean;
  /** how many requests it answered 503 */
  refused: number;
  close(): Promise<void>;
}

/** a fault proxy on 127.0.0.1 in front of `target()` (read per request: the runtime names its ports after the proxy is up) */
export const faultProxy = async (target: () => string): Promise<FaultProxy> => {
  const state = { failing: false, refused: 0 };
  const server: Server = createServer((req, res) => {
    if (state.failing) {
      state.refused++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Service unavailable' }));
      return;
    }
    const to = new URL(req.url ?? '/', target());
    const fwd = request(to, { method: req.method, headers: { ...req.headers, host: to.host } }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    fwd.on('error', () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get failing() {
      return state.failing;
    },
    set failing(v: boolean) {
      state.failing = v;
    },
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
};
