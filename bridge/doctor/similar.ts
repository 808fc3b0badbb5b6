// How close a published event name comes to an integration's trigger (a case-sensitive
// string prefix, PARTICLE.md §1), for integrations that never fire.

/** Shortest published name taken as a cut-short trigger ("temp" for "temperature"). */
const MIN_PREFIX_LENGTH = 3;

export type NameMiss =
  | { kind: 'case'; suggestion: string } // "Temp" vs "temp"
  | { kind: 'prefix'; suggestion: string } // trigger "temperature", published "temp"
  | { kind: 'level'; suggestion: string } // trigger "temp", published "home/temp"
  | { kind: 'typo'; suggestion: string; distance: number }; // "temprature" vs "temperature"

/** Edits allowed for a typo: none for short triggers, where one edit makes another word. */
function allowedEdits(length: number): number {
  return length >= 7 ? 2 : length >= 4 ? 1 : 0;
}

/**
 * The optimal-string-alignment distance (insert, delete, substitute, swap neighbours) from `a`
 * to the closest prefix of `b`, computed in a band of width `max` (anything further is
 * reported as max + 1), and that prefix's length.
 */
export function prefixDistance(a: string, b: string, max: number): { distance: number; length: number } {
  const n = a.length;
  const cols = Math.min(b.length, n + max);
  const far = max + 1;
  // Three rows: the transposition looks two rows back.
  let before = new Array<number>(cols + 1).fill(far);
  let prev = new Array<number>(cols + 1).fill(far);
  let row = new Array<number>(cols + 1).fill(far);
  for (let j = 0; j <= Math.min(cols, max); j++) prev[j] = j;
  for (let i = 1; i <= n; i++) {
    row.fill(far);
    if (i <= max) row[0] = i;
    let least = row[0]!;
    for (let j = Math.max(1, i - max); j <= Math.min(cols, i + max); j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) {
        d = Math.min(d, before[j - 2]! + 1);
      }
      row[j] = Math.min(d, far);
      if (row[j]! < least) least = row[j]!;
    }
    // A whole row over the limit ends it: no later cell can come back under (a swap's cell is
    // bounded by the substitution through this row).
    if (least === far) return { distance: far, length: 0 };
    [before, prev, row] = [prev, row, before];
  }
  // The best prefix, the one closest to the trigger's length on a tie.
  let best = { distance: far, length: 0 };
  for (let j = Math.max(0, n - max); j <= cols; j++) {
    const d = prev[j]!;
    if (d < best.distance || (d === best.distance && Math.abs(j - n) < Math.abs(best.length - n))) best = { distance: d, length: j };
  }
  return best;
}

/**
 * Why `name` misses `trigger` though it nearly matches, or undefined when it matches or is
 * not close. Case and cut-short names first: they are the commonest slips.
 */
export function nameMiss(trigger: string, name: string): NameMiss | undefined {
  if (name.startsWith(trigger)) return undefined;
  const t = trigger.toLowerCase();
  const n = name.toLowerCase();
  if (n.startsWith(t)) return { kind: 'case', suggestion: name.slice(0, trigger.length) };
  if (t.startsWith(n) && name.length >= MIN_PREFIX_LENGTH) return { kind: 'prefix', suggestion: name };
  for (let k = name.indexOf('/'); k >= 0; k = name.indexOf('/', k + 1)) {
    if (n.startsWith(t, k + 1)) return { kind: 'level', suggestion: name.slice(0, k + 1 + trigger.length) };
  }
  const allowed = allowedEdits(t.length);
  if (allowed === 0) return undefined;
  const { distance, length } = prefixDistance(t, n, allowed);
  return distance <= allowed ? { kind: 'typo', suggestion: name.slice(0, length), distance } : undefined;
}
