/**
 * The embedded local runtime behind `npm start` (docs/ARCHITECTURE.md §11): one process tree on loopback.
 *
 *   app (gateway: API + web + token issuer) ── handlers (functions/<name>/handler.ts, in-process)
 *   DynamoDB Local (Java child) · SES emulator (aws-ses-v2-local) · Step Functions (local/sfn)
 *
 * This module wires the parts: ./dynamodb/ (the jar, its class-data cache, the JVM process, the
 * table), ./mail (the SES emulator's worker), ./lambda (handlers in-process, as the Lambda service
 * invokes them), ./gateway and ./auth (API Gateway and Cognito), ./sfn/ (Step Functions),
 * ./triggers/ (the table stream and schedules); ./constants and ./net hold what they share.
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
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { functions, STATE_MACHINE_NAME } from '../functions/catalog';
import { createLocalAuth, generateRsaKeyPair, type LocalAuth } from './auth';
import { ACCOUNT_ID, HOST, REGION, ROOT, TABLE_NAME } from './constants';
import { type DynamoLocalRun, startDynamoLocal } from './dynamodb/dynamodb-local';
import { localEligibilityEnv } from './eligibility';
import { startTransactionBarrier } from './durable-transactions';
import { describeFaults, type FaultControl, type FaultSpec, faultSwitch } from './faults';
import { Gateway } from './gateway';
import { GENEROUS_RATE_LIMITS, type RateLimits } from './gateway/rate-limits';
import { checkOverrides, functionNameOf, importHandlers, invokeLocal, type LambdaHandler, loadDefinition } from './lambda';
import { startMail } from './mail';
import { closeServer, freePort, listen } from './net';
import { startTriggers } from './triggers/triggers';
import type { SfnServer } from './sfn/http';
import type { LocalStepFunctions } from './sfn/local-step-functions';

export { ROOT } from './constants';
export type { LambdaHandler } from './lambda';

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
  /** fault injection (./faults): this spec, else the LOCAL_FAULTS variable; neither: none */
  faults?: FaultSpec | string;
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
  /** the fault switch, when one was given at start (change or stop the faults, read the counts) */
  faults?: FaultControl;
  stop(): Promise<void>;
}

// ---- the runtime -----------------------------------------------------------------------------------

const timeScaleFrom = (option: number | undefined): number => {
  const raw = option ?? (process.env.TIME_SCALE ? Number(process.env.TIME_SCALE) : 1);
  if (!Number.isFinite(raw) || raw <= 0)
    throw new Error(`TIME_SCALE must be a positive number, got ${String(option ?? process.env.TIME_SCALE)}`);
  return raw;
};

const print = (line: string) => process.stdout.write(`${line}\n`);
const printErr = (line: string) => process.stderr.write(`${line}\n`);
/** a log line after the time of day (HH:MM:SS.mmm) */
const printTimed = (line: string) => print(`${new Date().toISOString().slice(11, 23)} ${line}`);

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
  // a half eligibility configuration fails here, before anything starts (again below with a computed env)
  localEligibilityEnv({ ...process.env, ...(typeof options.env === 'object' ? options.env : {}) }, timeScale);
  checkOverrides(options.handlers ?? {});
  const faults = faultSwitch(options.faults, functions);
  const cleanups: Array<() => Promise<void> | void> = [];
  const savedEnv = new Map<string, string | undefined>();
  let dynamo: DynamoLocalRun | undefined;
  // a last resort if the process exits without stop(): never leave the JVM behind
  const killOnExit = () => dynamo?.current().child.kill('SIGKILL');
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
    // a catalog function by name, with its handler as it is when called (the handlers are imported below)
    const invoke = (name: string, payload: unknown) => invokeLocal(specs.get(name)!, handlers.get(name), payload);
    const gateway = new Gateway({
      functions,
      webRoot: join(ROOT, 'web', 'dist'),
      invoke,
      log: quiet ? undefined : printTimed,
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
    // one port for both attempts: the handlers' endpoint variable is set before the table is ready
    const dynamoPort = await freePort();
    const dynamoUrl = `http://${HOST}:${dynamoPort}`;
    dynamo = startDynamoLocal({
      port: dynamoPort,
      dbPath,
      cwd,
      tableName: TABLE_NAME,
      stopping: () => stopRequested,
      mark,
      say: quiet ? () => undefined : print,
      printErr,
    });
    const started = dynamo;
    cleanups.push(() => started.stop());
    const { tableReady } = dynamo;

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
      timeScale,
      resolveFunction: (arnOrName) => {
        const name = functionNameOf(arnOrName);
        if (!specs.has(name) || !handlers.has(name)) throw new Error(`no local function ${name}`);
        return (payload) => invoke(name, payload);
      },
      logger: {
        info: (msg, data) => quiet || printTimed(`sfn ${msg} ${JSON.stringify(data ?? {})}`),
        error: (msg, data) => printErr(`sfn ${msg} ${JSON.stringify(data ?? {})}`),
      },
    });
    cleanups.push(() => sfn.close());
    const stateMachineArn = sfn.createStateMachine(STATE_MACHINE_NAME, await loadDefinition());
    const sfnServer: SfnServer = await startSfnServer(sfn);
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
    if (options.persist) {
      // a kill -9 must not lose a transaction a handler was told had committed (./durable-transactions)
      const barrier = await startTransactionBarrier(dynamoUrl);
      cleanups.push(() => barrier.close());
      env.AWS_ENDPOINT_URL_DYNAMODB = barrier.url;
    }
    if (faults) {
      cleanups.push(() => faults.close());
      Object.assign(env, await faults.startProxies({ dynamoUrl: env.AWS_ENDPOINT_URL_DYNAMODB!, mailUrl }));
      if (!quiet) print(`Fault injection on: ${describeFaults(faults.spec)}`);
    }
    const extra = typeof options.env === 'function' ? options.env({ dynamoUrl, sfnUrl: sfnServer.url, mailUrl }) : options.env;
    Object.assign(env, extra ?? {});
    Object.assign(env, localEligibilityEnv({ ...process.env, ...env }, timeScale));
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
    const imported = importHandlers(options.handlers ?? {}, printErr).then((h) => {
      mark('handlers imported');
      return h;
    });
    imported.catch(() => undefined);

    const auth = await createLocalAuth({ issuer: `${appUrl}/local/auth`, keyPair });
    gateway.auth = auth;
    mark('token issuer ready');

    // 4. the table (created as soon as DynamoDB answers) and the handler modules
    const streamArn = await tableReady;
    handlers = faults ? faults.wrapAll(await imported) : await imported;

    // 5. triggers: the stream is read from LATEST from here on (before anything can write to it)
    const triggers = await startTriggers({
      functions: functions.filter((f) => handlers.has(f.name)),
      invoke,
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
    const running = dynamo.current();
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
      faults,
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
