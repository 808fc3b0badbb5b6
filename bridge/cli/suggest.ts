// "Did you mean": the known name nearest to what was typed, when one is near enough to be
// what the person meant (a typo, a dropped or swapped letter, a prefix), else none.

/**
 * Edits between `a` and `b`: insertions, deletions, substitutions, and swaps of two
 * neighbouring letters (optimal string alignment), so `lsit` is one edit from `list`.
 */
export function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The name `typed` most likely meant, or undefined when none is close. */
export function nearest(typed: string, names: readonly string[]): string | undefined {
  const t = typed.toLowerCase();
  // A third of the word may be wrong, at least one letter: `lst` → `list`, not `x` → `bin`.
  const allowed = Math.max(1, Math.floor(t.length / 3));
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = distance(t, name.toLowerCase());
    if (d <= allowed && (!best || d < best.d)) best = { name, d };
  }
  if (best) return best.name;
  const started = names.filter((n) => t.length >= 2 && n.toLowerCase().startsWith(t));
  return started.length === 1 ? started[0] : undefined;
}
