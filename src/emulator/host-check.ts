import { isIP } from 'node:net';

/**
 * DNS-rebinding defence. A page on evil.test whose name is re-pointed at 127.0.0.1 talks to the emulator
 * as a same-origin page of evil.test, so an Origin check alone proves nothing: its requests carry
 * `Host: evil.test:PORT`. Only requests addressed to a loopback name (or to the IP literal the emulator
 * was bound to, which no DNS answer can impersonate) are accepted.
 */

const LOOPBACK_NAMES = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** True for addresses only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackAddress(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

export interface HostPolicy {
  /** The address the emulator listens on, as given (--host). */
  boundHost: string;
}

/** Splits `name:port` / `[v6]:port`; the port defaults to 80 as in HTTP. */
function splitHost(header: string): { name: string; port: number } | null {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(header);
  if (!match?.[1]) return null;
  return { name: match[1].toLowerCase(), port: match[2] === undefined ? 80 : Number(match[2]) };
}

/**
 * Whether `Host` names this emulator by a name DNS cannot hand to another site: a loopback name, or the
 * exact IP literal it is bound to; the port must be the one the request arrived on.
 */
export function isTrustedHost(header: string | undefined, localPort: number | undefined, policy: HostPolicy) {
  if (header === undefined) return false;
  const parsed = splitHost(header.trim());
  if (!parsed || parsed.port !== localPort) return false;
  if (LOOPBACK_NAMES.has(parsed.name)) return true;
  const bound = policy.boundHost.includes(':') ? `[${policy.boundHost.toLowerCase()}]` : policy.boundHost;
  const bare = parsed.name.replace(/^\[|\]$/g, '');
  return isIP(bare) !== 0 && parsed.name === bound && !isWildcard(policy.boundHost);
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}
