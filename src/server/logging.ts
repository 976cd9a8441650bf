import type { FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';

/**
 * pino settings that keep secrets out of logs (SECURITY §5): request URLs are logged without their query
 * (the callback's carries the code and state), and headers that carry credentials are never serialised.
 */
export function loggerOptions(level: string): LoggerOptions {
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
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: (request.url ?? '').split('?')[0],
        remoteAddress: request.ip,
      }),
      res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
    },
  };
}
