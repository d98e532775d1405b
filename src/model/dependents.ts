import type { VirtualService } from '../api/index.js';
import { addTo, removeFrom } from './multimap.js';

/**
 * Which VirtualServices a RealServer, Service or EndpointSlice can matter to, so a change of
 * one re-resolves those services only. A selector with matchLabels is filed under its first
 * pair (every RealServer it matches carries that pair); one without is filed as "any label".
 */
export class DependentIndex {
  /** `namespace`, `k=v` → VirtualService keys. */
  private readonly byLabel = new Map<string, Map<string, Set<string>>>();
  /** `namespace` → keys of VirtualServices whose selector has no matchLabels. */
  private readonly anyLabel = new Map<string, Set<string>>();
  /** `namespace/service` → VirtualService keys. */
  private readonly byService = new Map<string, Set<string>>();

  add(key: string, vs: VirtualService): void {
    this.file(key, vs, addTo);
  }

  remove(key: string, vs: VirtualService): void {
    this.file(key, vs, removeFrom);
  }

  /** Visits the services whose selector may match these labels (callers match to be sure). */
  forLabels(namespace: string, labels: Readonly<Record<string, string>> | undefined, visit: (key: string) => void): void {
    for (const key of this.anyLabel.get(namespace) ?? []) visit(key);
    const pairs = this.byLabel.get(namespace);
    if (!pairs || !labels) return;
    for (const k in labels) for (const key of pairs.get(`${k}=${labels[k]}`) ?? []) visit(key);
  }

  /** Visits the services whose backends name this Service. */
  forService(namespace: string, name: string, visit: (key: string) => void): void {
    for (const key of this.byService.get(`${namespace}/${name}`) ?? []) visit(key);
  }

  private file(key: string, vs: VirtualService, op: (map: Map<string, Set<string>>, k: string, v: string) => void): void {
    const namespace = vs.metadata.namespace ?? '';
    const { realServerSelector: selector, service } = vs.spec.backends;
    if (service) op(this.byService, `${namespace}/${service.name}`, key);
    if (!selector) return;
    const first = Object.entries(selector.matchLabels ?? {})[0];
    if (!first) {
      op(this.anyLabel, namespace, key);
      return;
    }
    let pairs = this.byLabel.get(namespace);
    if (!pairs) {
      pairs = new Map();
      this.byLabel.set(namespace, pairs);
    }
    op(pairs, `${first[0]}=${first[1]}`, key);
  }
}
