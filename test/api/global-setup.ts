// vitest globalSetup of the `api` project: one real etcd + kube-apiserver per run,
// shared by every test file (they isolate themselves by namespace or object name).
import type { TestProject } from 'vitest/node';
import { startApiServer } from './harness.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig (system:masters) of the run's API server. */
    kubeconfig: string;
    /** Directory with kube-apiserver, kubectl, etcd and helm. */
    binDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const api = await startApiServer();
  console.log(`[api] kube-apiserver ${api.server} ready in ${Date.now() - started} ms (bins: ${api.binDir})`);
  project.provide('kubeconfig', api.kubeconfigPath);
  project.provide('binDir', api.binDir);
  return () => api.stop();
}
