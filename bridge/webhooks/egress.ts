// The egress policy: where a webhook may connect. A template's URL, or a device's data in a
// dynamic host, could otherwise point the bridge at the cloud's metadata service (and hand
// its credentials to whoever reads the hook-error), at another machine on a private network,
// or at the bridge's own API. So every connection a webhook opens is checked on the address it
// actually goes to, never on the URL's text: a name is checked on each address it resolves to
// (a lookup that refuses denied addresses, so DNS rebinding gains nothing), an IP literal
// before connecting (the URL parser has already turned 2130706433, 0x7f000001 and 0177.0.0.1
// into 127.0.0.1; BlockList matches ::ffff:127.0.0.1 against IPv4 rules), and the socket's
// remote address once connected, as a last check that no path was missed.
//
// Rules, in order:
//   1. Built-in denies, always on: link-local (169.254.0.0/16, fe80::/10), cloud metadata
//      addresses, the unspecified addresses (0.0.0.0/8 and :: reach this machine on Linux).
//      An HOOKWIRE_EGRESS_ALLOW entry lifts one only when it lies inside it, so a broad
//      allow (0.0.0.0/0) never opens the metadata service by accident.
//   2. The bridge's own API (its HTTP port on the addresses it listens on), except request-bin
//      paths (/bin/...), which users target on purpose. Never lifted.
//   3. HOOKWIRE_EGRESS_DENY, unless an HOOKWIRE_EGRESS_ALLOW entry covers the address.
// Everything else is allowed: private ranges and loopback too, because a self-hosted bridge
// calls things on its own network. `private` and `loopback` name those ranges for a public
// deployment that should not.

import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { networkInterfaces } from 'node:os';

/** The policy as settings: CIDR lists (or range names), plain data so a sending thread gets the same. */
export interface EgressRules {
  /** Denied on top of the built-in denies (HOOKWIRE_EGRESS_DENY). */
  deny: string[];
  /** Allowed even when denied; lifts a built-in deny only from inside it (HOOKWIRE_EGRESS_ALLOW). */
  allow: string[];
}

export const egressDefaults: EgressRules = { deny: [], allow: [] };

/** An address the bridge's own API listens on. */
export interface ListenAddress {
  address: string;
  port: number;
}

type Family = 'ipv4' | 'ipv6';

interface Range {
  address: string;
  prefix: number;
  family: Family;
}

/** Why an address is refused: the rule's name, as the error shows it. */
export type DenyReason = 'link-local' | 'cloud metadata' | 'unspecified address' | "the bridge's own API" | 'HOOKWIRE_EGRESS_DENY';

interface BuiltIn {
  reason: DenyReason;
  ranges: string[];
}

/**
 * Always denied. Metadata services: AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack and
 * Hetzner answer on 169.254.169.254 (inside link-local, listed for its own name), AWS on
 * fd00:ec2::254 over IPv6, Alibaba on 100.100.100.200; Azure's WireServer 168.63.129.16
 * hands out VM configuration to anything on the VM.
 */
const BUILT_IN: BuiltIn[] = [
  { reason: 'cloud metadata', ranges: ['169.254.169.254/32', 'fd00:ec2::254/128', '100.100.100.200/32', '168.63.129.16/32'] },
  { reason: 'link-local', ranges: ['169.254.0.0/16', 'fe80::/10'] },
  { reason: 'unspecified address', ranges: ['0.0.0.0/8', '::/128'] },
];

/** Range names an operator can write instead of CIDRs. */
const NAMED_RANGES: Record<string, string[]> = {
  // RFC 1918, carrier-grade NAT (RFC 6598), IPv6 unique local (RFC 4193).
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'],
  loopback: ['127.0.0.0/8', '::1/128'],
};

/** A bad entry in a CIDR list; `entry` is the text at fault. */
export class EgressRuleError extends Error {
  constructor(readonly entry: string, why: string) {
    super(`${JSON.stringify(entry)} ${why}`);
    this.name = 'EgressRuleError';
  }
}

