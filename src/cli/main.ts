#!/usr/bin/env node
/**
 * The `spotauth` command. Each subcommand's implementation is imported lazily so that `spotauth token`
 * loads only what it needs (see bench/cli-token).
 */
import { Command } from 'commander';

const program = new Command()
  .name('spotauth')
  .description('Spotify authorization done properly.')
  .version(process.env['npm_package_version'] ?? '0.1.0')
  .showHelpAfterError()
  .option('--debug', 'print stack traces on errors');

program
  .command('emulator')
  .description('run a local Spotify accounts service (and Web API slice) for offline development and tests')
  .option('--port <n>', 'port to listen on', '8889')
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .option('--access-token-ttl <seconds>', 'access-token lifetime in seconds', '3600')
  .option(
    '--refresh-mode <mode>',
    'keep (no refresh_token in refresh responses) or rotate (single use)',
    'keep',
  )
  .option('--auto-approve <userId>', 'skip the consent page and approve as this seeded user')
  .option('--client-id <id>', 'client id of the app to register')
  .option('--client-secret <secret>', 'client secret of the app to register')
  .option('--redirect-uri <uri>', 'redirect URI of the app to register (repeatable)', collect, [])
  .option('--config <file>', 'JSON file with apps and users to register')
  .action(async (options) => {
    const { runEmulatorCommand } = await import('./commands/emulator.js');
    await runEmulatorCommand(options);
  });

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

program.parseAsync(process.argv).catch((error: unknown) => {
  const debug = process.argv.includes('--debug');
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`spotauth: ${message}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
