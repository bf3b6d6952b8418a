import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { functions as catalog } from '../../functions/catalog';
import { buildApp } from '../../infra/app';
import { entryOf } from '../../infra/bundling';
import { REPO_ROOT } from '../../infra/stack';

/** cdk.json's context: the tests synthesize with the same feature flags as `cdk synth` */
export const cdkJsonContext = (): Record<string, unknown> =>
  (JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

let placeholderRoot: string | undefined;

/**
 * The repo root when every catalog handler exists; otherwise a temp folder of placeholder
 * handlers (never files under functions/), so the stack can be tested while handlers are written.
 */
export const entriesRoot = (): string => {
  if (catalog.every((spec) => existsSync(entryOf(REPO_ROOT, spec.name)))) return REPO_ROOT;
  if (placeholderRoot) return placeholderRoot;
  const root = mkdtempSync(join(tmpdir(), 'iop-entries-'));
  writeFileSync(join(root, 'package-lock.json'), '{ "lockfileVersion": 3 }\n');
  for (const spec of catalog) {
    mkdirSync(join(root, 'functions', spec.name), { recursive: true });
    writeFileSync(entryOf(root, spec.name), 'export const handler = async () => ({ statusCode: 204 });\n');
  }
  placeholderRoot = root;
  return root;
};

/** the sending domain the prod stage is synthesized with in tests */
export const PROD_MAIL_DOMAIN = 'mail.iop-program.org';

export interface TestAppOptions {
  stage?: 'dev' | 'prod';
  nag?: boolean;
  outdir?: string;
  context?: Record<string, unknown>;
  webDistDir?: string;
}

/** the real app (infra/app.ts) with bundling skipped; nag off unless asked for */
export const buildTestApp = (options: TestAppOptions = {}) =>
  buildApp({
    context: {
      ...cdkJsonContext(),
      stage: options.stage ?? 'dev',
      // prod refuses to synthesize without a real sending domain
      ...(options.stage === 'prod' ? { mailDomain: PROD_MAIL_DOMAIN } : {}),
      'aws:cdk:bundling-stacks': [],
      ...options.context,
    },
    nag: options.nag ?? false,
    // CloudFormation schema validation (~2 s a synth) runs where cdk synth runs it: with nag
    cfnValidation: options.nag ?? false,
    outdir: options.outdir ?? mkdtempSync(join(tmpdir(), 'iop-cdk-out-')),
    projectRoot: entriesRoot(),
    webDistDir: options.webDistDir,
  });

export const templateFor = (stage: 'dev' | 'prod'): Template => Template.fromStack(buildTestApp({ stage }).stack);

export type Resource = {
  Type: string;
  Properties?: Record<string, any>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string | string[];
};

/** logical id → resource, of one type */
export const resourcesOf = (template: Template, type: string): Record<string, Resource> =>
  template.findResources(type) as Record<string, Resource>;

/** the one resource of a type whose properties satisfy `pick` (fails when not exactly one) */
export const onlyOne = (template: Template, type: string, pick: (r: Resource) => boolean): [string, Resource] => {
  const found = Object.entries(resourcesOf(template, type)).filter(([, r]) => pick(r));
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0]!;
};

/** statements of every IAM policy (inline or managed) attached to a role's logical id */
export const statementsOfRole = (template: Template, roleId: string): Array<Record<string, any>> => {
  const refersToRole = (roles: unknown): boolean =>
    Array.isArray(roles) && roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }));
  const docs = [
    ...Object.values(resourcesOf(template, 'AWS::IAM::Policy')).filter((p) => refersToRole(p.Properties?.Roles)),
    ...Object.values(resourcesOf(template, 'AWS::IAM::ManagedPolicy')).filter((p) => refersToRole(p.Properties?.Roles)),
  ];
  return docs.flatMap((p) => p.Properties?.PolicyDocument?.Statement ?? []);
};

export const asList = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
