// Does a device's MQTT subscription cover an integration's responses? Responses are published
// on `<topic>/<index>`. With the default topic, `<deviceID>/hook-response/<event name>`, the
// name only starts with the trigger, so the family of topics is open: the prefix, any
// continuation, then the index. A custom responseTopic renders to one topic: a closed family.

export interface Family {
  prefix: string;
  /** The prefix's last level may continue (and more levels follow) before the index. */
  open: boolean;
}

/** True when the MQTT filter matches some response topic of the family. */
export function coversFamily(filter: string, family: Family): boolean {
  const f = filter.split('/');
  const p = family.prefix.split('/');
  const last = p.length - 1;
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return true;
    if (family.open) {
      if (i < last) {
        if (level !== '+' && level !== p[i]) return false;
        continue;
      }
      // The partial level starts with p[last]; the index (and maybe more) follows.
      if (level !== '+' && !level.startsWith(p[last]!)) return false;
      return i + 1 < f.length;
    }
    if (i <= last) {
      if (level !== '+' && level !== p[i]) return false;
      continue;
    }
    // The index level, and nothing after it.
    return (level === '+' || /^\d+$/.test(level)) && i + 1 === f.length;
  }
  return false; // the filter ends before any topic of the family does
}

/**
 * True when the filter names this family rather than covering it among much else: its
 * leading levels are literal through the family's prefix (an open family's last level only
 * when it is not empty). `<id>/hook-response/weather/#` names `<id>/hook-response/weather`;
 * `<id>/#` and `<id>/hook-response/#` do not.
 */
export function namesFamily(filter: string, family: Family): boolean {
  const f = filter.split('/');
  const p = family.prefix.split('/');
  const through = family.open && p[p.length - 1] === '' ? p.length - 1 : p.length;
  if (f.length < through) return false;
  for (let i = 0; i < through; i++) if (f[i] === '+' || f[i] === '#') return false;
  return coversFamily(filter, family);
}
