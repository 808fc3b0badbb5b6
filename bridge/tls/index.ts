// TLS for the bridge's listeners (MQTT over TLS, HTTPS, and MQTT over secure WebSocket on the
// HTTPS port), from the PEM files an operator points at: Let's Encrypt's fullchain.pem and
// privkey.pem, or a private CA's.
//
// Certificates are renewed while the bridge runs (Let's Encrypt every 60 days or so), so the
// files are read again when they change or on SIGHUP, and every server gets the new context for
// its next handshakes (tls.Server#setSecureContext); connections already open keep theirs. The
// files are polled (fs.watchFile), not watched with fs.watch: certbot renews by pointing the
// live/ symlinks at new files, which a watch on the old target never sees, while a stat follows
// the link. A change is acted on once the files have been quiet for a moment, because a
// certificate and its key are written one after the other.
//
// A pair that does not load (a half-written renewal, a key that belongs to another
// certificate) is logged with a stable code and the bridge keeps serving the certificate it
// had: a renewal gone wrong must never take devices offline. The key is held in memory and
// never logged; log lines carry the certificate's subject, serial and dates.

import { X509Certificate } from 'node:crypto';
import { unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContextOptions, type Server as TlsServer, type TlsOptions } from 'node:tls';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../log.ts';

export { checkExposure, exposureOf, insecureMessage, isLoopback, type Exposure, type Listener } from './exposure.ts';

export interface TlsFiles {
  /** PEM certificate, with its chain. */
  cert: string;
  /** PEM private key of `cert`. */
  key: string;
  /** PEM CA(s) that sign client (device) certificates; MQTTS then requires one. */
  ca?: string | undefined;
}

export interface TlsSettings extends TlsFiles {
  /** How often the files are checked for a change, ms; 0: only on `reload()` (SIGHUP). */
  watchMs: number;
  /** Time a connection has to finish its TLS handshake, ms. */
  handshakeTimeoutMs: number;
  logger: Logger;
}

export const tlsDefaults = {
  /** Act on a change once the files have been quiet this long, ms (cert and key are written one after the other). */
  settleMs: 300,
  /** Warn when the certificate served expires within this many days (Let's Encrypt renews at 30). */
  expiringDays: 14,
};

/** What a log line, the doctor and a test may know of a certificate (never the key). */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  serialNumber: string;
  /** ISO-8601. */
  validFrom: string;
  /** ISO-8601. */
  validTo: string;
  /** e.g. `DNS:hooks.example.com, IP Address:192.0.2.1`. */
  altNames: string | undefined;
  fingerprint256: string;
}

/** Which server the options are for: MQTT over TLS, or HTTPS (the API, the console, MQTT over secure WebSocket). */
export type ServerUse = 'mqtts' | 'https';

/** Why the files were read again. */
export type ReloadReason = 'files changed' | 'SIGHUP' | 'asked';

export interface TlsSource {
  /** A client CA is configured: devices must present a certificate it signed. */
  readonly clientCa: boolean;
  /** Options to create a server with (key, certificate, client certificate policy, handshake timeout). */
  serverOptions(use: ServerUse): TlsOptions;
  /** Give this server every certificate loaded from now on, and log its failed handshakes. */
  track(server: TlsServer, use: ServerUse): void;
  /** Read the files again; true when every tracked server now serves them, false (logged) when they did not load. */
  reload(reason: ReloadReason): Promise<boolean>;
  /** The certificate served now. */
  certificate(): CertificateInfo;
  /** Stop watching the files. */
  close(): void;
}

/** The files' contents, checked to load together. */
interface Material {
  key: Buffer;
  cert: Buffer;
  ca: Buffer | undefined;
  info: CertificateInfo;
}

async function readPem(path: string, field: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, field, 'TLS_CERT_INVALID', err);
  }
}

function describe(cert: X509Certificate): CertificateInfo {
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    serialNumber: cert.serialNumber,
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    altNames: cert.subjectAltName,
    fingerprint256: cert.fingerprint256,
  };
}

/** The first certificate of a PEM file (the server's own, in a full chain). */
function parseCertificate(pem: Buffer, path: string, field: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new ConfigError(`${path} holds no PEM certificate (${(err as Error).message})`, field, 'TLS_CERT_INVALID', err);
  }
}

/** Read the files and check that they make a working context (the key belongs to the certificate). */
async function loadMaterial(files: TlsFiles): Promise<Material> {
  const [cert, key, ca] = await Promise.all([
    readPem(files.cert, 'tlsCert', 'certificate'),
    readPem(files.key, 'tlsKey', 'key'),
    files.ca === undefined ? undefined : readPem(files.ca, 'tlsCa', 'client CA'),
  ]);
  const info = describe(parseCertificate(cert, files.cert, 'tlsCert'));
  if (ca) parseCertificate(ca, files.ca!, 'tlsCa');
  try {
    createSecureContext({ key, cert, ca });
  } catch (err) {
    // OpenSSL's reason ("key values mismatch", "unsupported"); it never quotes the key.
    throw new ConfigError(`the key ${files.key} does not work with the certificate ${files.cert}: ${(err as Error).message}`, 'tlsKey', 'TLS_CERT_INVALID', err);
  }
  return { key, cert, ca, info };
}

