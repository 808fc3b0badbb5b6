// A real bridge for tests: port 0 for both servers, a real SQLite file in a temp dir, and
// its JSON log lines captured so tests can assert on them (parsed, never text-matched).
// A bridge with a certificate from a test CA is called over HTTPS trusting that CA (`ca`).

import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Agent, fetch as undiciFetch } from 'undici';
import { startBridge, type Bridge, type StartOptions } from '../../bridge/index.ts';
import { createLogger } from '../../bridge/log.ts';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface TestBridge extends Bridge {
  token: string;
  logs: LogLine[];
  /** GET/POST/... the API as the admin; resolves with status and parsed body. */
  call<T = any>(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: T }>;
  addDevice(body?: Record<string, unknown>): Promise<{ id: string; token: string }>;
  stop(): Promise<void>;
}

export interface TestBridgeOptions extends Omit<StartOptions, 'logger'> {
  /** PEM file of the CA that signed the bridge's certificate: `call` trusts it. */
  ca?: string;
}

export async function testBridge(overrides: Record<string, unknown> = {}, options: TestBridgeOptions = {}): Promise<TestBridge> {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookwire-test-'));
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = createLogger({ level: 'debug', pretty: false, destination: sink });
  const { ca: _ca, ...start } = options;
  const bridge = await startBridge({ host: '127.0.0.1', mqttPort: 0, httpPort: 0, dataDir, ...overrides }, { ...start, logger });
  const token = bridge.adminToken!;
  const dispatcher = options.ca ? new Agent({ connect: { ca: readFileSync(options.ca) } }) : undefined;
  const send = (url: string, init: { method: string; headers: Record<string, string>; body: string | undefined }) =>
    (dispatcher ? undiciFetch(url, { ...init, dispatcher }) : fetch(url, init));

  async function call(method: string, path: string, body?: unknown, as: string | null = token) {
    const headers: Record<string, string> = {};
    if (as) headers.authorization = `Bearer ${as}`;
    let payload: string | undefined;
    if (typeof body === 'string') {
      payload = body;
      headers['content-type'] = 'application/json';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await send(bridge.url + path, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as any };
  }

  return Object.assign(bridge, {
    token,
    logs,
    call,
    async addDevice(body: Record<string, unknown> = {}) {
      const res = await call('POST', '/v1/devices', body);
      if (res.status !== 201) throw new Error(`device create failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body as { id: string; token: string };
    },
    async stop() {
      await bridge.close();
      await dispatcher?.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  });
}

/** Resolve when `check` returns true, polling; reject after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
