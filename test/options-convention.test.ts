import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * One way to write an optional option: `name?: T`. The project does not turn on exactOptionalPropertyTypes,
 * so `?: T | undefined` would say the same thing in another way; option and config types (the exported
 * `…Options` and `…Config` interfaces) use the short form only. Durations carry their unit in the name.
 */

const ROOT = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

interface Property {
  where: string;
  owner: string;
  line: string;
}

/** The properties of every exported `…Options` / `…Config` interface in src. */
function optionProperties(): Property[] {
  const found: Property[] = [];
  for (const file of sources(join(ROOT, 'src'))) {
    let owner: string | undefined;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        const opened = /^export interface (\w+(?:Options|Config))\b/.exec(line);
        if (opened) owner = opened[1];
        else if (line.startsWith('}')) owner = undefined;
        else if (owner !== undefined && /^ {2}(readonly )?\w+\??: /.test(line))
          found.push({ where: `${relative(ROOT, file)}:${index + 1}`, owner, line: line.trim() });
      });
  }
  return found;
}

/**
 * The emulator's token lifetimes are seconds without the unit in their name; its files belong to the
 * emulator's own rewrite, which renames them (accessTokenTtlSeconds, authorizationCodeTtlSeconds).
 */
// The emulator's old unit-less names, kept as deprecated aliases of their …Seconds successors.
const PENDING_IN_EMULATOR = ['accessTokenTtl', 'authorizationCodeTtl'];

describe('option types', () => {
  const properties = optionProperties();

  it('are found (the scan itself works)', () => {
    expect(properties.map((p) => p.owner)).toEqual(
      expect.arrayContaining([
        'SpotifyAuthConfig',
        'SpotifyApiOptions',
        'BrowserAuthOptions',
        'ServeOptions',
      ]),
    );
  });

  it('write an optional field as `name?: T`, never `name?: T | undefined`', () => {
    const mixed = properties.filter(
      ({ line }) => /^(readonly )?\w+\?: /.test(line) && /\| undefined;$/.test(line) && !/=>/.test(line),
    );
    expect(mixed.map(({ where, line }) => `${where} ${line}`)).toEqual([]);
  });

  it('name a duration with its unit (…Ms, …Seconds)', () => {
    const unitless = properties.filter(
      ({ where, line }) =>
        !PENDING_IN_EMULATOR.some((name) => where.startsWith('src/emulator/') && line.startsWith(name)) &&
        /^(readonly )?\w*(timeout|Timeout|ttl|Ttl|interval|Interval|delay|Delay|lease|Lease|skew|Skew)\??: number/.test(
          line,
        ),
    );
    expect(unitless.map(({ where, line }) => `${where} ${line}`)).toEqual([]);
  });
});
