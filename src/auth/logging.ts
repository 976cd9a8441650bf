import type { LoggerOptions } from 'pino';

/**
 * pino settings that keep secrets out of logs (SECURITY §5): fields that could carry a token, a code, a
 * verifier or a client secret are censored wherever they appear, and so are credential headers.
 */
export function redactingLoggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.access_token',
        '*.refresh_token',
        '*.accessToken',
        '*.refreshToken',
        '*.code',
        '*.code_verifier',
        '*.client_secret',
      ],
      censor: '[redacted]',
    },
  };
}
