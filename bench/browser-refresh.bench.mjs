// browser-refresh: N tabs of one origin (1, 5, 20) in headless Chromium, all past expiry at the same
// moment, each asking spotauth/browser for a token. Counts the refreshes the emulator sees (must be 1 per
// round, whatever N) and times, inside each tab, how long until it holds a valid token; the ratio is
// against a single tab measured in the same run. The default storage (IndexedDB) is measured; 20 tabs on
// localStorage are measured too, for the README's storage comparison (its reads lag across tab processes,
// which the writers' marks in the lock manager make up for). The bundle sizes (esbuild, minified + gzip) of
// spotauth/browser and of the official SDK go in the same JSON line.
//
// "Past expiry" is the harness page's injected clock (shared by the tabs through localStorage), so no
// round waits for a real hour. All tabs start on one BroadcastChannel message, so they really ask at once.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startEmulator } from '../dist/emulator/index.js';
import { startSpaServer } from '../examples/spa/serve.mjs';
import { bundleSizes } from './bundle-size.mjs';
import { median } from './lib.mjs';

const CHROMIUM = '/usr/bin/chromium';
const FIXTURES = fileURLToPath(new URL('../test/browser/fixtures/', import.meta.url));
const CLIENT_ID = 'spotauth-browser-bench';
const TABS = [1, 5, 20];
const ROUNDS = 8;
const HOUR_MS = 3_600_000;

if (!existsSync(CHROMIUM)) {
  console.error(`browser-refresh needs Chromium at ${CHROMIUM} (apt-get install chromium).`);
  process.exit(1);
}

const emulator = await startEmulator({ port: 0, quiet: true, autoApprove: 'alice' });
emulator.state.addApp({ clientId: CLIENT_ID, redirectUris: ['http://127.0.0.1/harness/'] });
const site = await startSpaServer({
  mounts: { '/harness/': FIXTURES },
  config: {
    clientId: CLIENT_ID,
    accountsUrl: emulator.url,
    apiUrl: `${emulator.url}/v1`,
    allowInsecureHttp: true,
  },
});
const browser = await chromium.launch({
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
  ],
});

async function refreshes() {
  const stats = await (await fetch(`${emulator.url}/_emulator/stats`)).json();
  return stats.token_requests.refresh_token;
}

async function settled(page) {
  await page.waitForFunction(() => 'ready' in globalThis);
  return page.evaluate('ready');
}

/** One context with `n` harness tabs logged in; then ROUNDS rounds of "all tabs past expiry at once". */
async function run(n, storage) {
  const context = await browser.newContext();
  if (storage) await context.addInitScript(`localStorage.setItem('harness:storage', '${storage}')`);
  try {
    const tabs = [];
    for (let i = 0; i < n; i++) {
      const page = await context.newPage();
      await page.goto(`${site.url}/harness/`);
      await settled(page);
      tabs.push(page);
    }
    await tabs[0].goto(await tabs[0].evaluate('auth.loginUrl().then(String)'));
    const login = await settled(tabs[0]);
    if (!login.ok) throw new Error(`login failed: ${login.message}`);
    const conductor = await context.newPage();
    await conductor.goto(`${site.url}/harness/`);
    await settled(conductor);

    const rounds = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Each tab sets its own clock: another process's localStorage write reaches a tab a moment later.
      await Promise.all(
        tabs.map((tab) => tab.evaluate(`localStorage.setItem('harness:clock', '${round * 2 * HOUR_MS}')`)),
      );
      // Every tab waits for the go signal, then asks for a token; it reports when it asked and when it had one.
      const armed = tabs.map((tab) =>
        tab.evaluate(`new Promise((resolve) => {
          const channel = new BroadcastChannel('bench-go');
          channel.onmessage = async () => {
            channel.close();
            const asked = performance.timeOrigin + performance.now();
            // A failure is reported, not left pending (the round would wait for it forever).
            const token = await auth.getAccessToken().catch((error) => ({ failed: String(error?.code ?? error) }));
            resolve({ asked, got: performance.timeOrigin + performance.now(), token });
          };
        })`),
      );
      await Promise.all(tabs.map((tab) => tab.evaluate('1'))); // every listener is in place
      const before = await refreshes();
      const go = await conductor.evaluate(`(() => {
        const channel = new BroadcastChannel('bench-go');
        const at = performance.timeOrigin + performance.now();
        channel.postMessage('go');
        channel.close();
        return at;
      })()`);
      const results = await Promise.all(armed);
      const failed = results.find((r) => typeof r.token !== 'string');
      if (failed) throw new Error(`round ${round}, ${n} tabs: a tab got no token (${failed.token.failed})`);
      const count = (await refreshes()) - before;
      const tokens = new Set(results.map((r) => r.token));
      rounds.push({
        refreshes: count,
        distinctTokens: tokens.size,
        // Per tab: from its own request to its valid token. Last tab: from the go signal to the last token.
        perTabMs: results.map((r) => r.got - r.asked),
        lastTabMs: Math.max(...results.map((r) => r.got)) - go,
      });
    }
    return rounds;
  } finally {
    await context.close();
  }
}

