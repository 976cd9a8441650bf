/**
 * The full `spotauth` command line (commander). Each subcommand's implementation is imported lazily;
 * main.ts runs the common `spotauth token` case without loading this file at all.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT } from './exit-codes.js';
import { reportError } from './output.js';
import { VERSION } from './version.js';

export async function runProgram(argv: string[], debug: boolean): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.OK;
  } catch (error) {
    // Help and version exit 0; usage mistakes (already printed by commander) exit 2.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    return reportError(error, debug);
  }
}

function buildProgram(): Command {
  const program = new Command()
    .name('spotauth')
    .description(
      'Spotify authorization done properly: log in, get fresh tokens, run the server or a local Spotify emulator.',
    )
    .version(VERSION, '-V, --version')
    .option('--debug', 'print stack traces on errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 error, 2 usage, 3 not logged in or re-login needed, 4 Spotify or network unavailable.
Environment (flags win over it): SPOTIFY_CLIENT_ID, SPOTIFY_REDIRECT_URI, SPOTAUTH_ACCOUNTS_URL, SPOTAUTH_API_URL,
SPOTAUTH_PROFILE, SPOTAUTH_SCOPE, SPOTAUTH_LOGIN_PORT, SPOTAUTH_LOGIN_TIMEOUT_SECONDS, SPOTAUTH_NO_KEYRING,
SPOTAUTH_ENCRYPTION_KEYS, XDG_CONFIG_HOME (credentials in $XDG_CONFIG_HOME/spotauth), NO_COLOR.`,
    );

  const profileOption = () =>
    new Option('--profile <name>', 'which stored login to use').env('SPOTAUTH_PROFILE');

  program
    .command('login')
    .description('log in with Spotify in the browser (PKCE, loopback redirect on 127.0.0.1)')
    .option(
      '--scope <scopes>',
      'space-separated scopes to request (default "user-read-private user-read-email")',
    )
    .addOption(new Option('--client-id <id>', 'Spotify client id').env('SPOTIFY_CLIENT_ID'))
    .option('--port <n>', 'loopback port (default: any free port; register http://127.0.0.1/callback)')
    .option('--no-browser', 'do not open a browser; print the URL only')
    .option('--timeout <seconds>', 'give up after this long (default 300)')
    .option('--show-dialog', 'ask Spotify to show the consent page even if already approved')
    .addOption(profileOption())
    .action(async (options) => (await import('./commands/login.js')).runLogin(options));

  program
    .command('token')
    .description('print a valid access token (refreshing it if needed) and nothing else')
    .addOption(profileOption())
    .option('--json', 'print JSON with the expiry and scopes')
    .action(async (options) => (await import('./commands/token.js')).runToken(options));

  program
    .command('whoami')
    .description("show the logged-in user's Spotify profile")
    .addOption(profileOption())
    .option('--json', 'print JSON')
    .action(async (options) => (await import('./commands/account.js')).runWhoami(options));

  program
    .command('status')
    .description('list stored logins: user, scopes, token expiry, refresh-token deadline, state')
    .option('--json', 'print JSON')
    .action(async (options) => (await import('./commands/account.js')).runStatus(options));

  program
    .command('logout')
    .description('forget a stored login')
    .addOption(profileOption())
    .action(async (options) => (await import('./commands/account.js')).runLogout(options));

  program
    .command('serve')
    .description(
      'run the web server (sandbox mode with an embedded emulator when SPOTIFY_CLIENT_ID is unset)',
    )
    .option('--port <n>', 'port (default 8888, or PORT)')
    .option('--host <host>', 'address to bind (default 127.0.0.1, or HOST)')
    .option('--sandbox', 'force sandbox mode (embedded emulator) even if SPOTIFY_CLIENT_ID is set')
    .action(async (options) => (await import('../server/main.js')).runServe(options));

  program
    .command('emulator')
    .description('run a local Spotify accounts service and Web API slice for offline development and tests')
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
    .option('--rate-limit <n>', 'per app: at most n /v1 requests per rolling 30 s (429, default no limit)')
    .option(
      '--daily-quota <n>',
      'per app: at most n /v1 requests per rolling 24 h (429 QUOTA_EXCEEDED, default no limit)',
    )
    .option('--state <file>', "JSON file that keeps users' libraries, playlists and players across restarts")
    .option(
      '--app-mode <mode>',
      'development (the 2026 development-mode API, default) or extended (extended quota: everything) for the sandbox app and the apps given here',
    )
    .option('--legacy-endpoints', 'development mode: keep serving the endpoints removed in February 2026')
    .option(
      '--owner-without-premium',
      'development mode: the owner of the sandbox app and the apps given here has no Premium (403 on every /v1 call)',
    )
    .option(
      '--unauthorized-messages <variant>',
      '2026 (one message, "Missing/invalid/expired access token", default) or legacy (the older per-problem messages) in /v1 401 bodies',
    )
    .option('--catalogue <file>', 'JSON file with named catalogue entities (artists, albums, tracks, …)')
    .action(async (options) => {
      await (await import('./commands/emulator.js')).runEmulatorCommand(options);
    });

  const keys = program
    .command('keys')
    .description(
      'manage keys: the encryption keys of the token stores (generate, reencrypt) and the token broker API’s service keys (create, list, revoke)',
    )
    .addHelpText(
      'after',
      `
Two kinds of key, unrelated:
  encryption keys (generate, reencrypt)  encrypt tokens at rest: SPOTAUTH_ENCRYPTION_KEYS
  broker service keys (create, list, revoke)  let other backend services call /api/v1 with
                                         Authorization: Bearer sk_<id>_<secret>; they live in the server's store
create/list/revoke open the store \`spotauth serve\` uses (SPOTAUTH_STORE, SPOTAUTH_DATA_DIR,
SPOTAUTH_ENCRYPTION_KEYS; a .env file is read), or the one --store names.`,
    );
  keys
    .command('generate')
    .description('[encryption] print a new key entry to append to SPOTAUTH_ENCRYPTION_KEYS')
    .action(async (options) => (await import('./commands/keys.js')).runKeysGenerate(options));
  keys
    .command('reencrypt')
    .description('[encryption] re-encrypt every stored token under the active key (after adding a new one)')
    .requiredOption('--store <url>', 'the store: a SQLite path, postgres://…, redis://…, or file:PATH')
    .action(async (options) => (await import('./commands/keys.js')).runKeysReencrypt(options));

  const storeOption = () =>
    new Option('--store <url>', "the server's store (default: SPOTAUTH_STORE, else .data/spotauth.sqlite)");
  keys
    .command('create')
    .description('[broker] create a service key for the token broker API; prints it once')
    .requiredOption('--name <name>', 'which service uses the key (shown in `keys list`)')
    .option('--users <ids>', 'Spotify account ids the key may see: "all" or ID,ID,…', 'all')
    .option(
      '--scopes <scopes>',
      'scopes the service needs: tokens only for grants holding all of them; the proxy only for endpoints needing one of them (default: no restriction)',
    )
    .option('--proxy', 'allow the Web API proxy (/api/v1/users/{id}/spotify/…)')
    .option('--expires <days>', 'refuse the key after this many days (default: never)')
    .option('--json', 'print JSON (the key and its settings) instead of the bare key')
    .addOption(storeOption())
    .action(async (options) => (await import('./commands/broker-keys.js')).runKeysCreate(options));
  keys
    .command('list')
    .description('[broker] list service keys (never their secrets): permissions, created, last used, status')
    .option('--json', 'print JSON')
    .addOption(storeOption())
    .action(async (options) => (await import('./commands/broker-keys.js')).runKeysList(options));
  keys
    .command('revoke')
    .description('[broker] revoke a service key by id; every server instance refuses it within 1 s')
    .argument('<id>', 'the key id (the part after "sk_", see `keys list`)')
    .addOption(storeOption())
    .action(async (id, options) => (await import('./commands/broker-keys.js')).runKeysRevoke(id, options));

  const webhooks = program
    .command('webhooks')
    .description('the webhook outbox: delivery log, manual retries, a signing secret');
  webhooks
    .command('list')
    .description('recent webhook events and each delivery: status, attempts, last error')
    .addOption(storeOption())
    .option('--pending', 'only events still being delivered')
    .option('--limit <n>', 'how many events, newest first', '50')
    .option('--json', 'machine-readable output')
    .action(async (options) => (await import('./commands/webhooks.js')).runWebhooksList(options));
  webhooks
    .command('retry <id>')
    .description('deliver an event again now (its failed and pending destinations)')
    .addOption(storeOption())
    .action(async (id, options) => (await import('./commands/webhooks.js')).runWebhooksRetry(id, options));
  webhooks
    .command('secret')
    .description('print a new SPOTAUTH_WEBHOOK_SECRET (whsec_…)')
    .action(async () => (await import('./commands/webhooks.js')).runWebhooksSecret());

  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
