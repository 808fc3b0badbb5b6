// The integration registry: what is configured (each integration's template, its state and
// counters, its signing keys), held in memory for the hot path and written to the store for
// restarts; the match index over it; and the changes people make (create, replace, patch,
// enable or disable with who and why, signing secrets, delete). The engine reads it through
// `lookup`, `match` and `hostOf`, and stops an integration whose retry schedule ran out
// through `stop`. An integration whose host comes from event data (dynamicHost) never gets a
// signing secret: whoever the device names would receive signed requests.
//
// Bridges sharing a store (PostgreSQL) each hold the integrations in memory: every change is
// announced on the bus ('integration:changed', relayed to the other bridges), and a bridge
// told of a change made elsewhere reads that integration again from the store. A change is
// written as the template, then the status with its revision raised (status.ts), so a batch
// of outcomes from a bridge that has not read the change yet does not undo it; the counters
// are never written whole, only added to (outcomes.ts).

import { randomBytes } from 'node:crypto';
import type { EventBus, HookwireEvent } from '../events/index.ts';
import { NotFoundError, invalidField } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { IntegrationRecord, Store } from '../store/index.ts';
import { parseTemplate, templateOf, type Integration, type WebhookTemplate } from './integration.ts';
import { MatchIndex } from './match.ts';
import type { Notifier } from './notify.ts';
import { KEEP_LOGS, type Entry } from './outcomes.ts';
import { eventView, render } from './render.ts';
import { rotate, type SigningKeys } from './signing.ts';
import { transition } from './state.ts';
import { newStatus, noCounts, readStatus } from './status.ts';
import { hasDynamicOrigin } from './targets.ts';

/** An integration as the engine sees it: its template, its state and counters, its signing keys. */
export interface Registered extends Entry {
  signing?: SigningKeys;
}

/** A person's enable or disable, with who (and why). */
export type AdminChange = { kind: 'enabled'; by: string } | { kind: 'disabled'; by: string; reason: string };

export interface Registry {
  /** Read every stored integration (once, at start). */
  load(): Promise<void>;
  /**
   * On a shared store: read again every integration changed in the store since it was last
   * read, and drop those gone (a change announced while Redis was away never arrived here).
   */
  resync(): Promise<void>;
  /** An integration and its state, for the engine; undefined once deleted. */
  lookup(id: string): Registered | undefined;
  /** The integrations an event triggers. */
  match(event: HookwireEvent): Integration[];
  /** The host an integration's request for `event` goes to: its lane and its throttle score. */
  hostOf(integration: Integration, event: HookwireEvent): string;
  /** The host of an integration whose URL has no template tags (most), else undefined. */
  staticHost(id: string): string | undefined;
  /** An integration (in a product, when scoped); 404 INTEGRATION_NOT_FOUND otherwise. */
  find(id: string, productId?: number | null): Registered;
  /** As `find`, read again from the store first when it is shared: what a person's change starts from. */
  fresh(id: string, productId?: number | null): Promise<Registered>;
  list(productId?: number | null): Integration[];
  /** Validate and store a pasted Particle template; throws naming the field at fault. */
  create(input: unknown, productId: number | null): Promise<Integration>;
  /** A new template; switching `disabled` records who did it. State, counters and signing stay. */
  change(r: Registered, template: WebhookTemplate, by: string): Promise<Integration>;
  setEnabled(r: Registered, change: AdminChange): Promise<Integration>;
  /** A new signing secret (the old one keeps signing for `overlapMs`); returns the secret. */
  rotateSecret(r: Registered, overlapMs: number): Promise<string>;
  removeSecret(r: Registered): Promise<void>;
  remove(id: string): Promise<void>;
  /** The schedule ran out: the integration is disabled (its state says why). */
  stop(entry: Entry): void;
}

export interface RegistryDeps {
  store: Store;
  logger: Logger;
  notifier: Notifier;
  /** Where changes are announced ('integration:changed'), and those made through other bridges heard. */
  bus?: EventBus | undefined;
  /** Other bridges write the same store (PostgreSQL): read changes announced by them, and read before changing. */
  shared?: boolean | undefined;
}

