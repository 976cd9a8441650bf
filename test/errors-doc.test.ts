/**
 * docs/errors.md is generated from the error tables and must be up to date; and every JSON `error` code the
 * server, the adapters and the broker can answer with comes from one of those tables (none is made up at
 * the place it is sent, e.g. from a page title or a framework's own error code).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { HTTP_ERRORS } from '../src/auth/http-errors.js';
import { viewOfError } from '../src/auth/responses.js';
import { BROKER_ERRORS } from '../src/broker/errors.js';
import { ERROR_TABLE } from '../src/core/error-table.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every JSON `error` code a table defines, with the HTTP statuses it is sent with. */
const KNOWN = new Map<string, Set<number>>();
const know = (error: string, status: number) => KNOWN.set(error, (KNOWN.get(error) ?? new Set()).add(status));
for (const row of Object.values(ERROR_TABLE)) know(row.error, row.status);
for (const [error, row] of Object.entries(BROKER_ERRORS)) know(error, row.status);
for (const [error, row] of Object.entries(HTTP_ERRORS)) know(error, row.status);

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The string literals an expression can evaluate to: `'a'`, or `cond ? 'a' : 'b'`. */
function literals(node: ts.Expression): string[] {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
  if (ts.isConditionalExpression(node)) return [...literals(node.whenTrue), ...literals(node.whenFalse)];
  if (ts.isParenthesizedExpression(node) || ts.isSatisfiesExpression(node) || ts.isAsExpression(node))
    return literals(node.expression);
  return [];
}

interface Use {
  where: string;
  error: string;
  status?: number;
}

/** Object literals with an `error: '<code>'` property, and their `status` when it is a number literal. */
function jsonErrorCodes(file: string): Use[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const uses: Use[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isObjectLiteralExpression(node)) {
      const property = (name: string) =>
        node.properties.find(
          (p): p is ts.PropertyAssignment =>
            ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === name,
        );
      const error = property('error');
      const status = property('status');
      for (const code of error ? literals(error.initializer) : []) {
        const line = source.getLineAndCharacterOfPosition(error?.getStart() ?? 0).line + 1;
        uses.push({
          where: `${relative(ROOT, file)}:${line}`,
          error: code,
          ...(status && ts.isNumericLiteral(status.initializer)
            ? { status: Number(status.initializer.text) }
            : {}),
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

describe('error codes', () => {
  it('docs/errors.md is generated from the tables and up to date', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(ROOT, 'scripts/generate-errors-doc.mjs'),
      '--stdout',
    ]);
    const committed = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    expect(committed, 'docs/errors.md is out of date: run `npm run generate:errors`').toBe(stdout);
    for (const code of Object.keys(ERROR_TABLE)) expect(stdout).toContain(`| \`${code}\` |`);
    for (const error of KNOWN.keys())
      expect(stdout.match(new RegExp(`^\\| \`${error}\` \\|`, 'gm'))).toHaveLength(1);
  });

  it('every JSON error code the server, adapters and broker send is in a table, with its status', () => {
    // src/broker/webhooks is left out: its `error` is a delivery outcome in the outbox log, not an answer.
    const uses = ['src/auth', 'src/server', 'src/adapters', 'src/broker']
      .flatMap(sourceFiles)
      .filter((file) => !file.includes('/src/broker/webhooks/'))
      .flatMap(jsonErrorCodes);
    // The scan must see the codes written out at their call sites, or it proves nothing.
    expect(uses.length).toBeGreaterThan(20);
    expect(uses.filter((use) => !KNOWN.has(use.error)).map((use) => `${use.where}: ${use.error}`)).toEqual(
      [],
    );
    expect(
      uses
        .filter((use) => use.status !== undefined && !KNOWN.get(use.error)?.has(use.status))
        .map((use) => `${use.where}: ${use.error} sent with ${use.status}`),
    ).toEqual([]);
  });

  it("a framework's refusal is answered in our codes, never with the framework's own error code", () => {
    const refusal = Object.assign(new Error('Body cannot be empty'), {
      statusCode: 400,
      code: 'FST_ERR_CTP_EMPTY_JSON_BODY',
    });
    const view = viewOfError(refusal, '/login');
    expect(view).toMatchObject({ status: 400, error: 'bad_request' });
    expect(view.code).toBeUndefined();
  });
});
