import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Counting proxies the lifecycle benchmark puts between the handlers and the local emulators (via
 * startRuntime's `env` option), to count what AWS would bill:
 * - DynamoDB: adds ReturnConsumedCapacity=TOTAL to each request and sums read/write units per
 *   referral (the `REFERRAL#<id>` found in the request body) and per operation; requests that name
 *   no referral (cohorts, queues) are kept apart.
 * - SES: counts SendEmail calls and their raw MIME bytes.
 */

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export interface Units {
  read: number;
  write: number;
  calls: number;
}

const CAPACITY_OPS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactWriteItems',
  'TransactGetItems',
]);
const REFERRAL_ID = /REFERRAL#([0-9a-f-]{36})/;

/**
 * A proxy on 127.0.0.1 in front of `target` (set once the emulator's port is known): reads each
 * request's body whole, hands it to `handle`, which counts and forwards it.
 */
abstract class CountingProxy {
  target = '';
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => this.handle(req, Buffer.concat(chunks), res));
  });

  protected abstract handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void;

  /** sends the request on to the target with these headers and body; `answer` gets the target's response (a 502 if none) */
  protected forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    headers: http.OutgoingHttpHeaders,
    body: Buffer | string,
    answer: (upRes: http.IncomingMessage) => void,
  ): void {
    const up = http.request(`${this.target}${req.url}`, { method: req.method, headers, agent }, answer);
    up.on('error', () => res.writeHead(502).end());
    up.end(body);
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): void {
    this.server.close();
    this.server.closeAllConnections();
  }
}

export class DynamoCounter extends CountingProxy {
  counting = true;
  readonly byReferral = new Map<string, Units>();
  readonly unattributed: Units = { read: 0, write: 0, calls: 0 };
  readonly byOperation: Record<string, Units> = {};

  protected handle(req: http.IncomingMessage, received: Buffer, res: http.ServerResponse): void {
    let body = received.toString('utf8');
    const op = String(req.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
    const referralId = REFERRAL_ID.exec(body)?.[1];
    if (this.counting && CAPACITY_OPS.has(op) && body.startsWith('{') && !body.includes('"ReturnConsumedCapacity"'))
      body = `{"ReturnConsumedCapacity":"TOTAL",${body.slice(1)}`.replace(/,}$/, '}');
    const headers = { ...req.headers, 'content-length': String(Buffer.byteLength(body)) };
    this.forward(req, res, headers, body, (upRes) => {
      const out: Buffer[] = [];
      upRes.on('data', (c: Buffer) => out.push(c));
      upRes.on('end', () => {
        const buf = Buffer.concat(out);
        if (this.counting) this.count(op, referralId, buf);
        res.writeHead(upRes.statusCode ?? 500, upRes.headers);
        res.end(buf);
      });
    });
  }

  private count(op: string, referralId: string | undefined, buf: Buffer): void {
    let read = 0;
    let write = 0;
    try {
      const json = JSON.parse(buf.toString('utf8')) as { ConsumedCapacity?: unknown };
      const isWrite = /Put|Update|Delete|TransactWrite|BatchWrite/.test(op);
      for (const c of [json.ConsumedCapacity].flat().filter(Boolean) as Array<{
        ReadCapacityUnits?: number;
        WriteCapacityUnits?: number;
        CapacityUnits?: number;
      }>) {
        if (c.WriteCapacityUnits !== undefined || c.ReadCapacityUnits !== undefined) {
          write += c.WriteCapacityUnits ?? 0;
          read += c.ReadCapacityUnits ?? 0;
        } else if (isWrite) write += c.CapacityUnits ?? 0;
        else read += c.CapacityUnits ?? 0;
      }
    } catch {
      // not JSON
    }
    const add = (u: Units) => {
      u.read += read;
      u.write += write;
      u.calls++;
    };
    add((this.byOperation[op] ??= { read: 0, write: 0, calls: 0 }));
    if (referralId) {
      let u = this.byReferral.get(referralId);
      if (!u) this.byReferral.set(referralId, (u = { read: 0, write: 0, calls: 0 }));
      add(u);
    } else add(this.unattributed);
  }
}

export class SesCounter extends CountingProxy {
  emails = 0;
  bytes = 0;

  protected handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    if (req.method === 'POST' && req.url?.includes('outbound-emails')) {
      this.emails++;
      try {
        const raw = (JSON.parse(body.toString('utf8')) as { Content?: { Raw?: { Data?: string } } }).Content?.Raw?.Data;
        this.bytes += raw ? Math.floor((raw.length * 3) / 4) : body.length;
      } catch {
        this.bytes += body.length;
      }
    }
    this.forward(req, res, req.headers, body, (upRes) => {
      res.writeHead(upRes.statusCode ?? 500, upRes.headers);
      upRes.pipe(res);
    });
  }
}