const results = {};
let local;
try {
  for (const n of TABS) results[n] = await run(n);
  local = await run(20, 'local');
} finally {
  await browser.close();
  await site.close();
  await emulator.stop();
}

const sizes = await bundleSizes();
const one = median(results[1].map((r) => r.lastTabMs));
function summarize(n, rounds, storage) {
  const perTab = rounds.flatMap((r) => r.perTabMs);
  return {
    tabs: n,
    storage,
    rounds: rounds.length,
    refreshes_per_round: [...new Set(rounds.map((r) => r.refreshes))],
    all_tabs_same_token: rounds.every((r) => r.distinctTokens === 1),
    per_tab_p50_ms: Number(median(perTab).toFixed(2)),
    per_tab_max_ms: Number(Math.max(...perTab).toFixed(2)),
    last_tab_p50_ms: Number(median(rounds.map((r) => r.lastTabMs)).toFixed(2)),
    refreshes_total: rounds.reduce((sum, r) => sum + r.refreshes, 0),
  };
}
const rows = TABS.map((n) => summarize(n, results[n], 'indexeddb (default)'));
const localRow = summarize(20, local, 'localStorage');

console.log(
  `${'tabs'.padEnd(21)}${'refreshes/round'.padEnd(17)}${'per tab p50'.padStart(12)}${'per tab max'.padStart(13)}${'last tab p50'.padStart(14)}  ratio`,
);
for (const row of [...rows, localRow]) {
  console.log(
    `${`${row.tabs}${row === localRow ? ' (localStorage)' : ''}`.padEnd(21)}${row.refreshes_per_round.join(',').padEnd(17)}${`${row.per_tab_p50_ms} ms`.padStart(12)}${`${row.per_tab_max_ms} ms`.padStart(13)}${`${row.last_tab_p50_ms} ms`.padStart(14)}  ${(row.last_tab_p50_ms / one).toFixed(2)}x`,
  );
}
const kb = (bytes) => Number((bytes / 1024).toFixed(2));
console.log(
  `bundle (minified+gzip): spotauth/browser tokens only ${kb(sizes.tokens.gzip)} KB, app ${kb(sizes.app.gzip)} KB, with typed client ${kb(sizes.typed.gzip)} KB, whole file ${kb(sizes.everything.gzip)} KB; official SDK ${kb(sizes.sdk.gzip)} KB`,
);
const exactlyOne = [...rows, localRow].every(
  (row) => row.refreshes_per_round.length === 1 && row.refreshes_per_round[0] === 1,
);
console.log(
  JSON.stringify({
    bench: 'browser-refresh',
    baseline: '1 tab',
    exactly_one_refresh: exactlyOne,
    ratios: Object.fromEntries(
      rows.map((row) => [`${row.tabs} tabs`, Number((row.last_tab_p50_ms / one).toFixed(3))]),
    ),
    results: rows,
    localStorage_20_tabs: localRow,
    bundle_gzip_bytes: {
      'spotauth/browser tokens only (BrowserAuth)': sizes.tokens.gzip,
      'spotauth/browser app (BrowserAuth + webApiFetch)': sizes.app.gzip,
      'spotauth/browser app + typed client': sizes.typed.gzip,
      'spotauth/browser whole file': sizes.everything.gzip,
      '@spotify/web-api-ts-sdk': sizes.sdk.gzip,
    },
    bundle_minified_bytes: {
      'spotauth/browser tokens only (BrowserAuth)': sizes.tokens.minified,
      'spotauth/browser app (BrowserAuth + webApiFetch)': sizes.app.minified,
      'spotauth/browser app + typed client': sizes.typed.minified,
      'spotauth/browser whole file': sizes.everything.minified,
      '@spotify/web-api-ts-sdk': sizes.sdk.minified,
    },
    bundle_ratio_app_vs_sdk: Number((sizes.app.gzip / sizes.sdk.gzip).toFixed(3)),
    bundle_ratio_tokens_vs_sdk: Number((sizes.tokens.gzip / sizes.sdk.gzip).toFixed(3)),
  }),
);
if (!exactlyOne) process.exit(1);
