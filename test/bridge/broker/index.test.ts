// How the broker names a connection's failure (connectionCode): a client going away is no
// fault (no warning, no PROTOCOL_ERROR), bytes that are not MQTT are.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectionCode } from '../../../bridge/broker/index.ts';

const error = (message: string, code?: string) => Object.assign(new Error(message), code ? { code } : {});

test('a client that went away: no code, whether the socket said so or aedes found it closed while writing to it', () => {
  assert.is(connectionCode(error('read ECONNRESET', 'ECONNRESET')), undefined);
  assert.is(connectionCode(error('write EPIPE', 'EPIPE')), undefined);
  // What aedes reports when an event reaches a client whose connection just closed (an event
  // published as a device disconnects); it was logged as PROTOCOL_ERROR.
  assert.is(connectionCode(error('connection closed')), undefined);
});

test('what the client did wrong keeps its code', () => {
  assert.is(connectionCode(error('Invalid header flag bits, must be 0x0 for puback packet')), 'PROTOCOL_ERROR');
  assert.is(connectionCode(error('+ is not allowed in PUBLISH')), 'EVENT_NAME_INVALID');
  assert.is(connectionCode(error('keep alive timeout')), 'KEEPALIVE_TIMEOUT');
  assert.is(connectionCode(error('packet too large', 'PACKET_TOO_LARGE')), 'PACKET_TOO_LARGE');
});

test.run();
