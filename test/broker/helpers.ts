/**
 * Helpers for the broker tests: every call goes through `call()`, which validates the real response against
 * the OpenAPI document (ajv's 2020-12 build) before the test looks at it, and records what was covered.
 */
import { request as httpRequest } from 'node:http';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';
import { BrokerKeys, type NewKeyInput } from '../../src/broker/keys.js';
import { buildOpenApiDocument } from '../../src/broker/openapi.js';
import type { TokenStore } from '../../src/stores/types.js';
import { must } from '../support/must.js';

// biome-ignore lint/suspicious/noExplicitAny: walking the document
type Json = any;

export const DOC: Json = buildOpenApiDocument();
const DOC_ID = 'broker';

const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
ajv.addFormat(
  'date-time',
  (value: string) => /^\d{4}-\d\d-\d\dT/.test(value) && !Number.isNaN(Date.parse(value)),
);
ajv.addFormat('uri', (value: string) => URL.canParse(value));
ajv.addSchema(DOC, DOC_ID);

/** (METHOD template status) triples seen, for the coverage checks. */
export const covered = new Set<string>();

const TEMPLATES = Object.keys(DOC.paths).map((template) => ({
  template,
  pattern: new RegExp(
    `^${template
      .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      .replace('{path}', '.+')
      .replace(/\{[a-z_]+\}/g, '[^/]+')}$`,
  ),
}));

/** The document's path template a request path belongs to. */
export function templateOf(path: string): string | undefined {
  const bare = must(path.split('?', 1)[0], "path.split('?', 1)[0]");
  return TEMPLATES.find(({ pattern }) => pattern.test(bare))?.template;
}

const escapePointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

function resolve(pointer: string): Json {
  return pointer
    .slice(2)
    .split('/')
    .reduce((node, part) => node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], DOC);
}

/** Asserts that the response is one the document declares, with a body of the declared schema. */
export function expectMatchesSpec(
  method: string,
  path: string,
  status: number,
  headers: Headers,
  text: string,
): void {
  const template = templateOf(path);
  expect(template, `no path of the document matches ${path}`).toBeDefined();
  const verb = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
  const operation = DOC.paths[must(template, 'template')][verb];
  expect(operation, `${method} ${template} is not in the document`).toBeDefined();
  // The proxy's `default` is Spotify's answer passed through; everything else must be declared by status.
  const fromSpotify = headers.get('x-spotauth-source') === 'spotify';
  const key = fromSpotify ? 'default' : String(status);
  expect(operation.responses[key], `${method} ${template} declares no ${status} response`).toBeDefined();
  covered.add(`${method.toUpperCase()} ${template} ${status}`);
  let pointer = `#/paths/${escapePointer(must(template, 'template'))}/${verb}/responses/${key}`;
  let declared = operation.responses[key];
  if (declared.$ref) {
    pointer = declared.$ref;
    declared = resolve(pointer);
  }
  if (!declared.content) {
    expect(text, `${method} ${template} ${status} should have no body`).toBe('');
    return;
  }
  if (!declared.content['application/json']) return; // passed through from Spotify: any body
  if (method.toUpperCase() === 'HEAD') return;
  expect(headers.get('content-type'), `${method} ${path} ${status}`).toMatch(/^application\/json/);
  const validate = ajv.getSchema(`${DOC_ID}${pointer}/content/application~1json/schema`);
  expect(validate, `cannot compile the schema at ${pointer}`).toBeDefined();
  const body = JSON.parse(text);
  const ok = must(validate, 'validate')(body);
  expect(
    ok,
    `${method} ${path} ${status}: ${JSON.stringify(must(validate, 'validate').errors?.slice(0, 5))} in ${text.slice(0, 300)}`,
  ).toBe(true);
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the body holds
  json: any;
}

/** A broker request with fetch, validated against the document. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { key?: string | undefined; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers['authorization'] = `Bearer ${options.key}`;
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  const text = method === 'HEAD' ? '' : await response.text();
  expectMatchesSpec(method, path, response.status, response.headers, text);
  return { status: response.status, headers: response.headers, text, json: parse(text) };
}

/**
 * A request with node:http, so the path reaches the server exactly as written (fetch would normalise
 * `..` and `%2e` away). Validated against the document when a path of it matches.
 */
export function rawCall(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
  validate = true,
): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolveAnswer, reject) => {
    const request = httpRequest(
      { host: hostname, port, method, path, headers: { host: `${hostname}:${port}`, ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const answerHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers))
            if (typeof value === 'string') answerHeaders.set(name, value);
          const status = response.statusCode ?? 0;
          if (validate && templateOf(path) && method !== 'HEAD')
            expectMatchesSpec(method, path, status, answerHeaders, text);
          resolveAnswer({ status, headers: answerHeaders, text, json: parse(text) });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export async function createKey(
  store: TokenStore,
  input: Partial<NewKeyInput> = {},
): Promise<{ key: string; id: string; secret: string }> {
  const { key, record } = await new BrokerKeys(store.entries).create({ name: 'test service', ...input });
  return { key, id: record.id, secret: key.slice(`sk_${record.id}_`.length) };
}

/** A webhook body checked against the document's schema for its event type. */
export function expectWebhookMatchesSpec(body: string): void {
  const event = JSON.parse(body) as { type: string };
  const operation = DOC.webhooks?.[event.type]?.post;
  expect(operation, `the document declares webhook ${event.type}`).toBeDefined();
  const ref = operation.requestBody.content['application/json'].schema.$ref as string;
  const validate = ajv.getSchema(`${DOC_ID}${ref}`);
  expect(validate, ref).toBeDefined();
  const ok = must(validate, 'validate')(event);
  expect(ok, JSON.stringify(must(validate, 'validate').errors)).toBe(true);
}
