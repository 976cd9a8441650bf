/** `scheme://user@host:port/path` with the password removed, for messages and describe(). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/** `host:port` for "cannot reach …" messages. */
export function hostPort(url: string, defaultPort: number): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || 'localhost'}:${parsed.port || defaultPort}`;
  } catch {
    return '<unparseable URL>';
  }
}

/** Removes every occurrence of the URL's password from a driver message, in case a driver echoes it. */
export function scrubPassword(message: string, url: string): string {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? message.split(password).join('***') : message;
  } catch {
    return message;
  }
}
