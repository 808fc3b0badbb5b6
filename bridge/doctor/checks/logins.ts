// Devices that cannot log in ("Is my device online?"): the broker refuses a device ID it
// does not know, or a known one with a wrong token (AUTH_FAILED), and then the whole address
// for a while (LOGIN_LIMITED). The device sees only CONNACK 4 and keeps retrying; without
// this check the doctor said "No problems found" while the dashboard counted the refusals.

import { iso, plural, some, type Check, type CheckContext } from '../context.ts';
import type { LoginFailuresSeen } from '../tracker.ts';
import type { Finding } from '../types.ts';

/** Devices reported one by one, most recent first; the rest are counted in the last one's evidence. */
const MAX_DEVICES = 10;

type Kind = 'unknown_device' | 'wrong_token' | 'unknown_device_or_wrong_token';

function kindOf(registered: boolean | undefined): Kind {
  if (registered === undefined) return 'unknown_device_or_wrong_token';
  return registered ? 'wrong_token' : 'unknown_device';
}

function loginFinding(ctx: CheckContext, f: LoginFailuresSeen, kind: Kind, others: number): Finding {
  const connected = ctx.isConnected(f.deviceId);
  const from = f.lastRemote ? `, last from ${f.lastRemote}${f.remotes.length > 1 ? ` (${plural(f.remotes.length, 'address', 'addresses')}: ${some(f.remotes)})` : ''}` : '';
  const tries = `${plural(f.failures, 'login')} refused (last ${iso(f.lastAt)}${from})`;
  const since = f.loggedInAt !== undefined && f.loggedInAt >= f.lastAt ? f.loggedInAt : undefined;
  const limited = f.limited
    ? ` ${plural(f.limited, 'more was', 'more were')} refused because the address was over the failed-login limit (LOGIN_LIMITED), which refuses right tokens from it too, for a minute.`
    : '';
  let message: string;
  let next: string;
  let severity: Finding['severity'] = 'warning';
  switch (kind) {
    case 'unknown_device':
      message = `Device ID ${f.deviceId} is not registered on this bridge: ${tries}. A device deleted, registered on another bridge, or a typo in the ID its firmware uses.${limited}`;
      next = `Check the ID the device is configured with: hookwire devices list. A device that is not there: hookwire devices add, then configure the device with the ID and token it prints.`;
      break;
    case 'wrong_token':
      if (since !== undefined && !connected) {
        // It got in with its token after the failures: a mistyped token, fixed. Nothing to rotate.
        severity = 'info';
        message = `Device ${f.deviceId} logged in with its token at ${iso(since)}, after ${tries} with a wrong one.${limited}`;
        next = `Nothing to do unless refusals come back: then find what connects as ${f.deviceId} with an old token.`;
      } else if (connected) {
        // A new token would cut off the connection that works: say so, not "issue a new token".
        severity = 'info';
        message = `Device ${f.deviceId} is connected now, but ${tries} with a wrong token: another board or an old copy of its firmware uses its ID, or the failures came before it got its current token.${limited}`;
        next = `If they go on, find what else connects as ${f.deviceId}${f.lastRemote ? ` (from ${f.lastRemote})` : ''} and give it its own device (hookwire devices add). A new token (hookwire devices token ${f.deviceId}) would also disconnect the device that works until it has it.`;
      } else {
        message = `Device ${f.deviceId} cannot log in: ${tries}, with a wrong token (the device is registered; its token was changed, or the firmware has another device's).${limited}`;
        next = `Issue a new token with hookwire devices token ${f.deviceId} and configure the device with it (the old token stays refused).`;
      }
      break;
    case 'unknown_device_or_wrong_token':
      message = `Device ${f.deviceId} cannot log in: ${tries}: an unknown device ID or a wrong token.${limited}`;
      next = `Check the ID against hookwire devices list; if it is there, issue a new token with hookwire devices token ${f.deviceId} and configure the device with it.`;
      break;
  }
  return {
    check: 'DEVICE_LOGIN_FAILED',
    severity,
    message,
    next,
    evidence: {
      kind, deviceId: f.deviceId, failures: f.failures, limited: f.limited, firstAt: iso(f.firstAt), lastAt: iso(f.lastAt),
      lastRemote: f.lastRemote ?? null, remotes: f.remotes, reason: f.reason, connected, otherDevices: others,
    },
  };
}

export const deviceLogins: Check = async (ctx) => {
  // Only refused logins: a device refused only as its address was limited is some other device's trouble.
  const failed = [...ctx.seen.loginFailures()].filter((f) => f.failures > 0).sort((a, b) => b.lastAt - a.lastAt);
  const out: Finding[] = [];
  for (const f of failed.slice(0, MAX_DEVICES)) {
    const others = f === failed[MAX_DEVICES - 1] ? failed.length - MAX_DEVICES : 0;
    out.push(loginFinding(ctx, f, kindOf(await ctx.deviceRegistered(f.deviceId)), others));
  }
  return out;
};
