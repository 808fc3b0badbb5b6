// Match: which integrations an event triggers. Triggers are string prefixes, so they live in
// a trie keyed by character: an event walks down its own name and collects the integrations
// on the nodes it passes, stopping where no trigger continues. The cost depends on the event
// name, not on how many integrations there are (1,000 cost what 10 do).

import type { HookwireEvent } from '../events/index.ts';
import type { Integration } from './integration.ts';
import { isCloudResponseName } from './names.ts';

interface TrieNode {
  /** Next character (its UTF-16 code) to the node below. */
  next: Map<number, TrieNode>;
  /** Integrations whose trigger ends here. */
  here: Integration[];
}

const node = (): TrieNode => ({ next: new Map(), here: [] });

export class MatchIndex {
  private root = node();
  private byId = new Map<string, Integration>();

  get size(): number {
    return this.byId.size;
  }

  /** Add or replace an integration; disabled ones are kept out (they never match). */
  set(integration: Integration): void {
    this.delete(integration.id);
    if (integration.disabled) return;
    this.byId.set(integration.id, integration);
    let at = this.root;
    for (let i = 0; i < integration.event.length; i++) {
      const c = integration.event.charCodeAt(i);
      let child = at.next.get(c);
      if (!child) at.next.set(c, (child = node()));
      at = child;
    }
    at.here.push(integration);
  }

  delete(id: string): void {
    const existing = this.byId.get(id);
    if (!existing) return;
    this.byId.delete(id);
    // Walk down, remember the path, then prune nodes left empty.
    const path: TrieNode[] = [this.root];
    for (let i = 0; i < existing.event.length; i++) path.push(path[i]!.next.get(existing.event.charCodeAt(i))!);
    const end = path[path.length - 1]!;
    end.here = end.here.filter((i) => i.id !== id);
    for (let i = existing.event.length; i > 0; i--) {
      const n = path[i]!;
      if (n.here.length || n.next.size) break;
      path[i - 1]!.next.delete(existing.event.charCodeAt(i - 1));
    }
  }

  /** Enabled integrations this event triggers: prefix, device and product filters. */
  match(event: HookwireEvent): Integration[] {
    const name = event.name;
    if (isCloudResponseName(name)) return []; // hook-* events never trigger
    let out: Integration[] | undefined;
    let at: TrieNode | undefined = this.root;
    for (let i = 0; i < name.length; i++) {
      at = at.next.get(name.charCodeAt(i));
      if (!at) break;
      for (const integration of at.here) {
        if (integration.deviceID !== undefined && integration.deviceID !== event.coreid) continue;
        if (integration.productId !== null && integration.productId !== event.product_id) continue;
        (out ??= []).push(integration);
      }
    }
    return out ?? NONE;
  }
}

const NONE: Integration[] = [];
