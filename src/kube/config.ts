import { KubeConfig } from '@kubernetes/client-node';

/**
 * Where to find the API server: an explicit kubeconfig file, else client-node's default
 * order ($KUBECONFIG, ~/.kube/config, then the in-cluster service account).
 */
export function loadKubeConfig(o: { kubeconfig?: string | undefined; context?: string | undefined } = {}): KubeConfig {
  const kc = new KubeConfig();
  if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromDefault();
  if (o.context) kc.setCurrentContext(o.context);
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster configured (give --kubeconfig or run in a cluster)');
  return kc;
}
