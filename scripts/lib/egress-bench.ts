// The egress check's own cost (scripts/bench.ts --only egress): EgressPolicy.refusal, the
// decision made for every connection a webhook opens (bridge/webhooks/egress.ts), in this
// process, ns per check. A connection is checked up to twice (an IP literal before
// connecting, the socket's address after; a name once per resolved address, then after), and
// connections are kept alive and reused, so an attempt on a warm pool costs no check at all;
// the end-to-end cost is measured by --compare against a checkout without the check.

import { EgressPolicy } from '../../bridge/webhooks/egress.ts';
import { cpuMeter, fmt, machineCpuMs, median, nsPerCall, printTable, selfCpuMs } from './bench.ts';

interface Case {
  name: string;
  policy: EgressPolicy;
  address: string;
  port: number;
}

function cases(): Case[] {
  const builtIn = new EgressPolicy();
  builtIn.addOwnApi([{ address: '127.0.0.1', port: 8080 }]);
  const strict = new EgressPolicy({ deny: ['private', 'loopback', '198.18.0.0/15'], allow: ['10.1.2.3'] });
  strict.addOwnApi([{ address: '0.0.0.0', port: 8080 }]);
  return [
    { name: 'built-in only, public IPv4 (allowed)', policy: builtIn, address: '93.184.216.34', port: 443 },
    { name: 'built-in only, LAN IPv4 (allowed)', policy: builtIn, address: '192.168.1.20', port: 80 },
    { name: 'built-in only, public IPv6 (allowed)', policy: builtIn, address: '2606:2800:220:1:248:1893:25c8:1946', port: 443 },
    { name: 'deny private,loopback; public IPv4 (allowed)', policy: strict, address: '93.184.216.34', port: 443 },
    { name: 'deny private,loopback; 10.1.2.3 (allowed back)', policy: strict, address: '10.1.2.3', port: 80 },
    { name: 'metadata 169.254.169.254 (refused)', policy: builtIn, address: '169.254.169.254', port: 80 },
    { name: "the bridge's own API (refused)", policy: builtIn, address: '127.0.0.1', port: 8080 },
  ];
}

export function runEgress() {
  const all = cases();
  const time = (c: Case, ms: number) => nsPerCall(() => (c.policy.refusal(c.address, c.port) === undefined ? 0 : 1), ms);
  for (const c of all) time(c, 200); // warm-up
  const rounds = 9;
  const ns = all.map(() => [] as number[]);
  const meter = cpuMeter({ bench: selfCpuMs, machine: machineCpuMs });
  for (let r = 0; r < rounds; r++) all.forEach((c, k) => ns[k]!.push(time(c, 100)));
  const cpu = meter.read();
  const others = Math.max(0, cpu.machine! - cpu.bench!);
  const rows = all.map((c, k) => ({ case: c.name, nsPerCheck: median(ns[k]!), min: Math.min(...ns[k]!), max: Math.max(...ns[k]!) }));
  console.log(`\negress check (EgressPolicy.refusal, once or twice per new connection; ${rounds} rounds of 100 ms each, alternating):\n`);
  printTable(['case', 'ns per check (median)', 'min', 'max'], rows.map((r) => [r.case, fmt(r.nsPerCheck, 0), fmt(r.min, 0), fmt(r.max, 0)]));
  console.log(`(Rest of machine: ${fmt(others)} % CPU.)`);
  return { rows, cpu: { ...cpu, others } };
}
