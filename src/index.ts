export * from './core/index.js';
export * from './stores/index.js';
export * from './tokens/index.js';
export * from './api/index.js';
