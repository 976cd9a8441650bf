#!/usr/bin/env node
// Runs every benchmark in bench/ (files named NAME.bench.mjs), or only the ones named on the command line:
//   npm run bench            all
//   npm run bench -- NAME    one (e.g. api-overhead, cli-token)
// Each benchmark prints a readable table and one JSON line starting with {"bench":"NAME"}.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.mjs'))
  .map((file) => file.slice(0, -'.bench.mjs'.length))
  .sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark: ${unknown.join(', ')}. Available: ${available.join(', ')}`);
  process.exit(2);
}
const build = spawnSync(process.execPath, [`${dir}../node_modules/.bin/tsup`, '--silent'], {
  stdio: 'inherit',
  cwd: `${dir}..`,
});
if (build.status !== 0) process.exit(build.status ?? 1);
let failed = 0;
for (const name of wanted.length ? wanted : available) {
  console.log(`\n== ${name}`);
  const run = spawnSync(process.execPath, [`${dir}${name}.bench.mjs`], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
