// Refuse oversized MQTT packets as soon as their header is read, before they are buffered.
//
// aedes builds its mqtt-packet parser without a size limit, so a client could announce a
// 256 MB packet and have the broker buffer it. mqtt-packet reads the announced length in
// `_parseLength`; we check it there. This reaches into mqtt-packet's parser, so
// test/bridge/broker/bad-input.test.ts checks that an oversized CONNECT and PUBLISH are refused.

import type { Client } from 'aedes';
import { PacketTooLargeError } from '../errors.ts';

interface PacketParser {
  packet: { length: number };
  _parseLength(): boolean;
  _emitError(err: Error): void;
}

export function limitPacketSize(client: Client, limit: number): void {
  const parser = (client as unknown as { _parser?: PacketParser })._parser;
  if (!parser || typeof parser._parseLength !== 'function') {
    throw new Error('mqtt-packet parser not found: the packet size guard needs updating');
  }
  const parseLength = parser._parseLength;
  parser._parseLength = function guardedParseLength(this: PacketParser) {
    const complete = parseLength.call(this);
    if (complete && this.packet.length > limit) {
      this._emitError(new PacketTooLargeError(this.packet.length, limit));
      return false;
    }
    return complete;
  };
}
