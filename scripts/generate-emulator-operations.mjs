#!/usr/bin/env node
// Regenerates the emulator's operation table (method, path, parameters, scopes, success status) from the
// committed OpenAPI spec, so the emulator's routes and query validation follow the spec without reading
// YAML at run time. Usage: npm run generate:emulator   (test/emulator/spec-walk.test.ts checks it is current)
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { operationsSource } from './emulator-operations.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { source, count } = operationsSource(root);
writeFileSync(`${root}src/emulator/web-api/operations.ts`, source);
console.log(`wrote src/emulator/web-api/operations.ts (${count} operations)`);
