/**
 * What an app's bundler keeps of spotauth/browser (esbuild over the published dist-browser file, as a
 * bundler of the package sees it). The Web API fetch is a function of its own so that an app that only
 * needs tokens does not ship it: that holds only while nothing BrowserAuth keeps refers to it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BROWSER = `${ROOT}dist-browser/index.js`;

async function bundle(imports: string[]): Promise<string> {
  const result = await build({
    stdin: {
      contents: `import { ${imports.join(', ')} } from ${JSON.stringify(BROWSER)}; window.x = [${imports.join(', ')}];`,
      resolveDir: ROOT,
      loader: 'js',
    },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles[0]?.text ?? '';
}

describe('the spotauth/browser bundle an app gets', () => {
  it('is built (npm run build)', () => {
    expect(existsSync(BROWSER), `${BROWSER} is missing: run npm run build`).toBe(true);
  });

  it('BrowserAuth alone carries no Web API fetch; webApiFetch brings it', async () => {
    const tokens = await bundle(['BrowserAuth']);
    const app = await bundle(['BrowserAuth', 'webApiFetch']);
    // Texts only the Web API fetch has: its URL guard, its 401 and 429 handling.
    for (const text of ['webApiFetch calls only', 'API_UNAUTHORIZED', 'QUOTA_EXCEEDED']) {
      expect(tokens).not.toContain(text);
      expect(app).toContain(text);
    }
    // The login and the refresh are in both.
    for (const bundled of [tokens, app]) {
      expect(bundled).toContain('code_challenge_method');
      expect(bundled).toContain('refresh_token');
    }
    expect(app.length).toBeGreaterThan(tokens.length);
  });
});
