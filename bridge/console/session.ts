// Console sign-in: an API token is exchanged once for a session cookie, so the token never
// sits in the browser's storage. The cookie is HttpOnly (no script reads it), SameSite=Strict
// (no other site's page sends it) and Secure under HTTPS; the store keeps only its hash. A
// change made with the cookie must also carry the session's CSRF value in a header, which only
// the console's own page can read; a session ends at sign-out, after 12 idle hours, 7 days
// after sign-in, or when its token is revoked.

import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashSecret, sameHash } from '../ids.ts';
import type { ApiTokenRecord, SessionRecord, Store } from '../store/index.ts';

/** A session unused this long ends. */
export const IDLE_MS = 12 * 3600_000;
/** A session ends this long after sign-in, used or not. */
export const LIFETIME_MS = 7 * 24 * 3600_000;
/** The expiry is pushed forward at most this often (one write per session per minute). */
const TOUCH_EVERY_MS = 60_000;
/** The header a cookie-signed change carries its CSRF value in. */
export const CSRF_HEADER = 'x-csrf-token';

/** `__Host-` under HTTPS: the browser then refuses the cookie unless Secure, for this host and path /. */
export const cookieName = (secure: boolean) => (secure ? '__Host-hookwire_session' : 'hookwire_session');

const isSecure = (req: FastifyRequest) => req.protocol === 'https';

export interface ConsoleSession {
  session: SessionRecord;
  token: ApiTokenRecord;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session that authenticated this request (none with a token in the request). */
    consoleSession?: ConsoleSession;
  }
}

export class ConsoleSessions {
  constructor(private readonly store: Store, private readonly now: () => number = Date.now) {}

  /** A new session for a token; sets its cookie on the reply. */
  async signIn(token: ApiTokenRecord, req: FastifyRequest, reply: FastifyReply): Promise<SessionRecord> {
    const value = randomBytes(32).toString('base64url');
    const now = this.now();
    const session: SessionRecord = {
      idHash: hashSecret(value),
      tokenId: token.id,
      csrf: randomBytes(24).toString('base64url'),
      createdAt: new Date(now).toISOString(),
      expiresAt: now + IDLE_MS,
    };
    await this.store.sessions.create(session);
    // A browser-session cookie (no Max-Age): the server's expiry is the one that counts.
    reply.setCookie(cookieName(isSecure(req)), value, { path: '/', httpOnly: true, sameSite: 'strict', secure: isSecure(req) });
    void this.store.sessions.prune(now).catch(() => {}); // old sessions go as new ones come
    return session;
  }

  /** The live session the request's cookie names, kept alive; undefined without one. */
  async fromRequest(req: FastifyRequest): Promise<ConsoleSession | undefined> {
    const value = req.cookies[cookieName(isSecure(req))];
    if (!value) return undefined;
    const now = this.now();
    const found = await this.store.sessions.find(hashSecret(value), now);
    if (!found) return undefined;
    if (Date.parse(found.session.createdAt) + LIFETIME_MS <= now) return undefined;
    if (found.session.expiresAt - IDLE_MS + TOUCH_EVERY_MS <= now) {
      found.session.expiresAt = now + IDLE_MS;
      await this.store.sessions.touch(found.session.idHash, found.session.expiresAt);
    }
    return found;
  }

  /** Whether a change signed by this session carries its CSRF value. */
  csrfOk(req: FastifyRequest, session: SessionRecord): boolean {
    const sent = req.headers[CSRF_HEADER];
    return typeof sent === 'string' && sameHash(sent, session.csrf);
  }

  /** End a session and clear its cookie. */
  async signOut(session: SessionRecord, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    await this.store.sessions.remove(session.idHash);
    reply.clearCookie(cookieName(isSecure(req)), { path: '/', httpOnly: true, sameSite: 'strict', secure: isSecure(req) });
  }
}
