// How the CLI reaches the bridge: HOOKWIRE_URL (default http://127.0.0.1:8080) and
// HOOKWIRE_TOKEN, else the admin token file in HOOKWIRE_DATA_DIR (default ./data).

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ADMIN_TOKEN_FILE } from '../admin-token.ts';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface ApiClient {
  baseUrl: string;
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
}

export function findToken(env: NodeJS.ProcessEnv): string | undefined {
  if (env.HOOKWIRE_TOKEN) return env.HOOKWIRE_TOKEN;
  try {
    return readFileSync(join(resolve(env.HOOKWIRE_DATA_DIR || './data'), ADMIN_TOKEN_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function apiClient(env: NodeJS.ProcessEnv = process.env): ApiClient {
  const baseUrl = (env.HOOKWIRE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const token = findToken(env);
  return {
    baseUrl,
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      if (!token) throw new ApiError(0, 'UNAUTHORIZED', 'no API token: set HOOKWIRE_TOKEN or HOOKWIRE_DATA_DIR (the bridge writes admin-token there on first start)');
      let res: Response;
      try {
        res = await fetch(baseUrl + path, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        throw new ApiError(0, 'UNREACHABLE', `cannot reach the bridge at ${baseUrl} (${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}); is it running? set HOOKWIRE_URL if it is elsewhere`);
      }
      const text = await res.text();
      const json = text ? JSON.parse(text) : undefined;
      if (!res.ok) {
        throw new ApiError(res.status, json?.code ?? json?.error ?? `HTTP_${res.status}`, json?.error_description ?? json?.error ?? res.statusText);
      }
      return json as T;
    },
  };
}
