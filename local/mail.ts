/** the SES emulator (aws-ses-v2-local) and its mailbox page, in a worker thread */
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { HOST } from './constants';
import { closeServer, listen } from './net';

/**
 * The emulator in a worker thread: loading it (express, mailparser, nodemailer) costs ~0.5 s of CPU,
 * which the other core does while this thread imports the handlers. Its store is read over HTTP
 * (`GET /store`), so nothing needs to share memory with it.
 */
const MAIL_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const mod = require(workerData.module);
const start = typeof mod.default === 'function' ? mod.default : mod;
start({ host: workerData.host, port: workerData.port }).then((server) => {
  parentPort.postMessage({ port: server.address().port });
  parentPort.on('message', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
});
`;

export interface MailServer {
  url: string;
  close(): Promise<void>;
}

export const startMail = async (port: number): Promise<MailServer> => {
  // the emulator never reports EADDRINUSE (its listen has no error handler): probe the port first
  if (port !== 0) {
    const probe = createServer();
    await listen(probe, port, 'Mailbox');
    await closeServer(probe);
  }
  const module = createRequire(import.meta.url).resolve('aws-ses-v2-local');
  const worker = new Worker(MAIL_WORKER, { eval: true, workerData: { module, host: HOST, port } });
  const exited = new Promise<void>((res) => worker.once('exit', () => res()));
  const bound = await new Promise<number>((res, rej) => {
    worker.once('message', (m: { port: number }) => res(m.port));
    worker.once('error', rej);
    worker.once('exit', (code) => rej(new Error(`the SES emulator stopped during start (exit ${code})`)));
  });
  return {
    url: `http://${HOST}:${bound}`,
    close: async () => {
      worker.postMessage('close');
      const closed = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 2000).unref())]);
      if (!closed) await worker.terminate();
    },
  };
};
