#!/usr/bin/env node
/**
 * Entry point of `spotauth`. `spotauth token` is what scripts call over and over, so its plain forms
 * (`token`, `--json`, `--profile NAME`, `--debug`) run directly, without loading commander or any other
 * command (bench/cli-token). Everything else, including `token --help` and mistakes, goes to program.ts.
 */
import { reportError } from './output.js';

const args = process.argv.slice(2);
const debug = args.includes('--debug');

process.exitCode = await main();

async function main(): Promise<number> {
  const token = plainTokenOptions(args);
  if (!token) return (await import('./program.js')).runProgram(args, debug);
  try {
    await (await import('./commands/token.js')).runToken(token);
    return 0;
  } catch (error) {
    return reportError(error, debug);
  }
}

/** The options of a `token` invocation commander would parse the same way, or null to let commander do it. */
function plainTokenOptions(argv: string[]): { profile?: string; json?: boolean } | null {
  if (argv[0] !== 'token') return null;
  const options: { profile?: string; json?: boolean } = {};
  const rest = argv.slice(1);
  for (let arg = rest.shift(); arg !== undefined; arg = rest.shift()) {
    const next = rest[0];
    if (arg === '--json') options.json = true;
    else if (arg === '--debug') continue;
    else if (arg === '--profile' && next !== undefined && !next.startsWith('-'))
      options.profile = rest.shift();
    else if (arg.startsWith('--profile=')) options.profile = arg.slice('--profile='.length);
    else return null;
  }
  return options;
}
