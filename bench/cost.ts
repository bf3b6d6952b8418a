import { writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { startRuntime } from '../local/runtime';
import { TestApi } from '../test/support/api';
import { cohortBody, intakeBody } from '../test/support/fixtures';
import { LAMBDA_MEMORY_MB } from '../functions/catalog';
import { PRICES, PRICES_AS_OF } from './prices';

/**
 * Cost per 1,000 referrals on the happy path with detox (consent given, patient email known):
 * drives N referrals through the local runtime and counts what AWS bills — state transitions
 * (GetExecutionHistory), Lambda invocations and their duration, DynamoDB read/write units (a proxy
 * in front of DynamoDB Local adds ReturnConsumedCapacity=TOTAL to every request and sums the
 * answers), emails and their size, API requests — then prices them. Not a test: it writes
 * bench/results/cost.json and cost.md.
 */

const N = Number(process.env.BENCH_REFERRALS ?? 20);

// ---- a counting proxy in front of DynamoDB Local ---------------------------------------------
const units = { read: 0, write: 0, requests: 0 };
const byOperation: Record<string, { calls: number; write: number; read: number }> = {};
let target = '';
const proxy = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    let body = Buffer.concat(chunks).toString('utf8');
    try {
      const json = JSON.parse(body);
      json.ReturnConsumedCapacity = 'TOTAL';
      body = JSON.stringify(json);
    } catch {
      // not JSON: pass through
    }
    const headers = { ...req.headers, 'content-length': String(Buffer.byteLength(body)) };
    const up = http.request(`${target}${req.url}`, { method: req.method, headers }, (upRes) => {
      const out: Buffer[] = [];
      upRes.on('data', (c) => out.push(c));
      upRes.on('end', () => {
        const text = Buffer.concat(out).toString('utf8');
        units.requests++;
        try {
          const json = JSON.parse(text);
          const caps = [json.ConsumedCapacity].flat().filter(Boolean) as Array<{ ReadCapacityUnits?: number; WriteCapacityUnits?: number; CapacityUnits?: number }>;
          const op = String(req.headers['x-amz-target'] ?? '');
          const o = (byOperation[op.replace('DynamoDB_20120810.', '')] ??= { calls: 0, write: 0, read: 0 });
          o.calls++;
          for (const c of caps) {
            o.write += c.WriteCapacityUnits ?? (/Put|Update|Delete|TransactWrite/.test(op) ? c.CapacityUnits ?? 0 : 0);
            o.read += c.ReadCapacityUnits ?? (/Put|Update|Delete|TransactWrite/.test(op) ? 0 : c.CapacityUnits ?? 0);
          }
          for (const c of caps) {
            const isWrite = /Put|Update|Delete|TransactWrite|BatchWrite/.test(op);
            if (c.WriteCapacityUnits !== undefined || c.ReadCapacityUnits !== undefined) {
              units.write += c.WriteCapacityUnits ?? 0;
              units.read += c.ReadCapacityUnits ?? 0;
            } else if (isWrite) units.write += c.CapacityUnits ?? 0;
            else units.read += c.CapacityUnits ?? 0;
          }
        } catch {
          // not JSON
        }
        res.writeHead(upRes.statusCode ?? 500, upRes.headers);
        res.end(text);
      });
    });
    up.on('error', () => res.writeHead(502).end());
    up.end(body);
  });
});

