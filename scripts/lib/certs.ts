// Throwaway certificates for the TLS tests and benchmarks, made by openssl (Debian's `openssl`
// package; .ci/run installs it) in a directory the caller owns: a CA, server certificates for
// 127.0.0.1 / ::1 / localhost signed by it, and device (client) certificates. Nothing here is
// fit for production: the keys are unencrypted and live a few days.
//
// Keys are ECDSA P-256 by default, what certbot asks Let's Encrypt for by default; RSA 2048
// can be asked for (its handshakes cost the server several times more CPU).

import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type KeyType = 'ec' | 'rsa';

/** Paths of a PEM certificate and its key. */
export interface KeyPair {
  cert: string;
  key: string;
}

export interface Issued extends KeyPair {
  /** As Node reports it (X509Certificate#serialNumber, getPeerCertificate().serialNumber). */
  serialNumber: string;
  subject: string;
}

export interface CertOptions {
  /** File names: `<name>.pem` and `<name>.key`. */
  name: string;
  /** The certificate's common name. */
  cn: string;
  /** `server`: subjectAltName for this machine's loopback names; `client`: a device certificate. */
  use: 'server' | 'client';
  /** Extra subjectAltName entries, e.g. `DNS:hooks.example.com`. */
  altNames?: string[];
  /** Days valid. Default 30 (the bridge warns under 14). */
  days?: number;
  keyType?: KeyType;
}

/** openssl is on the PATH. */
export function opensslAvailable(): boolean {
  return spawnSync('openssl', ['version']).error === undefined;
}

function keyArgs(type: KeyType): string[] {
  return type === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function describe(cert: string): Pick<Issued, 'serialNumber' | 'subject'> {
  const x = new X509Certificate(readFileSync(cert));
  return { serialNumber: x.serialNumber, subject: x.subject };
}

/** A self-signed CA in `dir` (`<name>.pem`, `<name>.key`). */
export function makeCa(dir: string, name = 'ca', cn = 'Hookwire test CA', keyType: KeyType = 'ec'): Issued {
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  openssl(['req', '-x509', ...keyArgs(keyType), '-nodes', '-days', '30', '-subj', `/CN=${cn}`, '-keyout', pair.key, '-out', pair.cert,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { ...pair, ...describe(pair.cert) };
}

/** A certificate signed by `ca`, with a random serial number. */
export function makeCert(dir: string, ca: KeyPair, options: CertOptions): Issued {
  const pair = { cert: join(dir, `${options.name}.pem`), key: join(dir, `${options.name}.key`) };
  const csr = join(dir, `${options.name}.csr`);
  const ext = join(dir, `${options.name}.ext`);
  const names = options.use === 'server' ? ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1', ...(options.altNames ?? [])] : options.altNames ?? [];
  writeFileSync(ext, [
    'basicConstraints=CA:FALSE',
    `extendedKeyUsage=${options.use === 'server' ? 'serverAuth' : 'clientAuth'}`,
    ...(names.length ? [`subjectAltName=${names.join(',')}`] : []),
  ].join('\n') + '\n');
  openssl(['req', '-new', ...keyArgs(options.keyType ?? 'ec'), '-nodes', '-subj', `/CN=${options.cn}`, '-keyout', pair.key, '-out', csr]);
  // The first byte below 0x80 keeps the serial positive and its length fixed.
  const serial = `0x4${randomBytes(7).toString('hex')}`;
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', serial, '-days', String(options.days ?? 30),
    '-extfile', ext, '-out', pair.cert]);
  return { ...pair, ...describe(pair.cert) };
}

export interface TestPki {
  ca: Issued;
  /** For 127.0.0.1, ::1 and localhost. */
  server: Issued;
  /** A device certificate signed by the same CA. */
  client: Issued;
}

/** A CA, a server certificate for this machine and a device certificate, in `dir`. */
export function makeTestPki(dir: string, keyType: KeyType = 'ec'): TestPki {
  const ca = makeCa(dir, 'ca', 'Hookwire test CA', keyType);
  return {
    ca,
    server: makeCert(dir, ca, { name: 'server', cn: 'localhost', use: 'server', keyType }),
    client: makeCert(dir, ca, { name: 'device', cn: 'device', use: 'client', keyType }),
  };
}
