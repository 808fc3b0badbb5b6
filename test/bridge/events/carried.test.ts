// What an event carries through a broker shared with other bridges (bridge/events/ingest.ts
// carriedOf, eventCarried): the event another bridge rebuilds from its topic, payload and that
// is the one the first bridge accepted, field for field, whatever its data.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encode } from 'cbor-x';
import { carriedOf, createIngest, eventCarried, eventFrom, EventBus, isRefused, type HookwireEvent } from '../../../bridge/events/index.ts';

const device = { coreid: 'a1b2c3d4e5f6a1b2c3d4e5f6', productId: 7, firmwareVersion: 3 };

function accepted(name: string, payload: Buffer): HookwireEvent {
  const event = eventFrom(name, payload, device, 'device');
  if (isRefused(event)) throw new Error(event.message);
  return event;
}

test('text, typed and binary data: the same event on the other side', () => {
  const typed = Buffer.concat([Buffer.from([0xd9, 0xd9, 0xf7]), encode({ t: 21.5, ok: true })]);
  for (const [name, payload] of [['temp', Buffer.from('72')], ['typed', typed], ['raw', Buffer.from([0xff, 0x00, 0xfe])], ['empty', Buffer.alloc(0)]] as const) {
    const event = accepted(name, payload);
    assert.equal(eventCarried(name, payload, carriedOf(event)), event, name);
  }
});

test('a cloud event over the data limits is bytes on both sides; an API event keeps its coreid', () => {
  const bus = new EventBus();
  const ingest = createIngest({ bus });
  ingest.connect({ acceptance: { accept: () => undefined }, outlet: { publish() {} } });
  const big = Buffer.alloc(20_000, 'x');
  const cloud = ingest.cloud('a1b2c3d4e5f6a1b2c3d4e5f6/hook-response/big/0', big, 0);
  assert.is(cloud.type, 'binary');
  assert.equal(eventCarried(cloud.name, big, carriedOf(cloud)), cloud);
  const api = eventFrom('ping', Buffer.from('hi'), { coreid: 'api', productId: null, firmwareVersion: null }, 'api') as HookwireEvent;
  assert.equal(eventCarried('ping', Buffer.from('hi'), carriedOf(api)), api);
});

test('anything else is not an event', () => {
  for (const carried of ['', 'not json', '{}', '[1,2,3,4,5]', '["id","at",null,null,null]', '["id","at","c",null]']) {
    assert.is(eventCarried('temp', Buffer.from('1'), carried), undefined, carried);
  }
});

test.run();