const main = async () => {
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  const rt = await startRuntime({
    port: 0, mailPort: 0, quiet: true,
    env: ({ dynamoUrl }) => {
      target = dynamoUrl;
      return { AWS_ENDPOINT_URL_DYNAMODB: proxyUrl };
    },
  });
  const api = new TestApi(rt.appUrl, rt.mailUrl);
  const sfn = new SFNClient({ region: 'us-east-1', endpoint: rt.sfnUrl, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const cohortIds: string[] = [];
    for (let i = 0; i < Math.ceil(N / 10); i++) cohortIds.push((await api.call('POST', '/api/staff/cohorts', { body: cohortBody({ name: `Bench ${i}` }), as: 'sam' })).json.cohortId);
    const mailBefore = (await api.emails()).length;
    const before = { ...units };
    let apiCalls = 0;
    const ids: string[] = [];
    const started = Date.now();
    for (let i = 0; i < N; i++) {
      const { referralId } = (await api.intake(intakeBody({ lastName: `Bench${i}` }))).json;
      apiCalls++;
      ids.push(referralId);
      await api.waitForGate(referralId, 'evaluation');
      await api.decide(referralId, 'evaluation', { dimensions: { d1: 2, d2: 1, d3: 1, d4: 1, d5: 1, d6: 1 }, recommendedLevel: '2.1', detoxRequired: true, decision: 'accept' });
      await api.waitForGate(referralId, 'detox-confirmation');
      await api.decide(referralId, 'detox-confirmation', { completed: true, completedOn: new Date().toISOString().slice(0, 10) });
      await api.waitForGate(referralId, 'enrollment');
      await api.decide(referralId, 'enrollment', { cohortId: cohortIds[Math.floor(i / 10)] });
      // a person's calls: 3 decisions, each after opening the referral in the console (2 reads)
      apiCalls += 3 + 3 * 2;
      await api.waitFor(referralId, (r) => r.status === 'ENROLLED' && r.events.some((e) => e.type === 'DISCLOSURE' && e.detail?.notice === 'enrolled'));
    }
    const elapsedMs = Date.now() - started;
    // polling through the staff API above is the bench's own traffic, not the product's: not counted
    const emails = (await api.emails()).slice(mailBefore);
    const emailBytes = emails.reduce((s, e) => s + (e.body.text?.length ?? 0) + (e.body.html?.length ?? 0) + e.attachments.reduce((a, x) => a + x.content.length * 0.75, 0), 0);
    let transitions = 0;
    let lambdaTasks = 0;
    let historyBytes = 0;
    for (const id of ids) {
      const h = await sfn.send(new GetExecutionHistoryCommand({ executionArn: `${rt.stateMachineArn.replace(':stateMachine:', ':execution:')}:${id}`, maxResults: 1000 }));
      const events = h.events ?? [];
      transitions += events.filter((e) => e.type?.endsWith('StateEntered')).length;
      lambdaTasks += events.filter((e) => e.type === 'TaskScheduled' || e.type === 'LambdaFunctionScheduled').length;
      historyBytes += JSON.stringify(events).length;
    }
    // Lambda invocations: the API handlers (one per API call) and the workflow's tasks
    const lambdaInvocations = apiCalls + lambdaTasks;
    const perReferral = {
      stateTransitions: transitions / N,
      lambdaInvocations: lambdaInvocations / N,
      dynamoWriteUnits: (units.write - before.write) / N,
      dynamoReadUnits: (units.read - before.read) / N,
      emails: emails.length / N,
      emailKb: emailBytes / N / 1024,
      apiRequests: apiCalls / N,
      executionLogKb: historyBytes / N / 1024,
    };
    const assumedLambdaMs = 120; // warm arm64 handler with 2–4 SDK calls; the local runtime's timings are not Lambda's
    const gbSeconds = (LAMBDA_MEMORY_MB / 1024) * (assumedLambdaMs / 1000);
    const cost = {
      stepFunctions: perReferral.stateTransitions * PRICES.sfnTransition,
      lambda: perReferral.lambdaInvocations * (PRICES.lambdaRequest + gbSeconds * PRICES.lambdaGbSecondArm),
      dynamodb: perReferral.dynamoWriteUnits * PRICES.ddbWru + perReferral.dynamoReadUnits * PRICES.ddbRru,
      ses: perReferral.emails * PRICES.sesEmail + (perReferral.emailKb / 1024 / 1024) * PRICES.sesAttachmentGb,
      api: perReferral.apiRequests * PRICES.httpApiRequest,
      logs: (perReferral.executionLogKb / 1024 / 1024) * PRICES.logsIngestGb,
    };
    const total = Object.values(cost).reduce((a, b) => a + b, 0);
    const per1000 = Object.fromEntries(Object.entries({ ...cost, total }).map(([k, v]) => [k, Math.round(v * 1000 * 10000) / 10000]));
    const dynamoByOperation = Object.fromEntries(Object.entries(byOperation).map(([k, v]) => [k, { calls: v.calls / N, write: Math.round((v.write / N) * 10) / 10, read: Math.round((v.read / N) * 10) / 10 }]));
    const result = { dynamoByOperation, pricesAsOf: PRICES_AS_OF, referrals: N, path: 'happy path with detox, consent given', perReferral, usdPer1000Referrals: per1000, assumptions: { lambdaMemoryMb: LAMBDA_MEMORY_MB, lambdaMsPerInvocation: assumedLambdaMs }, localWallMsPerReferral: Math.round(elapsedMs / N) };
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/cost.json', JSON.stringify(result, null, 2) + '\n');
    const md = [
      `# Cost per 1,000 referrals (happy path with detox) — prices as of ${PRICES_AS_OF}`,
      '',
      '| per referral | value |', '|---|---|',
      ...Object.entries(perReferral).map(([k, v]) => `| ${k} | ${Math.round(v * 100) / 100} |`),
      '',
      '| USD per 1,000 referrals | value |', '|---|---|',
      ...Object.entries(per1000).map(([k, v]) => `| ${k} | $${v} |`),
      '',
    ].join('\n');
    writeFileSync('bench/results/cost.md', md);
    process.stdout.write(md + '\n');
  } finally {
    sfn.destroy();
    await rt.stop();
    proxy.close();
  }
};

main().catch((err) => {
  process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
  process.exit(1);
});
