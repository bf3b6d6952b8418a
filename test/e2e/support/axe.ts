import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

// axe-core in the page under test. the source is evaluated through the DevTools protocol rather
// than added as a <script> tag, so a page with a strict CSP (script-src 'self') still runs it
// without weakening the policy under test.

const require = createRequire(import.meta.url);
export const AXE_PATH = require.resolve('axe-core/axe.min.js');
let source: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: Array<{ target: string; summary: string }>;
}

export interface AxeOptions {
  /** CSS selector to limit the scan to (default: the whole document) */
  include?: string;
  /** rule ids to skip, each with a reason in the calling test */
  disableRules?: string[];
}

/** runs axe-core on the page as it is now; returns the violations (empty when clean) */
export const runAxe = async (page: Page, options: AxeOptions = {}): Promise<AxeViolation[]> => {
  source ??= await readFile(AXE_PATH, 'utf8');
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(source);
  return page.evaluate(async ({ include, disableRules }) => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: any[] }> } }).axe;
    const rules = Object.fromEntries((disableRules ?? []).map((id) => [id, { enabled: false }]));
    const result = await axe.run(include ? { include: [include] } : document, { rules, resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n: { target: string[]; failureSummary?: string }) => ({
        target: n.target.join(' '),
        summary: n.failureSummary ?? '',
      })),
    }));
  }, options);
};

/** one line per violation and node, for a readable assertion message */
export const formatViolations = (violations: AxeViolation[]): string =>
  violations
    .map(
      (v) =>
        `${v.impact ?? '?'} ${v.id}: ${v.help}\n${v.nodes.map((n) => `  at ${n.target}\n    ${n.summary.replace(/\n/g, '\n    ')}`).join('\n')}`,
    )
    .join('\n');
