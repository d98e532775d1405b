// Where the agent learns the cluster's desired state. The API source (informers) is the normal
// one; the file source reads the same manifests from disk, for the lab demo and for directors
// that must come up before the API server does.
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import type { Node } from '../kube/types.js';
import { buildSnapshot, IncrementalResolver, type RawSnapshot } from '../model/index.js';
import type { ClusterModel, Snapshot } from '../model/types.js';

export interface SnapshotSource {
  /** The current cluster picture, schema defaults applied, invalid objects set aside. */
  snapshot(): Snapshot;
  /** Called after every change; the agent coalesces. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** Splits multi-document YAML manifests into the snapshot's kinds (others are skipped; Secrets: secretsFromManifests). */
export function rawSnapshotFromManifests(texts: string[], nodes: Node[]): RawSnapshot {
  const raw = { directorGroups: [] as unknown[], virtualServices: [] as unknown[], realServers: [] as unknown[], services: [], endpointSlices: [], nodes };
  for (const text of texts) {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length) throw new Error(`invalid YAML: ${doc.errors[0]!.message}`);
      const obj = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: Record<string, unknown> } | null;
      if (!obj || obj.apiVersion !== 'lvs.dev/v1alpha1') continue;
      // The API server would stamp these; order in the files stands in for creation time.
      const n = raw.directorGroups.length + raw.virtualServices.length + raw.realServers.length;
      obj.metadata = { generation: 1, creationTimestamp: new Date(Date.UTC(2000, 0, 1, 0, 0, n)).toISOString().replace('.000', ''), ...obj.metadata };
      if (obj.kind === 'DirectorGroup') raw.directorGroups.push(obj);
      else if (obj.kind === 'VirtualService') raw.virtualServices.push(obj);
      else if (obj.kind === 'RealServer') raw.realServers.push(obj);
    }
  }
  return raw;
}

/** `namespace/name` -> key -> value of the v1 Secrets in the manifests (`data` base64, `stringData` as is). */
export function secretsFromManifests(texts: string[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const text of texts) {
    for (const doc of parseAllDocuments(text)) {
      const obj = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; data?: Record<string, string>; stringData?: Record<string, string> } | null;
      if (!obj || obj.apiVersion !== 'v1' || obj.kind !== 'Secret' || !obj.metadata?.name) continue;
      const values = new Map<string, string>();
      for (const [k, v] of Object.entries(obj.data ?? {})) values.set(k, Buffer.from(String(v), 'base64').toString('utf8'));
      for (const [k, v] of Object.entries(obj.stringData ?? {})) values.set(k, String(v));
      out.set(`${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`, values);
    }
  }
  return out;
}

/** A fixed snapshot read from manifest files; `reload()` reads them again and notifies. */
export class FileSource implements SnapshotSource {
  private current: Snapshot = buildSnapshot({ directorGroups: [], virtualServices: [], realServers: [], services: [], endpointSlices: [], nodes: [] });
  private secrets = new Map<string, Map<string, string>>();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly files: string[], private readonly nodes: Node[]) {}

  async reload(): Promise<void> {
    const texts = await Promise.all(this.files.map((f) => readFile(f, 'utf8')));
    this.current = buildSnapshot(rawSnapshotFromManifests(texts, this.nodes));
    this.secrets = secretsFromManifests(texts);
    for (const l of this.listeners) l();
  }

  /**
   * A whole Secret of the files, its values base64 as the API serves them: a VRRPv2 password (as a
   * standalone keepalived has its auth_pass), the client certificate of HTTPS checks.
   */
  readonly readSecretData = (namespace: string, name: string): Promise<Record<string, string> | undefined> => {
    const s = this.secrets.get(`${namespace}/${name}`);
    return Promise.resolve(s && Object.fromEntries([...s].map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])));
  };

  snapshot(): Snapshot {
    return this.current;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * A source and the model resolved from it, once per snapshot and incrementally (unchanged
 * services keep their model objects, which the agent's caches key on), shared by everything in
 * the agent that reads the model (the reconcile pass, VRRP).
 */
export class ModelSource {
  private last: { snapshot: Snapshot; model: ClusterModel } | undefined;
  // No RealServer models: nothing in the agent reads them (the controller writes RealServer status).
  private readonly resolver = new IncrementalResolver({ realServers: false });
  /** What the kernel lacks (only the agent knows): the model blocks services that need it. */
  private unsupported: readonly string[] = [];
  private derived: { raw: Snapshot; snapshot: Snapshot } | undefined;

  constructor(readonly source: SnapshotSource) {}

  /** Sets the schedulers this kernel lacks; true when that changed. */
  setUnsupportedSchedulers(list: readonly string[]): boolean {
    const next = [...list].sort();
    if (next.join() === this.unsupported.join()) return false;
    this.unsupported = next;
    this.derived = undefined;
    return true;
  }

  /** The source's snapshot with what this kernel lacks (the same object while neither changes). */
  snapshot(): Snapshot {
    const raw = this.source.snapshot();
    if (this.unsupported.length === 0) return raw;
    if (this.derived?.raw !== raw) this.derived = { raw, snapshot: { ...raw, unsupportedSchedulers: this.unsupported } };
    return this.derived.snapshot;
  }

  model(): ClusterModel {
    const snapshot = this.snapshot();
    if (this.last?.snapshot !== snapshot) this.last = { snapshot, model: this.resolver.resolve(snapshot) };
    return this.last.model;
  }
}
