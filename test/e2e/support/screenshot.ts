import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

// screenshots kept as test artifacts under test/artifacts/ (gitignored)

export const ARTIFACTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'artifacts');

/** saves a full-page PNG as test/artifacts/<name>.png and returns its path */
export const shot = async (page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> => {
  const path = join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path, fullPage: options.fullPage ?? true, animations: 'disabled', caret: 'hide' });
  return path;
};
