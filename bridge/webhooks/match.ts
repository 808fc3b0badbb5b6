// Match: which integrations an event triggers. An index keyed by trigger prefix: an event
// looks up each of its own prefixes whose length some trigger has, so the cost depends on
// the name's length, not on how many integrations there are (1,000 cost what 10 do).

import type { HookwireEvent } from '../events/index.ts';
import type { Integration } from './integration.ts';
import { isCloudResponseName } from './names.ts';

export class MatchIndex {
  private byPrefix = new Map<string, Integration[]>();
  /** Distinct trigger lengths, ascending: the only prefix lengths worth looking up. */
  private lengths: number[] = [];
  private byId = new Map<string, Integration>();

  get size(): number {
    return this.byId.size;
  }

  /** Add or replace an integration; disabled ones are kept out (they never match). */
  set(integration: Integration): void {
    this.delete(integration.id);
    if (integration.disabled) return;
    this.byId.set(integration.id, integration);
    const list = this.byPrefix.get(integration.event);
    if (list) list.push(integration);
    else {
      this.byPrefix.set(integration.event, [integration]);
      this.updateLengths();
    }
  }

  delete(id: string): void {
    const existing = this.byId.get(id);
    if (!existing) return;
    this.byId.delete(id);
    const list = this.byPrefix.get(existing.event)!.filter((i) => i.id !== id);
    if (list.length) this.byPrefix.set(existing.event, list);
    else {
      this.byPrefix.delete(existing.event);
      this.updateLengths();
    }
  }

  private updateLengths(): void {
    this.lengths = [...new Set([...this.byPrefix.keys()].map((k) => k.length))].sort((a, b) => a - b);
  }

  /** Enabled integrations this event triggers: prefix, device and product filters. */
  match(event: HookwireEvent): Integration[] {
    const name = event.name;
    if (isCloudResponseName(name)) return []; // hook-* events never trigger
    const out: Integration[] = [];
    for (const len of this.lengths) {
      if (len > name.length) break;
      const list = this.byPrefix.get(len === name.length ? name : name.slice(0, len));
      if (!list) continue;
      for (const i of list) {
        if (i.deviceID !== undefined && i.deviceID !== event.coreid) continue;
        if (i.productId !== null && i.productId !== event.product_id) continue;
        out.push(i);
      }
    }
    return out;
  }
}
