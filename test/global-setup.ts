import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Tests that spawn real processes (CLI, workers) run the built package: build it once per run. */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(`${root}node_modules/.bin/tsup`, ['--silent'], { cwd: root, stdio: 'inherit' });
}
