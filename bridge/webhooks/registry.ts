// The integration registry: what is configured (each integration's template, its state and
// counters, its signing keys), held in memory for the hot path and written to the store for
// restarts; the match index over it; and the changes people make (create, replace, patch,
// enable or disable with who and why, signing secrets, delete). The engine reads it through
// `lookup`, `match` and `hostOf`, and stops an integration whose retry schedule ran out
// through `stop`. An integration whose host comes from event data (dynamicHost) never gets a
// signing secret: whoever the device names would receive signed requests.

import { randomBytes } from 'node:crypto';
import type { HookwireEvent } from '../events/index.ts';
import { NotFoundError, invalidField } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { IntegrationRecord, Store } from '../store/index.ts';
import { parseTemplate, templateOf, type Integration, type WebhookTemplate } from './integration.ts';
import { MatchIndex } from './match.ts';
import type { Notifier } from './notify.ts';
import type { Entry } from './outcomes.ts';
import { eventView, render } from './render.ts';
import { rotate, type SigningKeys } from './signing.ts';
import { transition } from './state.ts';
import { newStatus, readStatus } from './status.ts';
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

export function createRegistry({ store, logger, notifier }: RegistryDeps): Registry {
  const log = logger.child({ component: 'webhooks' });
  const registry = new Map<string, Registered>();
  const hosts = new Map<string, string | undefined>(); // integration → host without tags
  const index = new MatchIndex();

  function register(r: Registered): void {
    registry.set(r.integration.id, r);
    hosts.set(r.integration.id, hostWithoutTags(r.integration.url));
    index.set(r.integration);
  }

  async function save(r: Registered, isNew: boolean): Promise<Integration> {
    if (isNew) await store.integrations.create(toRecord(r));
    else await store.integrations.update(toRecord(r));
    register(r);
    return r.integration;
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
        try {
          const integration: Integration = { ...parseTemplate(record.template, { stored: true }), id: record.id, productId: record.productId, createdAt: record.createdAt, updatedAt: record.updatedAt };
          const r: Registered = { integration, status: readStatus(record.status) };
          if (record.signing) r.signing = record.signing as SigningKeys;
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

    find(id, productId) {
      const r = registry.get(id);
      // A product-scoped request only sees that product's integrations.
      if (!r || (productId !== undefined && productId !== null && r.integration.productId !== productId)) {
        throw new NotFoundError('INTEGRATION_NOT_FOUND', `no integration ${id}`);
      }
      return r;
    },

    list(productId) {
      const all = [...registry.values()].map((r) => r.integration);
      return productId === undefined || productId === null ? all : all.filter((i) => i.productId === productId);
    },

    async create(input, productId) {
      const template = parseTemplate(input);
      const now = new Date().toISOString();
      const integration = { ...template, id: randomBytes(12).toString('hex'), productId, createdAt: now, updatedAt: now };
      return save({ integration, status: newStatus() }, true);
    },

    async change(r, template, by) {
      refuseSigningWithDynamicHost(template, r.signing !== undefined);
      const wasDisabled = r.integration.disabled;
      const i = r.integration;
      r.integration = { ...template, disabled: wasDisabled, id: i.id, productId: i.productId, createdAt: i.createdAt, updatedAt: new Date().toISOString() };
      if (template.disabled !== wasDisabled) applyAdmin(r, template.disabled ? { kind: 'disabled', by, reason: '' } : { kind: 'enabled', by });
      return save(r, false);
    },

    async setEnabled(r, change) {
      if (change.kind === 'enabled' && isLegacyDynamicHost(r.integration)) invalidField('url', LEGACY_DYNAMIC_HOST, 'TEMPLATE_INVALID');
      applyAdmin(r, change);
      return save(r, false);
    },

    async rotateSecret(r, overlapMs) {
      refuseSigningWithDynamicHost(r.integration, true);
      r.signing = rotate(r.signing, overlapMs);
      await save(r, false);
      return r.signing.current;
    },

    async removeSecret(r) {
      delete r.signing;
      await save(r, false);
    },

    async remove(id) {
      await store.integrations.remove(id);
      registry.delete(id);
      hosts.delete(id);
      index.delete(id);
    },

    stop(entry) {
      const r = entry as Registered;
      r.integration = { ...r.integration, disabled: true };
      void save(r, false);
    },
  };
}
