// What a person sees: a status line while the fleet runs, and a summary at the end.

import type { Status, Summary } from './fleet.ts';

const n = (value: number) => value.toLocaleString('en-US');

/** One line: what the fleet is doing now. */
export function formatStatus(s: Status): string {
  if (s.phase === 'registering') return `registering devices ${n(s.registered)}/${n(s.devices)}`;
  if (s.phase === 'connecting') return `connecting ${n(s.connected)}/${n(s.devices)}`;
  return [
    `${s.elapsedS.toFixed(1)}s`,
    `connected ${n(s.connected)}/${n(s.devices)}`,
    `published ${n(s.published)}`,
    `acked ${n(s.acknowledged)}`,
    `responses ${n(s.responses)}`,
    `errors ${n(s.errors)}`,
    ...(s.skipped ? [`skipped ${n(s.skipped)}`] : []),
    `${s.rate.toFixed(1)}/s`,
    ...(s.phase === 'publishing' ? [] : [`(${s.phase})`]),
  ].join('  ');
}

/** The end-of-run report, one line per figure. */
export function formatSummary(s: Summary): string[] {
  const codes = Object.entries(s.errorsByCode).map(([code, times]) => `${code} ×${n(times)}`).join(', ');
  const rows: [string, string][] = [
    ['connected', `${n(s.connected)}/${n(s.devices)}`],
    ['published', n(s.published)],
    ['acknowledged', `${n(s.acknowledged)}  (${s.rate.toFixed(1)}/s)`],
    ['responses', n(s.responses)],
    ['refused', n(s.refused)],
    ['errors', codes ? `${n(s.errors)}  (${codes})` : n(s.errors)],
    ['skipped', n(s.skipped)],
  ];
  const devices = `${n(s.devices)} device${s.devices === 1 ? '' : 's'}`;
  return [
    s.durationS > 0 ? `Simulated ${devices} publishing for ${s.durationS.toFixed(1)} s` : `Simulated ${devices}: stopped before publishing`,
    ...rows.map(([label, value]) => `  ${label.padEnd(13)} ${value}`),
  ];
}

/** Plain status lines (stdout not a terminal: a log, a pipe) come at most this often. */
const PLAIN_INTERVAL_MS = 1_000;

export interface StatusLine {
  update(status: Status): void;
  /** A note for the person, on stderr, without garbling the status line. */
  note(line: string): void;
  /** Clear the status line, so what follows starts on a clean line. */
  end(): void;
}

/**
 * On a terminal, one line rewritten in place with `\r`. Elsewhere `\r` would only litter
 * the output, so each update is a plain line, at most once a second.
 */
export function statusLine(out: NodeJS.WriteStream, err: NodeJS.WriteStream): StatusLine {
  const tty = out.isTTY === true;
  let showing = false;
  let lastPlain = 0;
  const clear = () => {
    if (!showing) return;
    out.write('\r\x1b[K');
    showing = false;
  };
  return {
    update(status) {
      if (status.phase === 'done') return;
      if (tty) {
        out.write(`\r${formatStatus(status)}\x1b[K`);
        showing = true;
      } else if (Date.now() - lastPlain >= PLAIN_INTERVAL_MS) {
        lastPlain = Date.now();
        out.write(formatStatus(status) + '\n');
      }
    },
    note(line) {
      clear();
      err.write(line + '\n');
    },
    end: clear,
  };
}
