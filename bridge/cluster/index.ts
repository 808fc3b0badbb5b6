// Several bridges acting as one over a shared Redis (HOOKWIRE_REDIS): connections to it, and
// the notices every bridge must act on. The broker's own Redis use is in broker/shared.ts.
export { NOTICE_CHANNEL, SHARED_KINDS, parseNotice, startNotices, type Notice, type Notices, type NoticesOptions } from './notices.ts';
export { closeRedis, openRedis, redisLabel } from './redis.ts';
export { LOGIN_KEY_PREFIX, shareLogins, type SharedLogins } from './logins.ts';
