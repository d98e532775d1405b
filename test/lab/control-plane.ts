// kube-scheduler and kube-controller-manager for a lab cluster of real nodes, on the host beside
// the API server (as a kubeadm control-plane node runs them): Deployments, DaemonSets, ReplicaSets,
// EndpointSlices, ServiceAccounts and their root CA ConfigMaps come from the real controllers.
import { join } from 'node:path';
import type { ApiServer } from '../api/harness.js';
import { spawnTracked } from './reaper.js';
import { openSync, closeSync } from 'node:fs';

/** Starts both; returns their releases (each stops its process group). */
export function startControlPlane(api: ApiServer, logDir: string): (() => Promise<void>)[] {
  const start = (name: string, args: string[]): (() => Promise<void>) => {
    const fd = openSync(join(logDir, `${name}.log`), 'a');
    const { stop } = spawnTracked(join(api.binDir, name), [`--kubeconfig=${api.kubeconfigPath}`, '--leader-elect=false', ...args], { name, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    return stop;
  };
  return [
    start('kube-scheduler', ['--secure-port=0']),
    start('kube-controller-manager', [
      '--secure-port=0',
      `--service-account-private-key-file=${join(api.workDir, 'sa.key')}`,
      `--root-ca-file=${api.caFile}`,
      '--use-service-account-credentials=true',
      // Nodes carry their pod CIDRs in their CNI configuration (kube-node.ts); none to allocate.
      '--allocate-node-cidrs=false',
      // A lab node that is gone is gone: its pods move after 20 s, not 5 min.
      '--node-monitor-grace-period=20s',
    ]),
  ];
}
