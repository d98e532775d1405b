// VRRPv2 PASS passwords, read from the groups' Secrets on every model change (a rotated password
// takes effect with the next change of the cluster state).
import type { Logger } from 'pino';
import type { SecretDataReader } from './health-secrets.js';
import type { ClusterModel } from '../model/types.js';

/** Reads one Secret key; undefined when the Secret or the key is missing. */
export type SecretReader = (namespace: string, name: string, key: string) => Promise<string | undefined>;

/** One key of a Secret, from the reader of whole Secrets (API server or manifest files) that HTTPS checks use too. */
export function secretKeyReader(read: SecretDataReader): SecretReader {
  return async (namespace, name, key) => {
    const value = (await read(namespace, name))?.[key];
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
