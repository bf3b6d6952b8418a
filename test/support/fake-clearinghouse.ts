import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * A fake clearinghouse for tests: a node:http server on 127.0.0.1 that answers eligibility v3
 * inquiries with recorded responses (test/fixtures/clearinghouse/), chosen by the subscriber's member
 * ID. The recorded subscriber is replaced by the one asked about, as a real 271 echoes it, so a test
 * can check that none of it reaches the logs. Every request's headers and body are kept.
 *
 *   ACTIVE…   active, in-network copay 25, coinsurance 20 %, deductible remaining 850.50 for AI
 *   ONLY30…   active, answered for service type 30 only (copay 30)
 *   INACTIVE… inactive (EB 6)
 *   AUTH…     active, authorization required for AI
 *   BADID…    AAA 72 (invalid member ID)
 *   BUSY…     AAA 42 on the first request for that member, then active
 *   BUSYALL…  AAA 42 every time
 *   ERR500…   HTTP 500 every time
 *   RATE…     HTTP 429 (too many at once) every time
 *   DENIED…   HTTP 401 (a wrong key)
 *   HANG…     no answer (holds the request until the server stops)
 *   NOTJSON…  200 with an HTML page
 *   OTHER…    200 with JSON of another shape
 * Anything else: AAA 75 (subscriber not found).
 */
export interface FakeClearinghouse {
  url: string;
  /** what was received, in order */
  requests: Array<{ headers: IncomingHttpHeaders; body: any; at: number }>;
  /** requests for one member ID */
  requestsFor(memberId: string): Array<{ headers: IncomingHttpHeaders; body: any; at: number }>;
  stop(): Promise<void>;
}

const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../fixtures/clearinghouse/${name}`, import.meta.url)), 'utf8');

/** a recorded response, answering for the subscriber and control number of this request */
const recorded = (name: string, request: any): string => {
  const body = JSON.parse(fixture(name)) as Record<string, any>;
  body.controlNumber = request?.controlNumber;
  body.tradingPartnerServiceId = request?.tradingPartnerServiceId;
  if (body.subscriber) body.subscriber = { ...body.subscriber, ...request?.subscriber };
  return JSON.stringify(body);
};

export const startFakeClearinghouse = async (): Promise<FakeClearinghouse> => {
  const requests: FakeClearinghouse['requests'] = [];
  const hanging = new Set<ServerResponse>();
  const seen = new Map<string, number>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = undefined;
      }
      requests.push({ headers: req.headers, body, at: Date.now() });
      const memberId = String(body?.subscriber?.memberId ?? '').toUpperCase();
      const count = (seen.get(memberId) ?? 0) + 1;
      seen.set(memberId, count);
      const json = (text: string, status = 200) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(text);
      };
      if (memberId.startsWith('HANG')) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (memberId.startsWith('ERR500')) {
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end(fixture('http-500.txt'));
        return;
      }
      if (memberId.startsWith('RATE')) return json('{"message":"Too many concurrent requests"}', 429);
      if (memberId.startsWith('DENIED')) return json('{"message":"Unauthorized"}', 401);
      if (memberId.startsWith('NOTJSON')) {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(fixture('http-500.txt'));
        return;
      }
      if (memberId.startsWith('OTHER')) return json(JSON.stringify({ status: 'ok', data: [1, 2, 3] }));
      if (memberId.startsWith('BUSYALL')) return json(recorded('aaa-42.json', body));
      if (memberId.startsWith('BUSY')) return json(recorded(count === 1 ? 'aaa-42.json' : 'active.json', body));
      if (memberId.startsWith('ACTIVE')) return json(recorded('active.json', body));
      if (memberId.startsWith('ONLY30')) return json(recorded('active-30-only.json', body));
      if (memberId.startsWith('INACTIVE')) return json(recorded('inactive.json', body));
      if (memberId.startsWith('AUTH')) return json(recorded('auth-required.json', body));
      if (memberId.startsWith('BADID')) return json(recorded('aaa-72.json', body));
      const notFound = JSON.parse(recorded('aaa-72.json', body)) as Record<string, any>;
      notFound.errors = [{ field: 'AAA', code: '75', description: 'Subscriber/Insured Not Found', location: 'Loop 2100C' }];
      notFound.subscriber.aaaErrors = notFound.errors;
      return json(JSON.stringify(notFound));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/eligibility/v3`,
    requests,
    requestsFor: (memberId) => requests.filter((r) => r.body?.subscriber?.memberId === memberId),
    stop: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
