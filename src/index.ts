export * from './api/index.js';
export * from './core/index.js';
export * from './stores/index.js';
export * from './tokens/index.js';
