export const BROWSER_MODULE: string;

export interface SpaConfig {
  clientId: string;
  redirectUri: string;
  accountsUrl: string;
  apiUrl: string;
  allowInsecureHttp: boolean;
  storage?: string | undefined;
}

export interface RunningSpaServer {
  url: string;
  port: number;
  config: SpaConfig;
  close(): Promise<void>;
}

export function spaConfig(env?: Record<string, string | undefined>, port?: number): SpaConfig;

export function startSpaServer(options?: {
  port?: number;
  config?: Partial<SpaConfig>;
  mounts?: Record<string, string>;
  files?: Record<string, string>;
  env?: Record<string, string | undefined>;
}): Promise<RunningSpaServer>;
