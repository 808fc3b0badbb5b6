// The bridge an example talks to: one started in this process (ports picked by the OS, a
// throwaway data directory), or a running one when HOOKWIRE_URL and HOOKWIRE_TOKEN are set.
// Either way the example uses only what any user has: the REST API and the MQTT broker.
// Whatever an example creates through it (devices, integrations) is deleted by close().

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge } from '../../bridge/index.ts';
import { locateBridge } from '../../bridge/client/index.ts';
import { replaceOrigin, type Template } from './template.ts';

export interface DeviceCredentials {
  id: string;
  token: string;
  name: string;
}

export interface CreatedIntegration {
  id: string;
  /** The URL template as pasted (the real service). */
  pastedUrl: string;
  /** The URL template the bridge was given: the same, on the stand-in's origin. */
  url: string;
}

export interface ExampleBridge {
  /** One line for the transcript: where the bridge is and how it was reached. */
  description: string;
  /** HTTP API base, e.g. http://127.0.0.1:8080. */
  url: string;
  /** The MQTT broker devices connect to, e.g. mqtt://127.0.0.1:1883. */
  mqttUrl: string;
  /** One REST call with the admin token; throws on a non-2xx answer, naming the call. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** `POST /v1/devices`: a new device and its token (shown once). */
  addDevice(name: string, productId?: number): Promise<DeviceCredentials>;
  /**
   * `POST /v1/integrations` (or `/v1/products/<productId>/integrations`) with the template as
   * pasted, except the URL's origin, which becomes `origin` (the stand-in's).
   */
  createIntegration(template: Template, origin: string, productId?: number): Promise<CreatedIntegration>;
  /** Delete what this example created, then stop the bridge if this process started it. */
  close(): Promise<void>;
}

/** A failed REST call: the status and the bridge's Particle-shaped error body. */
export class ApiCallError extends Error {
  constructor(readonly status: number, readonly body: unknown, call: string) {
    super(`${call} answered ${status}: ${JSON.stringify(body)}`);
  }
}

/** The bridge from HOOKWIRE_URL + HOOKWIRE_TOKEN when both are set, else a new one in-process. */
export async function openBridge(env: NodeJS.ProcessEnv = process.env): Promise<ExampleBridge> {
  if (Boolean(env.HOOKWIRE_URL) !== Boolean(env.HOOKWIRE_TOKEN)) {
    // Half a setting is a mistake: say so rather than quietly start a bridge of our own.
    throw new Error(`set both HOOKWIRE_URL and HOOKWIRE_TOKEN to use a running bridge (only ${env.HOOKWIRE_URL ? 'HOOKWIRE_URL' : 'HOOKWIRE_TOKEN'} is set)`);
  }
  if (env.HOOKWIRE_URL && env.HOOKWIRE_TOKEN) {
    // As the CLI and the simulator do: HOOKWIRE_MQTT_URL, else that bridge's own (bridge.json
    // in HOOKWIRE_DATA_DIR), else the broker on the API's host, port 1883.
    const { http: url, mqtt: mqttUrl } = locateBridge(env);
    return wrap({ url, mqttUrl, token: env.HOOKWIRE_TOKEN, description: `running bridge at ${url} (MQTT ${mqttUrl})`, stop: async () => {} });
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'hookwire-example-'));
  // warn: the transcript is the example's output; the bridge speaks only if something is wrong.
  const bridge = await startBridge({ mqttPort: 0, httpPort: 0, dataDir, logLevel: 'warn' });
  return wrap({
    url: bridge.url,
    mqttUrl: bridge.mqttUrl,
    token: bridge.adminToken!, // a fresh data dir: this start made the admin token
    description: `started in this process: HTTP ${bridge.url}, MQTT ${bridge.mqttUrl}`,
    stop: async () => {
      await bridge.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  });
}

interface Target {
  url: string;
  mqttUrl: string;
  token: string;
  description: string;
  stop: () => Promise<void>;
}

function wrap(target: Target): ExampleBridge {
  const { url, mqttUrl, token, description } = target;
  // Undone in reverse order by close(), so a running bridge is left as it was found.
  const cleanups: (() => Promise<unknown>)[] = [];

  async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(url + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, ...) is its cause.
      const reason = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new Error(`cannot reach the bridge at ${url} (${reason}): is it running?`);
    }
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new ApiCallError(res.status, parsed, `${method} ${path}`);
    return parsed as T;
  }

  return {
    description,
    url,
    mqttUrl,
    api,

    async addDevice(name, productId) {
      const body = (n: string) => (productId === undefined ? { name: n } : { name: n, product_id: productId });
      let device: { id: string; token: string; name: string };
      try {
        device = await api('POST', '/v1/devices', body(name));
      } catch (err) {
        // Names are unique per bridge: on a running bridge an earlier run may hold it.
        if (!(err instanceof ApiCallError && err.status === 409)) throw err;
        device = await api('POST', '/v1/devices', body(`${name}-${randomBytes(2).toString('hex')}`));
      }
      cleanups.push(() => api('DELETE', `/v1/devices/${device.id}`));
      return { id: device.id, token: device.token, name: device.name };
    },

    async createIntegration(template, origin, productId) {
      const scope = productId === undefined ? '/v1' : `/v1/products/${productId}`;
      const local = replaceOrigin(template.url, origin);
      const created = await api<{ id: string }>('POST', `${scope}/integrations`, { integration_type: 'Webhook', ...template, url: local });
      cleanups.push(() => api('DELETE', `${scope}/integrations/${created.id}`));
      return { id: created.id, pastedUrl: template.url, url: local };
    },

    async close() {
      for (const cleanup of cleanups.splice(0).reverse()) {
        await cleanup().catch((err: Error) => console.error(`cleanup: ${err.message}`));
      }
      await target.stop();
    },
  };
}
