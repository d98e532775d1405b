// Client certificates of HTTPS checks (keepalived's global SSL { certificate key ca }), read from
// kubernetes.io/tls Secrets in the operator's namespace, one by name (RBAC grants `get` there and
// nowhere else). Read at start, on every change of the services and on every resync (a rotated
// certificate takes effect then); a change bumps `version` so CheckSync rebuilds those checks.
import type { Logger } from 'pino';
import { isNotFound, type KubeHttp } from '../kube/index.js';
import type { TlsLookup, TlsMaterial } from './health-config.js';

/** A Secret's data (base64 values), undefined when it does not exist. */
export type SecretDataReader = (namespace: string, name: string) => Promise<Record<string, string> | undefined>;

export function apiSecretDataReader(kube: KubeHttp): SecretDataReader {
  return async (namespace, name) => {
    const secret = await kube.request<{ data?: Record<string, string> }>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`)
      .catch((err: unknown) => { if (isNotFound(err)) return undefined; throw err; });
    return secret ? (secret.data ?? {}) : undefined;
  };
}

/** The material of one Secret's data, or why there is none. */
export function tlsMaterial(where: string, data: Record<string, string> | undefined): TlsMaterial {
  if (!data) return { error: `client certificate Secret ${where} not found` };
  const text = (k: string): string | undefined => (data[k] === undefined ? undefined : Buffer.from(data[k], 'base64').toString('utf8'));
  const cert = text('tls.crt');
  const key = text('tls.key');
  if (!cert || !key) return { error: `client certificate Secret ${where} has no tls.crt and tls.key` };
  const ca = text('ca.crt');
  return { cert, key, ...(ca ? { ca } : {}) };
}

const same = (a: TlsMaterial | undefined, b: TlsMaterial): boolean => JSON.stringify(a) === JSON.stringify(b);

export class HealthSecrets {
  private readonly material = new Map<string, TlsMaterial>();
  version = 0;
  private reading: Promise<void> | undefined;
  private again: Set<string> | undefined;

  constructor(private readonly o: { read: SecretDataReader | undefined; namespace: string; log: Logger; onChange: () => void }) {}

  readonly lookup: TlsLookup = (name) => this.material.get(name) ?? (this.o.read ? undefined : { error: `client certificate Secret ${name}: this agent reads no Secrets` });

  /** Reads these Secrets (one read at a time; a call during a read runs once it ends) and forgets the others. */
  update(names: ReadonlySet<string>): Promise<void> {
    if (this.reading) {
      this.again = new Set(names);
      return this.reading;
    }
    this.reading = this.readAll(names).finally(() => {
      this.reading = undefined;
      const next = this.again;
      this.again = undefined;
      if (next) void this.update(next);
    });
    return this.reading;
  }

  private async readAll(names: ReadonlySet<string>): Promise<void> {
    const read = this.o.read;
    if (!read) return;
    let changed = false;
    for (const name of [...this.material.keys()]) if (!names.has(name)) this.material.delete(name);
    for (const name of names) {
      const where = `${this.o.namespace}/${name}`;
      let m: TlsMaterial;
      try {
        m = tlsMaterial(where, await read(this.o.namespace, name));
      } catch (err) {
        // Keep what was read before: an API server away for a while must not fail every check.
        if (this.material.has(name)) continue;
        this.o.log.warn({ err, secret: where }, 'client certificate Secret not readable');
        m = { error: `client certificate Secret ${where} not readable` };
      }
      if ('error' in m) this.o.log.warn({ secret: where, why: m.error }, 'client certificate not available; the HTTPS checks naming it fail');
      if (same(this.material.get(name), m)) continue;
      this.material.set(name, m);
      changed = true;
    }
    if (!changed) return;
    this.version++;
    this.o.onChange();
  }
}
