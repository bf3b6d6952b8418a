import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { buildTestApp } from './helpers';

interface Violation {
  ruleName: string;
  severity: string;
  violatingConstructs?: Array<{ constructPath: string }>;
}
interface Report {
  pluginReports: Array<{ pluginName: string; conclusion: string; violations: Violation[] }>;
}

const NAG_PLUGINS = ['AwsSolutions', 'HIPAA.Security'];
const MIN_REASON = 40;

/** synthesizes with the validation plugins into a temp dir and reads validation-report.json */
const synthReport = (app: App, outdir: string): Report => {
  app.synth();
  return JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report;
};

const nagErrors = (report: Report): string[] =>
  report.pluginReports
    .filter((p) => NAG_PLUGINS.includes(p.pluginName))
    .flatMap((p) => p.violations.filter((v) => v.severity === 'error'))
    .flatMap((v) => (v.violatingConstructs ?? []).map((c) => `${v.ruleName} at ${c.constructPath}`));

interface Ack {
  path: string;
  id: string;
  reason: string;
}

/** every acknowledgement recorded with Validations.of(c).acknowledge in a construct tree */
const acknowledgements = (root: IConstruct): Ack[] =>
  root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );

/** what both rule packs find when nothing is acknowledged */
const rawFindings = (stage: 'dev' | 'prod', context: Record<string, unknown>): Array<{ rule: string; path: string }> => {
  const acknowledge = Validations.prototype.acknowledge;
  Validations.prototype.acknowledge = () => undefined;
  try {
    const { app } = buildTestApp({ stage, context });
    return [new AwsSolutionsChecks(), new HIPAASecurityChecks()].flatMap((pack) =>
      pack
        .validateScope(app)
        .violations.flatMap((v) => v.violatingResources.map((r) => ({ rule: v.ruleName, path: r.constructPath ?? '' }))),
    );
  } finally {
    Validations.prototype.acknowledge = acknowledge;
  }
};

const covers = (ack: Ack, finding: { rule: string; path: string }): boolean =>
  ack.id === finding.rule && (finding.path === ack.path || finding.path.startsWith(`${ack.path}/`));

test('the nag pipeline reports findings at all (a bare topic without SSL enforcement fails AwsSolutions-SNS3)', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'iop-nag-probe-'));
  const app = new App({ outdir, context: { '@aws-cdk/core:failSynthOnValidationErrors': false } });
  new sns.Topic(new Stack(app, 'Probe'), 'Plain');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
  expect(nagErrors(synthReport(app, outdir))).toEqual(
    expect.arrayContaining([expect.stringMatching(/^AwsSolutions-SNS3 at Probe\/Plain/)]),
  );
});

/** the clearinghouse configuration (issue 16): its key's secret, created by the stack */
const CLEARINGHOUSE = {
  eligibilityProvider: 'clearinghouse',
  eligibilityUrl: 'https://clearinghouse.example.org/eligibility/v3',
  providerNpi: '1234567893',
  providerName: 'Example IOP',
};

describe.each([
  ['dev', 'dev', {}],
  ['prod', 'prod', {}],
  ['prod with the clearinghouse', 'prod', CLEARINGHOUSE],
] as const)('cdk-nag AwsSolutions + HIPAA.Security on the %s stage', (_name, stage, context: Record<string, unknown>) => {
  let acks: Ack[];

  test('synthesizes with zero unacknowledged errors', () => {
    const outdir = mkdtempSync(join(tmpdir(), `iop-nag-${stage}-`));
    const { app } = buildTestApp({
      stage,
      nag: true,
      outdir,
      context: { ...context, '@aws-cdk/core:failSynthOnValidationErrors': false },
    });
    const report = synthReport(app, outdir);
    expect(nagErrors(report)).toEqual([]);
    acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
  });

  test('every acknowledgement gives a real reason and names the finding precisely', () => {
    for (const ack of acks) {
      expect([ack.id, ack.reason.length >= MIN_REASON]).toEqual([ack.id, true]);
      // IAM4/IAM5 report one finding per policy or wildcard: acknowledge that one, not the rule
      if (/-IAM[45]/.test(ack.id)) expect(ack.id).toMatch(/^AwsSolutions-IAM[45]\[.+\]$/);
    }
  });

  test('every acknowledgement matches a finding it is attached to (none is stale)', () => {
    const findings = rawFindings(stage, context);
    const stale = acks.filter((ack) => !findings.some((f) => covers(ack, f))).map((a) => `${a.id} at ${a.path}`);
    expect(stale).toEqual([]);
    const unacknowledged = findings.filter((f) => !acks.some((a) => covers(a, f))).map((f) => `${f.rule} at ${f.path}`);
    expect(unacknowledged).toEqual([]);
  });
});
