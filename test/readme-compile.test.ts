/**
 * Docs that run: every ```ts / ```typescript / ```tsx block of README.md is a module that must type-check
 * against the BUILT package, imported as a user imports it (`spotauth`, `spotauth/fetch`, … resolve through
 * package.json "exports" by self-reference, so the blocks are written inside the package folder). One tsc
 * run checks them all. `@/…` resolves into examples/nextjs, as in that example, so a README excerpt of it
 * imports the example's real files. The README must also only link to files inside the repository.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

interface Block {
  /** README line of the block's first code line (1-based). */
  line: number;
  file: string;
  code: string;
}

function typeScriptBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  for (const match of markdown.matchAll(/^```(ts|typescript|tsx)\n([\s\S]*?)^```$/gm)) {
    const line = markdown.slice(0, match.index).split('\n').length + 1;
    const extension = match[1] === 'tsx' ? 'tsx' : 'ts';
    blocks.push({ line, file: `readme-line-${line}.${extension}`, code: match[2] ?? '' });
  }
  return blocks;
}

// Inside dist/: in the package's scope (for self-reference), ignored by git and biome, rebuilt each run.
mkdirSync(join(ROOT, 'dist'), { recursive: true });
const workDir = mkdtempSync(join(ROOT, 'dist', '.readme-blocks-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('README.md', () => {
  it('every TypeScript block compiles against the built package', async () => {
    const blocks = typeScriptBlocks(README);
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    for (const block of blocks) writeFileSync(join(workDir, block.file), block.code);
    writeFileSync(
      join(workDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2023', 'DOM'],
          // Bundler resolution, as Next.js apps use (extensionless `next/headers`, `@/…`); `spotauth/…`
          // resolves through the same "exports" conditions (types, import) as under NodeNext.
          module: 'ESNext',
          moduleResolution: 'Bundler',
          strict: true,
          noUncheckedIndexedAccess: true,
          verbatimModuleSyntax: true,
          jsx: 'react-jsx',
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          paths: { '@/*': [`${relative(workDir, join(ROOT, 'examples/nextjs'))}/*`] },
        },
        files: blocks.map((block) => block.file),
      }),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const output = await promisify(execFile)(process.execPath, [tsc, '-p', workDir, '--pretty', 'false'], {
      cwd: workDir,
    }).then(
      () => '',
      (error: { stdout?: string }) => error.stdout ?? String(error),
    );
    // Point each diagnostic at its README line: "readme-line-474.ts(3,7): error …" → "README.md:476:7: error …".
    const diagnostics = output
      .split('\n')
      .filter((text) => text.trim() !== '')
      .map((text) =>
        text.replace(
          /readme-line-(\d+)\.tsx?\((\d+),(\d+)\)/,
          (_, start: string, row: string, column: string) =>
            `README.md:${Number(start) + Number(row) - 1}:${column}`,
        ),
      );
    expect(diagnostics).toEqual([]);
  }, 120_000);

  it('links only to files that exist inside the repository', () => {
    const targets = [...README.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((match) => match[1] ?? '')
      .filter((target) => !/^(https?:|mailto:|#)/.test(target))
      .map((target) => target.split('#')[0] ?? '');
    expect(targets.length).toBeGreaterThan(0);
    const outside = targets.filter((target) => {
      const path = resolve(ROOT, target);
      return relative(ROOT, path).startsWith('..') || !existsSync(path);
    });
    expect(outside).toEqual([]);
    // Nor names, in prose, a checkout's neighbours (`../shared/…`) or this machine's folders.
    expect(README).not.toMatch(/(^|[\s`(])\.\.\/|\/work\//m);
  });
});
