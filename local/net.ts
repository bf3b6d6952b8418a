/** loopback ports and servers for the local runtime's parts */
import type { Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { HOST } from './constants';

/** a port free on loopback now */
export const freePort = (): Promise<number> =>
  new Promise((res, rej) => {
    const srv = createNetServer();
    srv.unref();
    srv.once('error', rej);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => res(port));
    });
  });

/** binds `server` on loopback; a taken port is a clear error naming `what` */
export const listen = (server: Server, port: number, what: string): Promise<number> =>
  new Promise((res, rej) => {
    const onError = (err: NodeJS.ErrnoException) => {
      rej(err.code === 'EADDRINUSE' ? new Error(`${what} port ${port} is already in use (pass another port, or 0 for a free one)`) : err);
    };
    server.once('error', onError);
    server.listen(port, HOST, () => {
      server.off('error', onError);
      res((server.address() as AddressInfo).port);
    });
  });

/** closes the server and its open connections (a server never started is fine) */
export const closeServer = (server: Server | undefined): Promise<void> =>
  new Promise((res) => {
    if (!server?.listening) return res();
    server.close(() => res());
    server.closeAllConnections();
  });
