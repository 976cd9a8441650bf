import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_CONFIG_HOME/spotauth`, else `~/.config/spotauth`; `SPOTAUTH_CONFIG_DIR` overrides both. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env['SPOTAUTH_CONFIG_DIR']) return env['SPOTAUTH_CONFIG_DIR'];
  const base = env['XDG_CONFIG_HOME'] || join(homedir(), '.config');
  return join(base, 'spotauth');
}

export const credentialsFile = (dir: string): string => join(dir, 'credentials.json');
export const keyFile = (dir: string): string => join(dir, 'key');
