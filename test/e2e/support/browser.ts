import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContextOptions, type LaunchOptions, type Page } from 'playwright-core';

// a real headless Chromium for e2e tests: the system one when installed, else the binary that
// @sparticuz/chromium ships inside its npm package (unpacked to /tmp on first use, ~3 s)

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--no-first-run',
  '--no-default-browser-check',
  '--mute-audio',
  '--hide-scrollbars',
];

/** path of the Chromium binary to drive */
export const chromiumPath = async (): Promise<string> => {
  if (existsSync(SYSTEM_CHROMIUM)) return SYSTEM_CHROMIUM;
  const sparticuz = (await import('@sparticuz/chromium')).default;
  sparticuz.setGraphicsMode = false;
  return sparticuz.executablePath();
};

/** launches headless Chromium; close it in `afterAll` */
export const launchBrowser = async (options: LaunchOptions = {}): Promise<Browser> =>
  chromium.launch({ executablePath: await chromiumPath(), headless: true, args: CHROMIUM_ARGS, timeout: 30_000, ...options });

/** a phone (390 × 844, touch) and a laptop */
export const VIEWPORTS = {
  mobile: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
  desktop: { viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 },
} as const satisfies Record<string, BrowserContextOptions>;

/**
 * Collects what must never happen on a page: uncaught errors, console errors and CSP violations
 * (a blocked inline script or style, an eval). Assert `problems` is empty at the end of a test.
 */
export const watchPage = (page: Page): { problems: string[] } => {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
  });
  return { problems };
};