function contextOptions(m: Material): SecureContextOptions {
  return { key: m.key, cert: m.cert, ...(m.ca ? { ca: m.ca } : {}) };
}

function daysLeft(info: CertificateInfo, now = Date.now()): number {
  return (Date.parse(info.validTo) - now) / 86_400_000;
}

/** Call `onChange` once the files have changed and then been quiet for `settleMs`. Returns a stop function. */
function watchFiles(paths: string[], intervalMs: number, settleMs: number, onChange: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, settleMs);
  };
  // Not persistent: watching alone does not keep the process alive.
  for (const p of paths) watchFile(p, { interval: intervalMs, persistent: false }, changed);
  return () => {
    clearTimeout(timer);
    for (const p of paths) unwatchFile(p, changed);
  };
}

/** Handshake failures worth an operator's attention: a device's certificate missing or refused. */
const CLIENT_CERT_PROBLEM = /CERTIFICATE|CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO/;

/**
 * Load the certificate and key (throws ConfigError TLS_CERT_INVALID when they do not load:
 * the bridge does not start without the TLS it was asked for), and keep them current.
 */
export async function openTls(settings: TlsSettings): Promise<TlsSource> {
  const log = settings.logger.child({ component: 'tls' });
  const files: TlsFiles = { cert: settings.cert, key: settings.key, ca: settings.ca };
  let current = await loadMaterial(files);
  const servers = new Set<TlsServer>();
  let queue: Promise<boolean> = Promise.resolve(true);

  const warnIfExpiring = (info: CertificateInfo) => {
    const days = daysLeft(info);
    if (days < 0) log.error({ code: 'CERT_HAS_EXPIRED', validTo: info.validTo, subject: info.subject }, 'the TLS certificate has expired: clients will refuse it');
    else if (days < tlsDefaults.expiringDays) log.warn({ validTo: info.validTo, subject: info.subject, daysLeft: Math.floor(days) }, 'the TLS certificate expires soon: is its renewal running?');
  };

  async function reloadNow(reason: ReloadReason): Promise<boolean> {
    let next: Material;
    try {
      next = await loadMaterial(files);
    } catch (err) {
      const e = err as ConfigError;
      log.error({ code: e.code, field: e.field, trigger: reason, reason: e.message, serving: current.info.serialNumber },
        'TLS certificate not reloaded; still serving the previous one');
      return false;
    }
    const options = contextOptions(next);
    for (const server of servers) server.setSecureContext(options);
    const previous = current.info.serialNumber;
    current = next;
    log.info({ trigger: reason, previousSerial: previous, ...next.info }, 'TLS certificate loaded');
    warnIfExpiring(next.info);
    return true;
  }

  const stopWatching = settings.watchMs > 0
    ? watchFiles([files.cert, files.key, ...(files.ca ? [files.ca] : [])], settings.watchMs, tlsDefaults.settleMs, () => {
      void source.reload('files changed');
    })
    : () => {};

  log.info({ cert: files.cert, clientCa: files.ca ?? null, watchMs: settings.watchMs, ...current.info }, 'TLS certificate loaded');
  warnIfExpiring(current.info);

  const source: TlsSource = {
    clientCa: files.ca !== undefined,

    serverOptions(use) {
      const requireCert = files.ca !== undefined;
      return {
        ...contextOptions(current),
        handshakeTimeout: settings.handshakeTimeoutMs,
        // MQTTS refuses a device without a certificate from the client CA during the handshake.
        // HTTPS asks for one but lets the handshake finish: the API and the console use tokens,
        // and MQTT over secure WebSocket checks the certificate at the upgrade (broker).
        requestCert: requireCert,
        rejectUnauthorized: requireCert && use === 'mqtts',
      };
    },

    track(server, use) {
      servers.add(server);
      server.on('close', () => servers.delete(server));
      server.on('tlsClientError', (err: Error & { code?: string }, socket: Socket) => {
        const fields = { use, code: err.code, remote: socket.remoteAddress, reason: err.message.split('\n')[0] };
        if (err.code && CLIENT_CERT_PROBLEM.test(err.code)) log.info(fields, 'TLS handshake refused');
        else log.debug(fields, 'TLS handshake failed');
      });
    },

    reload(reason) {
      // One at a time: a SIGHUP during a change on disk reads the files after it, not beside it.
      queue = queue.then(() => reloadNow(reason));
      return queue;
    },

    certificate: () => current.info,

    close() {
      stopWatching();
      servers.clear();
    },
  };
  return source;
}
