/**
 * What the browser tests share: Debian's Chromium driven by playwright-core, a real gateway serving
 * the built dashboard, and a check that pages log no errors.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { createGateway, type Gateway, type GatewayOptions } from '@agentwire/server';

export const CHROMIUM = process.env.AGENTWIRE_CHROMIUM ?? '/usr/bin/chromium';

/** The built app, from `dist/node/test/` back to `dist/app/`. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../app/', import.meta.url));

/**
 * Why the browser tests cannot run here, or undefined when they can. CI installs Chromium
 * (`.ci/run`), so there a missing browser is a failure, not a skip.
 */
export function unavailable(): string | undefined {
  if (!existsSync(`${DASHBOARD_DIR}index.html`)) {
    throw new Error(
      `The dashboard is not built (${DASHBOARD_DIR}index.html missing): run npm run build first.`,
    );
  }
  if (existsSync(CHROMIUM)) return undefined;
  const reason = `Chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set AGENTWIRE_CHROMIUM`;
  if (process.env.CI === 'true') throw new Error(`${reason}. CI must run the browser tests.`);
  return `${reason}; skipping the browser tests`;
}

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}

export function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  return createGateway({
    port: 0,
    engine: { kind: 'memory' },
    logLevel: 'silent',
    staticDir: DASHBOARD_DIR,
    ...options,
  });
}

/**
 * A page whose console errors and uncaught exceptions are collected. `allow` lists messages that
 * are expected in a test (Chromium logs a failed WebSocket handshake while a gateway restarts).
 */
export async function openPage(
  browser: Browser,
  options: { theme?: 'dark' | 'light'; width?: number; height?: number; reducedMotion?: boolean } = {},
): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    acceptDownloads: true,
    ...(options.reducedMotion && { reducedMotion: 'reduce' as const }),
  });
  if (options.theme)
    await context.addInitScript((t) => localStorage.setItem('agentwire:theme', t), options.theme);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return { page, errors, close: () => context.close() };
}

/** Errors other than those the test expects. */
export function unexpected(errors: string[], allow: RegExp[] = []): string[] {
  return errors.filter((e) => !allow.some((re) => re.test(e)));
}
