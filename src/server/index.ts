export { type AppDependencies, buildApp } from './app.js';
export { loadServerConfig, type ServerConfig } from './config.js';
export { loggerOptions } from './logging.js';
export { type RunningServer, type ServeOptions, startServer } from './main.js';
export { ServerMetrics } from './metrics.js';
