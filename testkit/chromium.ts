// Headless Chromium for the command-screen tests and the dashboard's frame measurements: Debian's own
// browser through playwright-core, so nothing is downloaded at test time.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's `chromium` package; CHROMIUM_PATH overrides (e.g. a developer's own build). */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

export function chromiumAvailable(): boolean {
  return existsSync(chromiumPath());
}

/**
 * Launch headless Debian Chromium through playwright-core (no bundled browser download).
 * The network here is closed: without the background/sync/update flags Chromium keeps
 * dialling Google services and floods the log with refused connections.
 * No --user-data-dir: playwright-core throws on it in launch() args; it already gives every
 * launch a fresh temp profile (playwright_chromiumdev_profile-*) and deletes it on close().
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}; run scripts/ensure-test-deps.sh or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox', // CI runs as root and the sandbox refuses root
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Containers often have a 64 MB /dev/shm; Debian's wrapper means to add this but its
      // findmnt test breaks when /dev/shm is mounted twice ("[: unexpected operator").
      '--disable-dev-shm-usage',
    ],
  });
}
