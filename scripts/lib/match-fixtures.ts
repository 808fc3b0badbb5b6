// Integrations and events for the matching measures of scripts/bench.ts: realistic trigger
// prefixes (Particle event names: a few levels of short words, some prefixes sharing their
// start, a few with a device or product filter), drawn from a seeded generator so every run
// measures the same sets.
//
// A "core" of 10 integrations uses the words devices publish; events match 0, 1 or a few of
// them (a third each, roughly). The other integrations of a bigger set live under other fleets' names (`acme12/…`):
// they add trigger lengths and index entries but match none of the events, so the 10 and the
// 1,000 sets give every event the same matches and differ only in size.

import { randomBytes } from 'node:crypto';
import { eventFrom, isRefused, type HookwireEvent, type Publisher } from '../../bridge/events/index.ts';
import { parseTemplate, type Integration } from '../../bridge/webhooks/index.ts';

/** A small seeded PRNG (mulberry32): the same sets on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const WORDS = ['temp', 'temperature', 'humidity', 'sensor', 'door', 'gps', 'battery', 'alarm', 'motion', 'status',
  'weather', 'pump', 'valve', 'meter', 'power', 'light', 'relay', 'tank', 'level', 'water', 'co2', 'pressure',
  'heartbeat', 'boot', 'reading', 'report', 'diag', 'vibration', 'soil', 'window'];
const SUBS = ['room1', 'room2', 'room3', 'kitchen', 'garage', 'north', 'south', 'low', 'high', 'open', 'closed',
  'fix', 'lost', 'raw', 'avg', 'min', 'max', 'v2', 'zone4', 'outdoor'];
const FLEETS = ['acme', 'globex', 'initech', 'umbrella', 'stark', 'wayne', 'tyrell', 'cyberdyne', 'hooli', 'vandelay'];

const pick = <T>(rng: () => number, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
const hex = (rng: () => number, n: number) => Array.from({ length: n }, () => Math.floor(rng() * 16).toString(16)).join('');

export interface Fixture {
  /** Trigger prefix. */
  event: string;
  deviceID?: string;
  productId: number | null;
}

export interface MatchFixtures {
  deviceIds: string[];
  /** The 10 integrations devices' events match. */
  core: Fixture[];
  /** Integrations of other fleets: they never match the events. */
  extra: (count: number) => Fixture[];
  /** Event names of the core's words, matching 0, 1 or a few core integrations. */
  eventNames: (count: number) => string[];
}

export function matchFixtures(seed = 42): MatchFixtures {
  const rng = seeded(seed);
  const deviceIds = Array.from({ length: 100 }, () => hex(rng, 24));
  // Six words with integrations; four of them also with a deeper trigger (a shared prefix).
  const words = [...WORDS].sort(() => rng() - 0.5);
  const coreWords = words.slice(0, 6);
  const core: Fixture[] = coreWords.map((w) => ({ event: w, productId: null }));
  for (const w of coreWords.slice(0, 4)) core.push({ event: `${w}/${pick(rng, SUBS)}`, productId: null });
  core[1]!.deviceID = pick(rng, deviceIds); // one only for a device
  core[7]!.productId = 1234; // one only for a product

  return {
    deviceIds,
    core,
    extra(count) {
      const out: Fixture[] = [];
      for (let i = 0; i < count; i++) {
        const fleet = `${pick(rng, FLEETS)}${Math.floor(rng() * 100)}`;
        const r = rng();
        // Whole words, deeper levels, and a partial last level ("acme3/temp" also matches "acme3/temperature").
        const event = r < 0.4 ? `${fleet}/${pick(rng, WORDS)}`
          : r < 0.8 ? `${fleet}/${pick(rng, WORDS)}/${pick(rng, SUBS)}`
          : `${fleet}/${pick(rng, WORDS).slice(0, 3 + Math.floor(rng() * 4))}`;
        const fixture: Fixture = { event, productId: rng() < 0.1 ? 1000 + Math.floor(rng() * 50) : null };
        if (rng() < 0.1) fixture.deviceID = pick(rng, deviceIds);
        out.push(fixture);
      }
      return out;
    },
    eventNames(count) {
      const deep = core.slice(6).map((f) => f.event);
      const level = (name: string) => (rng() < 0.5 ? name : `${name}/${pick(rng, SUBS)}`);
      return Array.from({ length: count }, () => {
        const r = rng();
        if (r < 0.3) return level(pick(rng, words.slice(6))); // a word no integration has: no match
        if (r < 0.65) return level(pick(rng, coreWords)); // mostly one match
        return level(pick(rng, deep)); // a word and a deeper trigger: two or more
      });
    },
  };
}

/** An Integration as the engine holds it (parsed like a pasted template). */
export function toIntegration(f: Fixture, url = 'https://example.com/hook'): Integration {
  const template = parseTemplate({ event: f.event, url, ...(f.deviceID ? { deviceID: f.deviceID } : {}) });
  const now = new Date().toISOString();
  return { ...template, id: randomBytes(12).toString('hex'), productId: f.productId, createdAt: now, updatedAt: now };
}

/**
 * An event as the bridge makes one from a publish (eventFrom: events are made only there), with
 * a service client's name rules (any valid name); throws if it would be refused.
 */
export function benchEvent(name: string, data: string, from: Publisher): HookwireEvent {
  const event = eventFrom(name, Buffer.from(data), from, 'cloud');
  if (isRefused(event)) throw new Error(`event ${name}: ${event.code} ${event.message}`);
  return event;
}

/** Events from the fleet's devices, a few of them in product 1234. */
export function toEvents(names: string[], deviceIds: string[], seed = 7): HookwireEvent[] {
  const rng = seeded(seed);
  return names.map((name) => benchEvent(name, '21.5', {
    coreid: pick(rng, deviceIds), productId: rng() < 0.2 ? 1234 : null, firmwareVersion: 3,
  }));
}
