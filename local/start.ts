/**
 * `npm start`: the local runtime in the foreground.
 *
 *   tsx local/start.ts [--persist [--data-dir .data]] [--port 3000] [--mail-port 8005]
 *   env: PORT, MAIL_PORT, TIME_SCALE (e.g. 3600: an hour of workflow time per second), and the
 *   eligibility settings (ELIGIBILITY_PROVIDER=clearinghouse, ELIGIBILITY_URL, ELIGIBILITY_API_KEY,
 *   PROVIDER_NPI, PROVIDER_NAME, ELIGIBILITY_RETRY_SECONDS), passed to the handlers as they are
 *
 * Ctrl-C / SIGTERM stops every part (the DynamoDB Local JVM included) and exits 0; a start failure
 * prints what went wrong and exits 1 with nothing left running.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Runtime } from './runtime';

const out = (line = '') => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

const usage = `usage: npm start -- [--persist [--data-dir <dir>]] [--port <n>] [--mail-port <n>]
  --persist        keep the data (DynamoDB items, workflow executions) under .data/ (default: in memory)
  --data-dir <dir> where --persist keeps it (default .data/ in the repository)
  --port <n>       app port: API + intake form + console (default 3000, env PORT; 0 = any free port)
  --mail-port <n>  mailbox port (default 8005, env MAIL_PORT; 0 = any free port)
  env TIME_SCALE   speeds up workflow timers (default 1)
  env ELIGIBILITY_PROVIDER=clearinghouse with ELIGIBILITY_URL, ELIGIBILITY_API_KEY, PROVIDER_NPI, PROVIDER_NAME
                   checks insurance with a real clearinghouse (default: the payer simulator)`;

const portFrom = (value: string | undefined, name: string, fallback: number): number => {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number (0-65535), got "${value}"`);
  return n;
};

const OPTIONS = {
  persist: { type: 'boolean' },
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  'mail-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const main = async (): Promise<void> => {
  let args: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];
  try {
    args = parseArgs({ options: OPTIONS, strict: true }).values;
  } catch (e) {
    err((e as Error).message);
    err(usage);
    process.exit(2);
  }
  if (args.help) {
    out(usage);
    return;
  }
  if (args['data-dir'] !== undefined && !args.persist) {
    err('--data-dir needs --persist');
    err(usage);
    process.exit(2);
  }

  let runtime: Runtime | undefined;
  let stoppingSince = 0;
  const shutdown = (signal: string) => {
    if (stoppingSince) {
      // npm/tsx relay the terminal's signal too: only a later, deliberate second Ctrl-C forces the exit
      if (Date.now() - stoppingSince < 2000) return;
      err(`${signal} again: exiting now`);
      process.exit(0); // the runtime's exit hook kills the JVM
    }
    stoppingSince = Date.now();
    out(`\n${signal}: stopping…`);
    // during start there is nothing to stop() yet: exiting runs the runtime's exit hook (kills the JVM)
    if (!runtime) process.exit(0);
    runtime.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        err(`error while stopping: ${(e as Error).message}`);
        process.exit(0);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const port = portFrom(args.port ?? process.env.PORT, '--port', 3000);
  const mailPort = portFrom(args['mail-port'] ?? process.env.MAIL_PORT, '--mail-port', 8005);
  out('Starting the IOP local runtime…');
  // loaded after the signal handlers are in place, so an early Ctrl-C is handled too
  const [{ ROOT, startRuntime }, { DEMO_USERS }, { WAF_RATE_LIMITS }] = await Promise.all([
    import('./runtime'),
    import('./auth'),
    import('./gateway/rate-limits'),
  ]);
  // the deployed WAF's limits (100 intakes per 5 minutes per address; 5 failed sign-ins, then 1 a minute)
  runtime = await startRuntime({ port, mailPort, persist: args.persist ?? false, dataDir: args['data-dir'], rateLimits: WAF_RATE_LIMITS });

  // performance.now() counts from process start: module loading included
  const total = (performance.now() / 1000).toFixed(1);
  const password = process.env.LOCAL_DEMO_PASSWORD ? '(the value of LOCAL_DEMO_PASSWORD)' : 'demo';
  const scale = Number(process.env.TIME_SCALE ?? 1);
  out();
  out(`IOP local runtime ready in ${total} s`);
  out(`  Intake form    ${runtime.appUrl}/`);
  out(`  Staff console  ${runtime.appUrl}/console/`);
  out(`  Mailbox        ${runtime.mailUrl}`);
  out(`  Demo users     ${DEMO_USERS.map((u) => `${u.username} (${u.description})`).join(', ')}`);
  out(`                 password: ${password}`);
  out(
    `  DynamoDB       ${runtime.dynamoUrl} — ${args.persist ? `data and workflows kept in ${args['data-dir'] ?? '.data/'}` : 'in memory (--persist keeps it)'}`,
  );
  if (scale !== 1) out(`  Time scale     ${scale}× (workflow waits and timers)`);
  // the host only: never the key, and no path or query that could carry one
  out(
    process.env.ELIGIBILITY_PROVIDER === 'clearinghouse'
      ? `  Eligibility    clearinghouse at ${new URL(process.env.ELIGIBILITY_URL!).host}`
      : '  Eligibility    payer simulator (ELIGIBILITY_PROVIDER=clearinghouse for a real check)',
  );
  if (!existsSync(join(ROOT, 'web', 'dist', 'intake', 'index.html')))
    out('  Note           web/dist is missing: run `npm run build:web` for the intake form and console');
  out('Ctrl-C stops everything.');
  out();
};

main().catch((e: unknown) => {
  err(`\nThe local runtime could not start: ${(e as Error)?.message ?? String(e)}`);
  process.exit(1);
});
