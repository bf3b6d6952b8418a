/**
 * The local runtime as `npm start -- --persist --data-dir <dir>` starts it, for the crash runs
 * (./crash-run.ts), with one difference: the handlers send email to CRASH_MAIL_SINK, an SES emulator
 * the test keeps in its own process. The runtime's own mailbox lives in this process and dies with
 * it; the sink outlives every kill -9, so each email can be counted once the run is over.
 *
 *   node --import tsx test/soak/crash-child.ts --port 0 --mail-port 0 --data-dir <dir>
 *   env CRASH_MAIL_SINK (required), TIME_SCALE and the handlers' settings as usual
 *
 * Prints the lines `local/start.ts` prints that the tests read (Intake form, Mailbox, DynamoDB,
 * "Ctrl-C stops everything."). SIGTERM stops it gracefully.
 */
import { parseArgs } from 'node:util';
import { startRuntime } from '../../local/runtime';

const { values } = parseArgs({
  options: { port: { type: 'string' }, 'mail-port': { type: 'string' }, 'data-dir': { type: 'string' } },
  strict: true,
});
const sink = process.env.CRASH_MAIL_SINK;
if (!sink || !values['data-dir']) {
  process.stderr.write('crash-child needs CRASH_MAIL_SINK and --data-dir\n');
  process.exit(2);
}

const runtime = await startRuntime({
  port: Number(values.port ?? 0),
  mailPort: Number(values['mail-port'] ?? 0),
  persist: true,
  dataDir: values['data-dir'],
  quiet: true,
  env: { AWS_ENDPOINT_URL_SESV2: sink },
});
process.on('SIGTERM', () => {
  void runtime.stop().then(() => process.exit(0));
});
const running = (await runtime.sfn.listExecutions({ stateMachineArn: runtime.stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000 }))
  .executions.length;
process.stdout.write(
  [
    `  Intake form    ${runtime.appUrl}/`,
    `  Mailbox        ${sink}`,
    `  DynamoDB       ${runtime.dynamoUrl}`,
    `  Step Functions ${runtime.sfnUrl}`,
    `  Workflows      ${running} running after the restore`,
    'Ctrl-C stops everything.',
    '',
  ].join('\n'),
);
