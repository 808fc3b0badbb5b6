// GET /v1/user: who the token is, in the shape of Particle's "get user" (`particle whoami`,
// `particle login --token`, particle-api-js getUserInfo). A bridge is one account and its
// people are its API tokens, so the username is the token's name; there is no subscription,
// no team, no account details and no second factor to show.

import type { ApiTokenRecord } from '../../store/index.ts';
import type { ApiContext } from '../context.ts';

/** The user a token is, with Particle's field names. */
export function userJson(token: ApiTokenRecord) {
  return {
    username: token.name,
    subscription_ids: [] as string[],
    account_info: { first_name: '', last_name: '', business_account: false },
    team_invites: [] as string[],
    mfa: { enabled: false },
    // Hookwire's own: what this token may do (read: look only; admin: change things too).
    scope: token.scope,
  };
}

export default function user({ app }: ApiContext) {
  // Any token (GET needs `read`): a read-only token may ask who it is.
  app.get('/v1/user', async (req) => userJson(req.token!));
}