function parseRange(entry: string): Range {
  const slash = entry.indexOf('/');
  const address = (slash < 0 ? entry : entry.slice(0, slash)).trim();
  const version = isIP(address);
  if (version === 0) throw new EgressRuleError(entry, 'is not an IP address or CIDR range (e.g. 10.0.0.0/8, fd00::/8), nor private or loopback');
  const max = version === 4 ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : entry.slice(slash + 1).trim();
  const prefix = Number(prefixText);
  if (!/^\d+$/.test(prefixText) || prefix > max) throw new EgressRuleError(entry, `has a prefix length outside 0-${max}`);
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A comma-separated list of CIDRs, addresses and range names; throws EgressRuleError naming the entry. */
export function parseRangeList(text: string | string[]): Range[] {
  const entries = (Array.isArray(text) ? text : text.split(',')).map((e) => e.trim()).filter((e) => e !== '');
  return entries.flatMap((entry) => (NAMED_RANGES[entry.toLowerCase()] ?? [entry]).map(parseRange));
}

function blockList(ranges: Range[]): BlockList {
  const list = new BlockList();
  for (const r of ranges) list.addSubnet(r.address, r.prefix, r.family);
  return list;
}

/** Whether `inner` lies inside `outer`. */
function within(inner: Range, outer: Range): boolean {
  return inner.family === outer.family && inner.prefix >= outer.prefix && blockList([outer]).check(inner.address, inner.family);
}

const familyOf = (address: string): Family => (address.includes(':') ? 'ipv6' : 'ipv4');

/** Whether an address lies in one of `ranges` (IPv4-mapped IPv6 spellings match IPv4 ranges). */
export function rangeMatcher(ranges: Range[]): (address: string) => boolean {
  const list = blockList(ranges);
  return (address) => list.check(address, familyOf(address));
}

/** NAT64's well-known prefix (RFC 6052) carries an IPv4 address a local gateway would reach. */
const NAT64 = blockList([parseRange('64:ff9b::/96')]);

/** The IPv4 address inside a NAT64 address (64:ff9b::a9fe:a9fe → 169.254.169.254). */
function nat64Inner(address: string): string | undefined {
  // The text test first (addresses come canonical from the URL parser, DNS and sockets): a
  // BlockList check costs a microsecond, and most IPv6 addresses are not NAT64.
  if (!/^[0:]*64:ff9b:/i.test(address) || !NAT64.check(address, 'ipv6')) return undefined;
  const tail = address.slice(address.lastIndexOf(':') + 1);
  if (tail.includes('.')) return tail; // written 64:ff9b::169.254.169.254
  const groups = address.split(':');
  const hi = parseInt(groups.at(-2) || '0', 16);
  const lo = parseInt(tail || '0', 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Addresses that reach a server listening on `address` (a wildcard listens on every interface). */
function reachableAt(address: string): Range[] {
  if (address !== '0.0.0.0' && address !== '::') return [parseRange(address)];
  const local = Object.values(networkInterfaces()).flat().filter((i) => i !== undefined);
  const v4 = [parseRange('127.0.0.0/8'), ...local.filter((i) => i.family === 'IPv4').map((i) => parseRange(i.address))];
  if (address === '0.0.0.0') return v4;
  // An IPv6 wildcard is dual-stack: IPv4 connections reach it too.
  return [...v4, parseRange('::1'), ...local.filter((i) => i.family === 'IPv6').map((i) => parseRange(i.address.split('%')[0]!))];
}

/** Resolves a name to every address it has (dns.lookup with all: true; tests give their own). */
export type Resolve = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** The error a refused connection fails with: code EGRESS_DENIED. */
export class EgressDeniedError extends Error {
  readonly code = 'EGRESS_DENIED';
  constructor(readonly reason: DenyReason) {
    super(`refused by the egress policy (${reason})`);
    this.name = 'EgressDeniedError';
  }
}

export class EgressPolicy {
  /** Built-in and configured denies together: one check answers "allowed" for most addresses. */
  private readonly anyDeny: BlockList;
  /** Each built-in deny, with the ALLOW entries inside it: the only ones that lift it. */
  private readonly builtIn: { reason: DenyReason; list: BlockList; lift: BlockList }[];
  private readonly deny: BlockList;
  private readonly allow: BlockList;
  /** The bridge's own API: the addresses it listens on, by port. */
  private readonly ownApi = new Map<number, BlockList>();

  constructor(rules: EgressRules = egressDefaults, private readonly resolve: Resolve = dnsLookup) {
    const deny = parseRangeList(rules.deny);
    const allow = parseRangeList(rules.allow);
    const builtIn = BUILT_IN.map((b) => ({ reason: b.reason, ranges: b.ranges.map(parseRange) }));
    this.builtIn = builtIn.map((b) => ({
      reason: b.reason,
      list: blockList(b.ranges),
      lift: blockList(allow.filter((a) => b.ranges.some((r) => within(a, r)))),
    }));
    this.deny = blockList(deny);
    this.allow = blockList(allow);
    this.anyDeny = blockList([...builtIn.flatMap((b) => b.ranges), ...deny]);
  }

  /** The bridge's API listens at these addresses: refuse them, except for request-bin paths. */
  addOwnApi(listening: ListenAddress[]): void {
    for (const { address, port } of listening) {
      let list = this.ownApi.get(port);
      if (!list) this.ownApi.set(port, (list = new BlockList()));
      for (const r of reachableAt(address)) list.addSubnet(r.address, r.prefix, r.family);
    }
  }

  /** Why a connection to `address` is refused, or undefined when it may go ahead. */
  refusal(address: string, port?: number, toRequestBin = false): DenyReason | undefined {
    const family = familyOf(address);
    if (port !== undefined && !toRequestBin && this.ownApi.get(port)?.check(address, family)) return "the bridge's own API";
    const inner = nat64Inner(address);
    if (inner !== undefined) return this.refusal(inner, port, toRequestBin);
    if (!this.anyDeny.check(address, family)) return undefined;
    for (const b of this.builtIn) if (b.list.check(address, family) && !b.lift.check(address, family)) return b.reason;
    return this.deny.check(address, family) && !this.allow.check(address, family) ? 'HOOKWIRE_EGRESS_DENY' : undefined;
  }

  /**
   * A DNS lookup that connects only to allowed addresses: those the policy refuses are
   * dropped, and a name with none left fails with EGRESS_DENIED before any connection.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const all: LookupAllOptions = { ...options, all: true };
    this.resolve(hostname, all, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const allowed = addresses.filter((a) => this.refusal(a.address) === undefined);
      if (allowed.length === 0) {
        const reason = addresses.length ? this.refusal(addresses[0]!.address)! : 'HOOKWIRE_EGRESS_DENY';
        return callback(new EgressDeniedError(reason), '', 0);
      }
      if (options.all) callback(null, allowed);
      else callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
