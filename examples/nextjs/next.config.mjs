import { fileURLToPath } from 'node:url';

// This example lives inside the spotauth repository and uses its node_modules; a standalone app needs neither root.
const root = fileURLToPath(new URL('../..', import.meta.url));

/** @type {import('next').NextConfig} */
export default {
  turbopack: { root },
  outputFileTracingRoot: root,
};