/** The hostname in a URL template, when it has no tags (most do not). */
function hostWithoutTags(url: string): string | undefined {
  const authority = /^https?:\/\/([^/?#]*)/i.exec(url)?.[1];
  if (!authority || authority.includes('{{')) return undefined;
  return new URL(`http://${authority}`).hostname;
}

/** A signing secret is a credential: refuse it where event data chooses the host. */
function refuseSigningWithDynamicHost(template: WebhookTemplate, signed: boolean): void {
  if (template.dynamicHost && signed) {
    invalidField('dynamicHost', 'and a signing secret cannot go together: event data would choose who receives signed requests', 'TEMPLATE_INVALID');
  }
}

/**
 * Stored before device data was kept from choosing the host: such an integration is loaded
 * disabled, with the reason, until someone sets dynamicHost (without credentials) or fixes its URL.
 */
const LEGACY_DYNAMIC_HOST = 'has a template tag in the host or port, which now needs dynamicHost: true (without credentials)';
const isLegacyDynamicHost = (t: WebhookTemplate) => !t.dynamicHost && hasDynamicOrigin(t.url);

function toRecord(r: Registered): IntegrationRecord {
  const i = r.integration;
  return {
    id: i.id, productId: i.productId, template: templateOf(i), createdAt: i.createdAt, updatedAt: i.updatedAt,
    status: r.status, signing: r.signing ?? null,
  };
}

/** An integration as stored, made ready for the engine; throws when the stored template is invalid. */
function fromRecord(record: IntegrationRecord): Registered {
  const integration: Integration = { ...parseTemplate(record.template, { stored: true }), id: record.id, productId: record.productId, createdAt: record.createdAt, updatedAt: record.updatedAt };
  const r: Registered = { integration, status: readStatus(record.status) };
  if (record.signing) r.signing = record.signing as SigningKeys;
  return r;
}

export function createRegistry({ store, logger, notifier, bus, shared = false }: RegistryDeps): Registry {
  const log = logger.child({ component: 'webhooks' });
  const registry = new Map<string, Registered>();
  const hosts = new Map<string, string | undefined>(); // integration → host without tags
  const index = new MatchIndex();

  function register(r: Registered): void {
    registry.set(r.integration.id, r);
    hosts.set(r.integration.id, hostWithoutTags(r.integration.url));
    index.set(r.integration);
  }

  function unregister(id: string): void {
    registry.delete(id);
    hosts.delete(id);
    index.delete(id);
  }

  /**
   * Store a change: a new integration whole; a changed one's template and signing, then its
   * status with the revision raised, its counters added to as a batch of outcomes would
   * (by nothing), so what other bridges counted stays.
   */
  async function save(r: Registered, isNew: boolean): Promise<Integration> {
    if (isNew) {
      await store.integrations.create(toRecord(r));
    } else {
      r.status.revision++;
      const { status: _kept, ...record } = toRecord(r);
      await store.integrations.update(record);
      await store.deliveries.settle({ deliveries: [], statuses: [{ integrationId: r.integration.id, status: r.status, add: noCounts() }], daily: [], logs: [] }, KEEP_LOGS);
    }
    register(r);
    return r.integration;
  }

  /** Tell the bus (and through it the other bridges) that an integration changed, once it is stored. */
  function announce(id: string): void {
    bus?.emit('integration:changed', id);
  }

  /** What each integration was when last read (its template's time, revision, signing keys), to tell which changed since. */
  const readAs = new Map<string, string>();
  const fingerprint = (r: IntegrationRecord) =>
    `${r.updatedAt}\n${(r.status as { revision?: number } | null | undefined)?.revision ?? 0}\n${JSON.stringify(r.signing ?? null)}`;

  let reads = 0;
  /** The read last applied, per integration: a read started before it that answers later is not applied. */
  const applied = new Map<string, number>();

  /**
   * What read number `n` found of integration `id` in the store (changed through another
   * bridge): its template, status and signing keys replace what is held (the same entry,
   * which batches of outcomes may hold), or it is dropped when it is gone. Nothing is announced.
   */
  function adopt(id: string, n: number, record: IntegrationRecord | undefined): void {
    if ((applied.get(id) ?? 0) > n) return; // a read started later was applied already
    applied.set(id, n);
    if (!record) {
      readAs.delete(id);
      return unregister(id);
    }
    readAs.set(id, fingerprint(record));
    let read: Registered;
    try {
      read = fromRecord(record);
    } catch (err) {
      log.error({ err, integrationId: id }, 'stored integration is invalid; dropped');
      return unregister(id);
    }
    const held = registry.get(id);
    if (!held) return register(read);
    held.integration = read.integration;
    held.status = read.status;
    if (read.signing) held.signing = read.signing;
    else delete held.signing;
    register(held);
  }

  /** Read one integration again from the store. */
  async function reload(id: string): Promise<void> {
    const n = ++reads;
    adopt(id, n, await store.integrations.get(id));
  }

  function find(id: string, productId?: number | null): Registered {
    const r = registry.get(id);
    // A product-scoped request only sees that product's integrations.
    if (!r || (productId !== undefined && productId !== null && r.integration.productId !== productId)) {
      throw new NotFoundError('INTEGRATION_NOT_FOUND', `no integration ${id}`);
    }
    return r;
  }

  if (bus && shared) {
    bus.on('integration:changed', (id, from) => {
      if (from === undefined) return; // this bridge's own change: it holds it already
      reload(id).catch((err: unknown) => log.error({ err, integrationId: id }, 'could not read a changed integration from the store'));
    });
  }

  /** Apply a person's enable or disable, with who and why. */
  function applyAdmin(r: Registered, change: AdminChange): void {
    const next = transition(r.status.state, change, r.integration.disabled);
    if (!next) return;
    const now = new Date().toISOString();
    const previous = r.status.state;
    r.status = { ...r.status, state: next.state, reason: next.reason, changedAt: now };
    if (change.kind === 'disabled') {
      r.status.disabledBy = change.by;
      r.status.disabledAt = now;
      r.status.disabledReason = change.reason || null;
    } else {
      r.status.disabledBy = r.status.disabledAt = r.status.disabledReason = null;
      r.status.consecutiveErrors = 0;
    }
    r.integration = { ...r.integration, disabled: change.kind === 'disabled', updatedAt: now };
    if (notifier.changed({ integration: r.integration, status: r.status, previous })) {
      r.status.notifiedAt = now;
      r.status.notifiedState = r.status.state;
    }
  }

  return {
    async load() {
      for (const record of await store.integrations.list()) {
        readAs.set(record.id, fingerprint(record));
        try {
          const r = fromRecord(record);
          const { integration } = r;
          register(r);
          if (isLegacyDynamicHost(integration) && !integration.disabled) {
            log.warn({ integrationId: record.id }, `integration disabled: its url ${LEGACY_DYNAMIC_HOST}`);
            applyAdmin(r, { kind: 'disabled', by: 'hookwire', reason: `its url ${LEGACY_DYNAMIC_HOST}` });
            await save(r, false);
          }
        } catch (err) {
          log.error({ err, integrationId: record.id }, 'stored integration is invalid; skipped');
        }
      }
    },

    async resync() {
      const n = ++reads;
      const records = await store.integrations.list();
      const stored = new Set<string>();
      for (const record of records) {
        stored.add(record.id);
        if (readAs.get(record.id) !== fingerprint(record)) adopt(record.id, n, record);
      }
      for (const id of [...registry.keys()]) if (!stored.has(id)) adopt(id, n, undefined);
    },

    lookup: (id) => registry.get(id),
    match: (event) => index.match(event),

    hostOf(integration, event) {
      const fixed = hosts.get(integration.id);
      if (fixed !== undefined) return fixed;
      try {
        return new URL(render(integration.url, eventView(event))).hostname;
      } catch {
        return ''; // the attempt will fail with TEMPLATE_INVALID
      }
    },
    staticHost: (id) => hosts.get(id),

    find,

    async fresh(id, productId) {
      if (shared) await reload(id);
      return find(id, productId);
    },

    list(productId) {
      const all = [...registry.values()].map((r) => r.integration);
      return productId === undefined || productId === null ? all : all.filter((i) => i.productId === productId);
    },

    async create(input, productId) {
      const template = parseTemplate(input);
      const now = new Date().toISOString();
      const integration = { ...template, id: randomBytes(12).toString('hex'), productId, createdAt: now, updatedAt: now };
      await save({ integration, status: newStatus() }, true);
      announce(integration.id);
      return integration;
    },

    async change(r, template, by) {
      refuseSigningWithDynamicHost(template, r.signing !== undefined);
      const wasDisabled = r.integration.disabled;
      const i = r.integration;
      r.integration = { ...template, disabled: wasDisabled, id: i.id, productId: i.productId, createdAt: i.createdAt, updatedAt: new Date().toISOString() };
      if (template.disabled !== wasDisabled) applyAdmin(r, template.disabled ? { kind: 'disabled', by, reason: '' } : { kind: 'enabled', by });
      await save(r, false);
      announce(i.id);
      return r.integration;
    },

    async setEnabled(r, change) {
      if (change.kind === 'enabled' && isLegacyDynamicHost(r.integration)) invalidField('url', LEGACY_DYNAMIC_HOST, 'TEMPLATE_INVALID');
      applyAdmin(r, change);
      await save(r, false);
      announce(r.integration.id);
      return r.integration;
    },

    async rotateSecret(r, overlapMs) {
      refuseSigningWithDynamicHost(r.integration, true);
      r.signing = rotate(r.signing, overlapMs);
      await save(r, false);
      announce(r.integration.id);
      return r.signing.current;
    },

    async removeSecret(r) {
      delete r.signing;
      await save(r, false);
      announce(r.integration.id);
    },

    async remove(id) {
      await store.integrations.remove(id);
      unregister(id);
      announce(id);
    },

    stop(entry) {
      const r = entry as Registered;
      r.integration = { ...r.integration, disabled: true };
      const id = r.integration.id;
      save(r, false).then(() => announce(id), (err: unknown) => log.error({ err, integrationId: id }, 'could not store a stopped integration'));
    },
  };
}
