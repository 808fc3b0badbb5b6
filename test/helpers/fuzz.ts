// Seeded random input for the fuzz tests: the same seed gives the same run, so a failure can
// be replayed (HOOKWIRE_FUZZ_SEED=<n>); each run is bounded by a count and a time.

export interface Rng {
  /** [0, 1) */
  next(): number;
  int(max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Buffer;
  /** Text that breaks naive code: quotes, backslashes, braces and mustache tags, control and non-ASCII characters. */
  text(maxLength: number): string;
  /** Any JSON value, nested up to `depth`. */
  json(depth: number): unknown;
}

export const FUZZ_SEED = Number(process.env.HOOKWIRE_FUZZ_SEED ?? 20261128);

/** mulberry32: small, fast and good enough to spread inputs. */
export function rng(seed = FUZZ_SEED): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const PIECES = ['"', '\\', '{{', '}}', '{{{', '}}}', '{{x}}', '{{{PARTICLE_EVENT_VALUE}}}', '{{#a}}', '{{/a}}', '{{^', '\n', '\r\n', '\t', '\u0000',
    '\u001f', 'é', '€', '😀', '\ud800', '/', '#', '+', '$', '%', '&', '=', '?', ' ', 'a', 'Z', '0', '-', '_', 'null', '[]', '{}', ':', ',', '<script>'];
  const r: Rng = {
    next,
    int,
    pick,
    chance: (p) => next() < p,
    bytes: (n) => Buffer.from(Array.from({ length: n }, () => int(256))),
    text(maxLength) {
      let s = '';
      const n = int(maxLength + 1);
      while (s.length < n) s += pick(PIECES);
      return s.slice(0, Math.max(n, 0));
    },
    json(depth): unknown {
      const kind = depth <= 0 ? int(5) : int(7);
      switch (kind) {
        case 0: return null;
        case 1: return r.chance(0.5);
        case 2: return pick([0, -1, 1.5, 1e308, -1e-308, 2 ** 53 + 1, 65536, 70000]);
        case 3: return r.text(40);
        case 4: return pick(['', 'POST', 'GET', 'https://example.com/{{x}}', 'http://127.0.0.1:1/x', 'particle', 'durable', 'admin', 'read', 'temp']);
        case 5: return Array.from({ length: int(4) }, () => r.json(depth - 1));
        default: {
          const keys = ['event', 'url', 'requestType', 'json', 'form', 'query', 'headers', 'auth', 'body', 'name', 'data', 'private', 'ttl',
            'scope', 'product_id', 'retryPolicy', 'responseTopic', 'deviceID', 'status', 'overlap_seconds', 'since', 'publicFields', 'dynamicHost', r.text(10)];
          return Object.fromEntries(Array.from({ length: int(6) }, () => [pick(keys), r.json(depth - 1)]));
        }
      }
    },
  };
  return r;
}
