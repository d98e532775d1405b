// The lab's workloads as Kubernetes objects: real pods that serve the examples' real servers.
// They run the product image's node with pod-server.mjs from a ConfigMap, so a node imports one
// image for everything (no registry here).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const serverScript = readFileSync(fileURLToPath(new URL('./pod-server.mjs', import.meta.url)), 'utf8');

export const workloadConfigMap = (namespace: string): object => ({
  apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'lab-workload', namespace },
  data: { 'pod-server.mjs': serverScript },
});

interface ServerSpec {
  image: string;
  /** `http <port>`, `https <port> /tls`, `dns <port>`. */
  args: string[];
  /** NAME in answers: the node's name (hostNetwork servers) or the pod's. */
  nameFrom: 'spec.nodeName' | 'metadata.name';
  tlsSecret?: string;
  readiness?: { port: number; scheme: 'HTTP' | 'HTTPS' } | { udp: number };
}

/** A pod template running pod-server.mjs. */
export function serverPod(s: ServerSpec, labels: Record<string, string>, extra: Record<string, unknown> = {}): object {
  const mounts: object[] = [{ name: 'workload', mountPath: '/lab', readOnly: true }];
  const volumes: object[] = [{ name: 'workload', configMap: { name: 'lab-workload' } }];
  if (s.tlsSecret) {
    mounts.push({ name: 'tls', mountPath: '/tls', readOnly: true });
    volumes.push({ name: 'tls', secret: { secretName: s.tlsSecret } });
  }
  const probe = s.readiness && 'port' in s.readiness
    ? { readinessProbe: { httpGet: { path: '/healthz', port: s.readiness.port, scheme: s.readiness.scheme }, periodSeconds: 2 } }
    : {};
  return {
    metadata: { labels },
    spec: {
      terminationGracePeriodSeconds: 5,
      ...extra,
      containers: [{
        name: 'server', image: s.image, imagePullPolicy: 'Never',
        command: ['node', '/lab/pod-server.mjs', ...s.args],
        // The image runs as 65532 by default; the examples' servers listen on :80 and :53.
        securityContext: { runAsUser: 0 },
        env: [{ name: 'NAME', valueFrom: { fieldRef: { fieldPath: s.nameFrom } } }],
        volumeMounts: mounts,
        // A CPU request, as a served workload has: without one the pod is BestEffort (cgroup
        // cpu.weight 1), and on a one-CPU lab node a starting agent pod (Burstable) held it off
        // the CPU for seconds, so accepted connections went unanswered (helm upgrade drill).
        resources: { requests: { cpu: '100m', memory: '32Mi' } },
        ...probe,
      }],
      volumes,
    },
  };
}

/** A DaemonSet of host-network servers on the nodes with `nodeLabel` (real servers of DR/TUN/NAT services). */
export function hostServerDaemonSet(name: string, namespace: string, nodeLabel: string, s: Omit<ServerSpec, 'nameFrom'>): object {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace },
    spec: {
      selector: { matchLabels: labels },
      template: serverPod({ ...s, nameFrom: 'spec.nodeName' }, labels, { hostNetwork: true, nodeSelector: { [nodeLabel]: 'true' } }),
    },
  };
}
