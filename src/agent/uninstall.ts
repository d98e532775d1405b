// Is this agent being uninstalled, or only restarted? On SIGTERM a restarted agent (rolling update,
// node drain, crash loop) must leave the kernel as it is, so no connection drops; an uninstalled
// one (helm uninstall, kubectl delete -k, an Argo CD prune) must remove what it created, as
// `kube-proxy --cleanup` does. The difference is the agent's DaemonSet: gone or being deleted
// means uninstalled. Only a definite answer counts: when the API server cannot be asked (outage,
// timeout), the kernel state stays.
import { KubeApiError, type KubeHttp } from '../kube/index.js';

export type Removal = { removed: true; why: string } | { removed: false; why: string };

interface OwnedObject {
  metadata?: { deletionTimestamp?: string; ownerReferences?: { kind: string; name: string; apiVersion: string }[] };
}

const status = (err: unknown): number | undefined => (err instanceof KubeApiError ? err.status : undefined);

/** An answer the API server gave (or that its refusal gives); anything else is asked again. */
type Attempt = Removal & { definite: boolean };

/**
 * Decides from the pod `namespace/name` (this agent's, from the downward API) and its owner. A
 * read that times out or fails (a loaded or restarting API server) is tried again, `attempts`
 * times in all with `pauseMs` between: each read is bounded by 5 s, so the default three fit the
 * pod's 30 s grace period with the cleanup after them.
 */
export async function agentRemoval(http: Pick<KubeHttp, 'request'>, namespace: string, pod: string, o: { attempts?: number; pauseMs?: number } = {}): Promise<Removal> {
  const attempts = Math.max(1, o.attempts ?? 3);
  let last: Attempt | undefined;
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, o.pauseMs ?? 1000));
    last = await ask(http, namespace, pod);
    if (last.definite) break;
  }
  const { definite: _definite, ...answer } = last!;
  return answer;
}

async function ask(http: Pick<KubeHttp, 'request'>, namespace: string, pod: string): Promise<Attempt> {
  const ns = encodeURIComponent(namespace);
  // Bounded: the pod has terminationGracePeriodSeconds to finish, cleanup included.
  const get = (path: string): Promise<OwnedObject> => http.request<OwnedObject>('GET', path, { timeoutMs: 5000 });
  let self: OwnedObject;
  try {
    self = await get(`/api/v1/namespaces/${ns}/pods/${encodeURIComponent(pod)}`);
  } catch (err) {
    const code = status(err);
    // The release took our ServiceAccount (401) or our RBAC (403) with it.
    if (code === 401 || code === 403) return { removed: true, definite: true, why: `reading this pod answered ${code}: the agent's identity or rights were removed` };
    return { removed: false, definite: false, why: `cannot read this pod: ${(err as Error).message}` };
  }
  const owner = self.metadata?.ownerReferences?.find((o) => o.kind === 'DaemonSet' && o.apiVersion.startsWith('apps/'));
  if (!owner) return { removed: false, definite: true, why: 'this pod has no DaemonSet owner (not run by the chart or deploy/)' };
  try {
    const ds = await get(`/apis/apps/v1/namespaces/${ns}/daemonsets/${encodeURIComponent(owner.name)}`);
    if (ds.metadata?.deletionTimestamp) return { removed: true, definite: true, why: `DaemonSet ${owner.name} is being deleted` };
    return { removed: false, definite: true, why: `DaemonSet ${owner.name} is still there: a restart` };
  } catch (err) {
    const code = status(err);
    if (code === 404) return { removed: true, definite: true, why: `DaemonSet ${owner.name} is gone` };
    if (code === 401 || code === 403) return { removed: true, definite: true, why: `reading DaemonSet ${owner.name} answered ${code}: the agent's identity or rights were removed` };
    return { removed: false, definite: false, why: `cannot read DaemonSet ${owner.name}: ${(err as Error).message}` };
  }
}
