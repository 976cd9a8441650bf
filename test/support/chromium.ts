import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium, driven by playwright-core (the project's browser for every browser test). */
export const CHROMIUM = '/usr/bin/chromium';

/** Whether Chromium is installed; warns loudly when it is not, and fails under CI. */
export function chromiumAvailable(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env['CI'])
    throw new Error(`Chromium is missing at ${CHROMIUM}; CI must install the Debian package "chromium".`);
  console.warn(`\n*** SKIPPING ${what}: ${CHROMIUM} not found (apt-get install chromium) ***\n`);
  return false;
}

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
