// TLS for tests: certificates made by openssl at test time (scripts/lib/certs.ts) in a temp
// dir, a bridge that serves them, and clients that trust them: a bare TLS handshake that
// reports the certificate the server presented, and HTTPS requests through undici.
// CI installs openssl (.ci/run) and sets HOOKWIRE_REQUIRE_MOSQUITTO=1, so there a missing
// binary fails the suite; elsewhere the TLS tests say they were skipped.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type PeerCertificate } from 'node:tls';
import { Agent, fetch } from 'undici';
import { makeTestPki, opensslAvailable, type TestPki } from '../../scripts/lib/certs.ts';
import { testBridge, type TestBridge } from './bridge.ts';

export const openssl = opensslAvailable();
if (!openssl && process.env.HOOKWIRE_REQUIRE_MOSQUITTO === '1') {
  throw new Error('openssl not found: apt-get install -y openssl');
}

export interface TempPki extends TestPki {
  dir: string;
  remove(): Promise<void>;
}

/** A CA, a server certificate for this machine and a device certificate, in a new temp dir. */
export async function tempPki(): Promise<TempPki> {
  const dir = await mkdtemp(join(tmpdir(), 'hookwire-pki-'));
  return { dir, ...makeTestPki(dir), remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A bridge serving `pki`'s server certificate on MQTTS (port 0) and HTTPS; its `call` trusts the CA. */
export function tlsBridge(pki: TestPki, overrides: Record<string, unknown> = {}): Promise<TestBridge> {
  return testBridge({ tlsCert: pki.server.cert, tlsKey: pki.server.key, mqttsPort: 0, ...overrides }, { ca: pki.ca.cert });
}

export interface HandshakeOptions {
  /** PEM file of the CA to trust; without it, Node's roots (the handshake then fails). */
  ca?: string;
  /** A device certificate and key (PEM files). */
  cert?: string;
  key?: string;
  host?: string;
}

/** The certificate a TLS server presents to a new connection (verified against `ca`). */
export async function peerCertificate(port: number, options: HandshakeOptions = {}): Promise<PeerCertificate> {
  const [ca, cert, key] = await Promise.all([options.ca, options.cert, options.key].map((f) => (f ? readFile(f) : undefined)));
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: options.host ?? '127.0.0.1', ca, cert, key, servername: 'localhost' }, () => {
      const peer = socket.getPeerCertificate();
      socket.end();
      resolve(peer);
    });
    socket.once('error', reject);
  });
}

/** An undici dispatcher that trusts the CA in `caFile`. */
export async function trusting(caFile: string): Promise<Agent> {
  return new Agent({ connect: { ca: await readFile(caFile) } });
}

/** GET `url` over HTTPS trusting `caFile`; resolves with the status and body text. */
export async function httpsGet(url: string, caFile: string): Promise<{ status: number; text: string }> {
  const dispatcher = await trusting(caFile);
  try {
    const res = await fetch(url, { dispatcher });
    return { status: res.status, text: await res.text() };
  } finally {
    await dispatcher.close();
  }
}
