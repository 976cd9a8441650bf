import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import yaml from 'js-yaml';

/**
 * Validators for the responses the spec declares, per method, path and status. OpenAPI 3.0 is not quite
 * JSON Schema: `nullable: true` becomes a `null` type, and `#/components/...` refs are re-rooted on a
 * registered document. Two known gaps are patched, both Spotify sending what its spec does not allow:
 * cursor pages with `next: null`/`cursors: null`, and (development mode only) fields the spec still
 * requires but marks deprecated, which development-mode apps no longer get (WEB-API-2026.md §3).
 */

// biome-ignore lint/suspicious/noExplicitAny: walking untyped YAML
export type Json = any;

export const SPEC = yaml.load(
  readFileSync(new URL('../../spec/spotify-web-api.openapi.yml', import.meta.url), 'utf8'),
) as Json;
const DOC_ID = 'spotify';

function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'nullable' || key === 'example' || key === 'discriminator') continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith('#/')) out[key] = `${DOC_ID}${value}`;
    else out[key] = toJsonSchema(value);
  }
  if (node.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else return { anyOf: [{ type: 'null' }, out] };
  }
  return out;
}

/** Names of the deprecated properties of a schema, through allOf and $ref. */
function deprecatedNames(node: Json, schemas: Json, seen = new Set<Json>()): Set<string> {
  const names = new Set<string>();
  if (node === null || typeof node !== 'object' || seen.has(node)) return names;
  seen.add(node);
  if (typeof node.$ref === 'string') {
    return deprecatedNames(schemas[node.$ref.split('/').pop()], schemas, seen);
  }
  for (const [name, prop] of Object.entries(node.properties ?? {}) as [string, Json][]) {
    if (prop?.deprecated === true) names.add(name);
  }
  for (const part of node.allOf ?? [])
    for (const name of deprecatedNames(part, schemas, seen)) names.add(name);
  return names;
}

/** Drops deprecated properties from every `required` list (development mode leaves them out). */
function relaxDeprecated(node: Json, schemas: Json): void {
  if (Array.isArray(node)) {
    for (const n of node) relaxDeprecated(n, schemas);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node.required)) {
    const deprecated = deprecatedNames(node, schemas);
    node.required = node.required.filter((name: string) => !deprecated.has(name));
  }
  for (const value of Object.values(node)) relaxDeprecated(value, schemas);
}

/**
 * `dev`: deprecated properties are no longer required. `patchCursorPaging`: Spotify sends `next: null` and
 * `cursors: null` on cursor pages, which the spec marks as not nullable (false: the spec as written).
 */
function buildAjv(dev: boolean, patchCursorPaging = true): Ajv {
  const source = structuredClone({ schemas: SPEC.components.schemas, responses: SPEC.components.responses });
  if (dev) relaxDeprecated(source, source.schemas);
  const components = toJsonSchema(source);
  if (patchCursorPaging) {
    const cursor = components.schemas.CursorPagingObject.properties;
    cursor.next.type = ['string', 'null'];
    cursor.cursors = { anyOf: [{ type: 'null' }, cursor.cursors] };
  }
  const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, validateFormats: false });
  ajv.addSchema({ $id: DOC_ID, components });
  return ajv;
}

const AJV = { development: buildAjv(true), extended: buildAjv(false) };
export type Mode = keyof typeof AJV;

function pointer(path: string): string {
  return path.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** undefined: the spec declares the status without a JSON body. */
export function responseValidator(
  method: string,
  specPath: string,
  status: number,
  mode: Mode,
): ValidateFunction | undefined {
  const ajv = AJV[mode];
  const operation = SPEC.paths[specPath]?.[method.toLowerCase()];
  if (!operation) throw new Error(`no ${method} ${specPath} in the spec`);
  const response = operation.responses[String(status)];
  if (!response) throw new Error(`${method} ${specPath} declares no ${status} response`);
  let ref: string;
  if (response.$ref) {
    const declared = SPEC.components.responses[response.$ref.split('/').pop()];
    if (!declared.content?.['application/json']) return undefined;
    ref = `${DOC_ID}${response.$ref}/content/application~1json/schema`;
  } else {
    const schema = response.content?.['application/json']?.schema;
    if (!schema) return undefined;
    ref = `${DOC_ID}#/inline/${method}/${pointer(specPath)}/${status}`;
    if (!ajv.getSchema(ref)) ajv.addSchema(toJsonSchema(schema), ref);
  }
  const validate = ajv.getSchema(ref);
  if (!validate) throw new Error(`cannot resolve ${ref}`);
  return validate;
}

/** A component schema exactly as the spec writes it (extended mode, cursor pages not patched). */
export function unpatchedSchemaValidator(name: string): ValidateFunction {
  const validate = buildAjv(false, false).getSchema(`${DOC_ID}#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name}`);
  return validate;
}

export function schemaValidator(name: string, mode: Mode = 'extended'): ValidateFunction {
  const validate = AJV[mode].getSchema(`${DOC_ID}#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name}`);
  return validate;
}

export interface WalkOperation {
  operationId: string;
  method: string;
  path: string;
  deprecated: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: spec objects
  op: any;
}

export function specOperations(): WalkOperation[] {
  const out: WalkOperation[] = [];
  for (const [path, item] of Object.entries(SPEC.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item as Record<string, Json>)) {
      if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue;
      out.push({
        operationId: op.operationId,
        method: method.toUpperCase(),
        path,
        deprecated: !!op.deprecated,
        op,
      });
    }
  }
  return out;
}

export function resolveParameter(p: Json): Json {
  return p.$ref ? SPEC.components.parameters[p.$ref.split('/').pop()] : p;
}
