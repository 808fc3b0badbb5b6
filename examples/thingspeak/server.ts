// A stand-in for ThingSpeak's update API, https://api.thingspeak.com/update, the URL in
// template.json. It answers as the real one does: the channel's write key in `api_key` (or
// the THINGSPEAKAPIKEY header), values in field1..field8 (and lat, long, elevation, status),
// form-encoded in a POST or in the query of a GET; the answer is the new entry's ID as plain
// text, or `0` when nothing was stored. Entries are kept in memory, numbered from 1.

import { serve, type Exchange, type StandIn, type StandInRequest, type StandInResponse } from '../lib/stand-in.ts';

/** The values ThingSpeak's update takes besides the key. */
const VALUE_FIELDS = ['field1', 'field2', 'field3', 'field4', 'field5', 'field6', 'field7', 'field8', 'lat', 'long', 'elevation', 'status'];

export interface Entry {
  entry_id: number;
  created_at: string;
  /** field1..field8 and the others, as sent (ThingSpeak stores text). */
  [field: string]: string | number;
}

export interface ThingSpeakStandIn extends StandIn {
  /** The channel's write API key; updates with another key are not stored. */
  writeKey: string;
  /** The channel's entries, oldest first. */
  entries: Entry[];
}

export interface ThingSpeakOptions {
  /** Default `YOUR_WRITE_KEY`, the placeholder in template.json. */
  writeKey?: string;
  /** Told about every request and its answer (for the transcript). */
  onExchange?: Exchange;
}

const text = (body: string): StandInResponse => ({ status: 200, type: 'text/plain', body });

export async function startThingSpeak(options: ThingSpeakOptions = {}): Promise<ThingSpeakStandIn> {
  const writeKey = options.writeKey ?? 'YOUR_WRITE_KEY';
  const entries: Entry[] = [];

  function update(req: StandInRequest): StandInResponse {
    if (req.path !== '/update') return { status: 404, type: 'text/plain', body: 'error_resource_not_found' };
    if (req.method !== 'POST' && req.method !== 'GET') return { status: 405, type: 'text/plain', body: 'error_method_invalid' };
    // A GET carries everything in the query; a POST in a form body (the query counts too).
    const params = new URLSearchParams(req.query);
    if (req.method === 'POST') for (const [k, v] of new URLSearchParams(req.body)) params.set(k, v);
    const key = params.get('api_key') ?? req.headers.thingspeakapikey;
    // `0` is ThingSpeak's "not stored": a wrong key, or nothing to store.
    if (key !== writeKey) return text('0');
    const values = VALUE_FIELDS.filter((f) => params.has(f));
    if (values.length === 0) return text('0');
    const entry: Entry = { entry_id: entries.length + 1, created_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    for (const f of values) entry[f] = params.get(f)!;
    entries.push(entry);
    return text(String(entry.entry_id));
  }

  const server = await serve(update, options.onExchange);
  return { ...server, writeKey, entries };
}
