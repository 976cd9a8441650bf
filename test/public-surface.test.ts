/**
 * Every exported name is a semver promise. This pins the names of every entry point in package.json
 * "exports", read from the BUILT package as a user gets it (global-setup runs tsup): the runtime names from
 * importing the module, the type-only names from its declaration file. A change shows up as a diff of
 * test/public-surface.snapshot.txt; when it is deliberate, accept it with
 * `npx vitest run test/public-surface.test.ts -u`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface ExportTarget {
  types: string;
  import: string;
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, ExportTarget>;
};
const entries = Object.entries(manifest.exports).map(([subpath, target]) => ({
  name: subpath === '.' ? 'spotauth' : `spotauth/${subpath.slice(2)}`,
  js: join(ROOT, target.import),
  dts: join(ROOT, target.types),
}));

/** One program over every declaration file, so the checker resolves re-exports across shared chunks. */
function declaredExports(files: string[]): Map<string, string[]> {
  const program = ts.createProgram(files, {
    noEmit: true,
    skipLibCheck: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
  });
  const checker = program.getTypeChecker();
  const result = new Map<string, string[]>();
  for (const file of files) {
    const source = program.getSourceFile(file);
    const moduleSymbol = source && checker.getSymbolAtLocation(source);
    if (!moduleSymbol) throw new Error(`${file} is not a module`);
    result.set(
      file,
      checker
        .getExportsOfModule(moduleSymbol)
        .map((symbol) => symbol.getName())
        .sort(),
    );
  }
  return result;
}

/** One name per line under its entry point, types marked: a change is a one-line diff. */
function render(surface: Record<string, { values: string[]; types: string[] }>): string {
  return Object.entries(surface)
    .map(([entry, { values, types }]) =>
      [`# ${entry}`, ...values, ...types.map((name) => `type ${name}`)].join('\n'),
    )
    .join('\n\n')
    .concat('\n');
}

describe('public surface', () => {
  it('every entry point in package.json "exports" is built', () => {
    const missing = entries.flatMap((entry) => [entry.js, entry.dts]).filter((file) => !existsSync(file));
    expect(missing).toEqual([]);
  });

  it('the names each entry point exports are the pinned ones', async () => {
    const declared = declaredExports(entries.map((entry) => entry.dts));
    const surface: Record<string, { values: string[]; types: string[] }> = {};
    for (const entry of entries) {
      const values = Object.keys(await import(pathToFileURL(entry.js).href)).sort();
      const declarations = declared.get(entry.dts) ?? [];
      // A runtime export the declarations do not describe would be untyped for every user.
      expect(
        values.filter((name) => !declarations.includes(name)),
        `${entry.name}: untyped runtime exports`,
      ).toEqual([]);
      surface[entry.name] = {
        values,
        types: declarations.filter((name) => !values.includes(name)),
      };
    }
    await expect(render(surface)).toMatchFileSnapshot('public-surface.snapshot.txt');
  });
});
