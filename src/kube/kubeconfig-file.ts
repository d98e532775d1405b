// Kubeconfig files whose credentials are plain data (certificates, keys, tokens, basic auth), read
// without @kubernetes/client-node: importing client-node is most of a start in the lab kernel
// (seconds), and only exec and auth-provider plugins need it. Same rules as kubectl: the current
// context (or the one named), `*-data` before the file forms, relative paths against the file's
// directory, a token file re-read as it rotates.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import type { ClusterAccess, RequestAuth } from './config.js';

type Named = { name?: string } & Record<string, unknown>;

interface ClusterEntry {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}

interface UserEntry {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: unknown;
  'auth-provider'?: unknown;
  as?: string;
  'as-groups'?: unknown;
  'as-user-extra'?: unknown;
}

interface KubeconfigDoc {
  'current-context'?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
}

/** The kubelet and others rotate token files; re-read like client-go (once a minute). */
const tokenRereadMs = 60_000;

function entry<T>(list: Named[] | undefined, name: string, field: string, file: string): T {
  const found = (list ?? []).find((x) => x.name === name);
  if (!found) throw new Error(`${file}: no ${field} named ${JSON.stringify(name)}`);
  return (found[field] ?? {}) as T;
}

/**
 * The access a kubeconfig file describes, or undefined when it needs client-node (an exec or
 * auth-provider plugin, impersonation, a proxy): the caller then loads client-node.
 */
export function staticKubeconfig(file: string, context?: string, now: () => number = Date.now): ClusterAccess | undefined {
  const doc = (parse(readFileSync(file, 'utf8')) ?? {}) as KubeconfigDoc;
  const ctxName = context ?? doc['current-context'];
  if (!ctxName) throw new Error(`${file}: no current-context`);
  const ctx = entry<{ cluster?: string; user?: string; namespace?: string }>(doc.contexts, ctxName, 'context', file);
  if (!ctx.cluster) throw new Error(`${file}: context ${JSON.stringify(ctxName)} names no cluster`);
  const cluster = entry<ClusterEntry>(doc.clusters, ctx.cluster, 'cluster', file);
  const user = ctx.user ? entry<UserEntry>(doc.users, ctx.user, 'user', file) : {};
  if (user.exec || user['auth-provider'] || user.as || user['as-groups'] || user['as-user-extra'] || cluster['proxy-url']) return undefined;
  if (!cluster.server) throw new Error(`${file}: cluster ${JSON.stringify(ctx.cluster)} has no server`);
  const base = dirname(file);
  const path = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  const material = (data: string | undefined, path_: string | undefined): Buffer | undefined =>
    data ? Buffer.from(data, 'base64') : path_ ? readFileSync(path(path_)) : undefined;
  const ca = material(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = material(user['client-certificate-data'], user['client-certificate']);
  const key = material(user['client-key-data'], user['client-key']);
  let token = { text: user.token ?? '', readAt: -Infinity };
  const currentToken = (): string => {
    if (!user.token && user.tokenFile && now() - token.readAt >= tokenRereadMs) token = { text: readFileSync(path(user.tokenFile), 'utf8').trim(), readAt: now() };
    return token.text;
  };
  currentToken(); // a missing token file is an error now, not at the first request
  const basic = user.username !== undefined ? `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}` : undefined;
  return {
    server: cluster.server,
    source: file,
    namespace: ctx.namespace,
    requestOptions(): Promise<RequestAuth> {
      const bearer = currentToken();
      const headers: Record<string, string> = bearer ? { Authorization: `Bearer ${bearer}` } : basic ? { Authorization: basic } : {};
      return Promise.resolve({
        ca, cert, key, headers,
        ...(cluster['insecure-skip-tls-verify'] ? { rejectUnauthorized: false } : {}),
        ...(cluster['tls-server-name'] ? { servername: cluster['tls-server-name'] } : {}),
      });
    },
  };
}
