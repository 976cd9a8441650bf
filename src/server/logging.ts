import type { FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';
import { redactingLoggerOptions } from '../auth/logging.js';

/**
 * The server's pino settings: the shared redactions, and request lines without their query (the
 * callback's carries the code and state; Fastify's default serializer would log it).
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    ...redactingLoggerOptions(level),
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
