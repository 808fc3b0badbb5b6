// The peer of scripts/bench.ts (--only forwarder): what a user would write instead of Hookwire,
// a plain MQTT broker (Mosquitto) and this forwarder. Devices publish `<deviceID>/<event>`
// (a plain broker does not say who published, so the topic must); for each one, the event's
// data `{"t":…,"i":…}` is POSTed as JSON (with the fields Hookwire's default body adds) with
// undici's defaults, then the answer published as Hookwire does: `hook-sent/<event>` (QoS 0,
// empty) once the server answered, the body on `<deviceID>/hook-response/<event>/0` (QoS 1),
// a failure on `<deviceID>/hook-error/<event>/0`. No store, no retries, no per-host lanes.
//
//   npx tsx scripts/forwarder.ts --mqtt mqtt://127.0.0.1:1883 --url http://127.0.0.1:9000/hook [--event bench]
//
// Prints `{"ready": true}` once subscribed. Started by the bench, it exits when the bench goes away.

import type { Socket } from 'node:net';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { request } from 'undici';

const { values } = parseArgs({ options: { mqtt: { type: 'string' }, url: { type: 'string' }, event: { type: 'string', default: 'bench' } }, strict: true });
const { url, event } = values as { url: string; event: string };
const client = await mqtt.connectAsync(values.mqtt!, { clientId: `forwarder-${process.pid}`, protocolVersion: 4, clean: true });
// Nagle off, as Hookwire's broker has it: mqtt.js leaves it on, and then the small packets
// written here (PUBACKs, hook-sent, responses) wait for ACKs: less than half the throughput
// (scripts/lib/peer.ts).
(client.stream as Socket).setNoDelay(true);

client.on('message', async (topic, payload) => {
  const device = topic.slice(0, topic.indexOf('/'));
  if (device === 'hook-sent') return; // our own hook-sent/<event> matches +/<event> too
  const data = payload.toString('utf8');
  try {
    const { t, i } = JSON.parse(data) as { t: string; i: number };
    const json = { t: String(t), i: String(i), event, data, published_at: new Date().toISOString(), coreid: device };
    const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
    const body = await res.body.text();
    client.publish(`hook-sent/${event}`, '', { qos: 0 });
    if (res.statusCode >= 300) throw new Error(`error status ${res.statusCode}`);
    if (body) client.publish(`${device}/hook-response/${event}/0`, body, { qos: 1 });
  } catch (err) {
    client.publish(`${device}/hook-error/${event}/0`, String(err), { qos: 1 });
  }
});
// QoS 1, as the devices publish: an event is not dropped between the broker and the forwarder.
await client.subscribeAsync(`+/${event}`, { qos: 1 });

console.log(JSON.stringify({ ready: true }));
if (process.send) process.on('disconnect', () => process.exit(0));
