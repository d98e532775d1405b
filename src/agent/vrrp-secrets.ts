// VRRPv2 PASS passwords, read from the groups' Secrets on every model change (a rotated password
// takes effect with the next change of the cluster state).
import type { Logger } from 'pino';
import { isNotFound, type KubeHttp } from '../kube/index.js';
import type { ClusterModel } from '../model/types.js';

/** Reads one Secret key; undefined when the Secret or the key is missing. */
export type SecretReader = (namespace: string, name: string, key: string) => Promise<string | undefined>;

/** One Secret at a time, by name: RBAC grants the agent `get`, not `list`. */
export function apiSecretReader(kube: KubeHttp): SecretReader {
  return async (namespace, name, key) => {
    const secret = await kube.request<{ data?: Record<string, string> }>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`)
      .catch((err: unknown) => { if (isNotFound(err)) return undefined; throw err; });
    const value = secret?.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
  };
}

/** Group -> password, for the VRRPv2 groups among `groups` that name an auth Secret that could be read. */
export async function vrrpPasswords(model: ClusterModel, groups: Iterable<string>, read: SecretReader | undefined, log: Logger): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!read) return out;
  for (const name of groups) {
    const v = model.groups.get(name)?.group?.spec.vrrp;
    const ref = v?.version === 2 ? v.authSecretRef : undefined;
    if (!ref) continue;
    const value = await read(ref.namespace, ref.name, ref.key).catch((err: unknown) => {
      log.warn({ err, group: name, secret: `${ref.namespace}/${ref.name}` }, 'VRRP auth Secret not readable');
      return undefined;
    });
    if (value === undefined) log.warn({ group: name, secret: `${ref.namespace}/${ref.name}`, key: ref.key }, 'VRRP auth Secret or key missing: adverts go out without PASS auth');
    else out.set(name, value);
  }
  return out;
}
