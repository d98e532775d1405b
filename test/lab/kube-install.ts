// Installing the product on a lab site the way users do: `helm install` of charts/lvs-operator, or
// `kubectl apply -k deploy/` with the image set by kustomize. The binaries are the lab's own
// (scripts/k8s-bins.sh); nothing here talks to the API server except through them.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { projectRoot } from './paths.js';
import type { ProductImage, Site } from './kube-site.js';

export const chartDir = join(projectRoot, 'charts/lvs-operator');

/** Runs helm against the site's API server as its admin; throws with helm's stderr on failure. */
export function helm(site: Site, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(site.lab.api.binDir, 'helm'), args, {
      env: { ...process.env, KUBECONFIG: site.lab.api.kubeconfigPath, HELM_CACHE_HOME: join(site.lab.dir, 'helm/cache'), HELM_CONFIG_HOME: join(site.lab.dir, 'helm/config'), HELM_DATA_HOME: join(site.lab.dir, 'helm/data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`helm ${args.join(' ')}: ${err.trim() || out.trim()}`))));
  });
}

/** The values a lab install uses: the image built here (never pulled), and what the lab's nodes need. */
export function labValues(image: Pick<ProductImage, 'repository' | 'tag'>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    image: { repository: image.repository, tag: image.tag, pullPolicy: 'Never' },
    ...extra,
  };
}

export interface HelmRelease {
  release: string;
  namespace: string;
}

/** `helm install --wait` (or upgrade --install); resolves once the Deployment and DaemonSet are Ready. */
export async function helmInstall(site: Site, values: Record<string, unknown>, r: HelmRelease = { release: 'lvs-operator', namespace: 'lvs-system' }, verb: 'install' | 'upgrade' = 'install'): Promise<string> {
  const file = join(site.lab.dir, `values-${Date.now()}.yaml`);
  writeFileSync(file, stringify(values));
  return helm(site, releaseArgs(verb, r, file));
}

/** helm's arguments to install (or upgrade) charts/lvs-operator with a values file and wait for it. */
export function releaseArgs(verb: 'install' | 'upgrade', r: HelmRelease, valuesFile: string): string[] {
  const args = verb === 'install'
    ? ['install', r.release, chartDir, '-n', r.namespace, '--create-namespace']
    : ['upgrade', r.release, chartDir, '-n', r.namespace];
  return [...args, '-f', valuesFile, '--wait', '--timeout', '10m'];
}

/**
 * `kubectl apply -k` of a kustomization on top of deploy/ that sets the image (what a GitOps repo
 * does with `images:`), applied with --server-side as Argo CD and Flux do.
 */
export async function kustomizeApply(site: Site, image: Pick<ProductImage, 'repository' | 'tag'>, patches: object[] = []): Promise<string> {
  const dir = mkdtempSync(join(site.lab.dir, 'kustomize-'));
  cpSync(join(projectRoot, 'deploy'), join(dir, 'base'), { recursive: true });
  writeFileSync(join(dir, 'kustomization.yaml'), stringify({
    apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization',
    resources: ['base'],
    images: [{ name: 'lvs-operator', newName: image.repository, newTag: image.tag }],
    ...(patches.length ? { patches } : {}),
  }));
  try {
    return await site.kubectl(['apply', '--server-side', '-k', dir]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
