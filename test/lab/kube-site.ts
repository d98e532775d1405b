// A site as users run lvs-operator: a Kubernetes cluster of real nodes (kube-node.ts) on a LAN,
// director nodes and real-server nodes, a client on the LAN, the product image built from the
// repository's Dockerfile (scripts/image/build.sh) and imported into every node. The product is
// then installed the way users install it (kube-install.ts): Helm or kustomize.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabCluster } from './cluster.js';
import type { KubectlResult } from '../api/harness.js';
import { startKubeNode, type KubeNodeHandle } from './kube-node.js';
import type { Netns } from './netns.js';
import { projectRoot } from './paths.js';

export interface SiteNode {
  name: string;
  /** Address on the LAN (first three octets from the site's subnet). */
  host: number;
  labels?: Record<string, string>;
  /** More NICs on other segments: bridge name and address (CIDR). */
  nics?: { bridge: string; cidr: string }[];
  setup?: string[];
}

export interface SiteOptions {
  name: string;
  /** First three octets of the LAN; the host (API server) is .1. */
  subnet: string;
  nodes: SiteNode[];
  /** The client's last octet on the LAN. */
  client?: number;
  memMb?: number;
  progress?: (line: string) => void;
}

export interface ProductImage {
  /** The image reference kubelet finds in every node's containerd (e.g. docker.io/library/lvs-operator:0.1.0-abc). */
  ref: string;
  repository: string;
  tag: string;
  tar: string;
  /** Whether this run built it (false: found in the cache). */
  built: boolean;
  ms: number;
}

export interface Site {
  lab: LabCluster;
  image: ProductImage;
  nodes: Map<string, KubeNodeHandle>;
  client: Netns;
  /** kubectl as the cluster admin; throws with stderr on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** kubectl, never throwing. */
  kubectlRaw(args: string[], input?: string): Promise<KubectlResult>;
  destroy(): Promise<void>;
}

/** Runs a build script; resolves with its last stdout line; its progress (stderr) goes to `progress`. */
export function runScript(script: string, args: string[], progress?: (l: string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(projectRoot, script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      for (const l of d.split('\n')) if (l.trim()) progress?.(l.trim());
    });
    child.once('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code === 0 && last) resolve(last);
      else reject(new Error(`${script} ${args.join(' ')} failed (${code}): ${err.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

/** The product image of the current sources: built by scripts/image/build.sh, or found in its cache. */
export async function productImage(progress?: (l: string) => void): Promise<ProductImage> {
  const t0 = Date.now();
  // LVS_IMAGE_TAR: an image archive built before (with its .ref beside it), e.g. another version.
  const given = process.env['LVS_IMAGE_TAR'];
  // build.sh's last line: the archive, a tab, and what it did (`built` or `cached`).
  const [tar = '', did] = given ? [given, 'cached'] : (await runScript('scripts/image/build.sh', ['ensure'], progress)).split('\t');
  const built = did === 'built';
  const ref = readFileSync(`${tar}.ref`, 'utf8').trim();
  const at = ref.lastIndexOf(':');
  return { ref, repository: ref.slice(0, at), tag: ref.slice(at + 1), tar, built, ms: Date.now() - t0 };
}

export async function createSite(o: SiteOptions): Promise<Site> {
  const say = (l: string): void => o.progress?.(l);
  const [image, pause] = await Promise.all([
    productImage((l) => say(l)),
    runScript('test/lab/images/build-pause.sh', []),
  ]);
  const lab = await LabCluster.create({ name: o.name, subnet: o.subnet, kubernetes: true, progress: say });
  const nodes = new Map<string, KubeNodeHandle>();
  try {
    say(`lab: booting ${o.nodes.length} nodes (containerd, kubelet, kube-proxy; image ${image.ref})`);
    const t0 = Date.now();
    await Promise.all(o.nodes.map(async (n) => {
      const address = `${o.subnet}.${n.host}`;
      const h = await startKubeNode(lab, n.name, address, {
        images: [pause, image.tar], memMb: o.memMb, labels: n.labels ?? {}, nics: n.nics ?? [], setup: n.setup ?? [], progress: say,
      });
      nodes.set(n.name, h);
      say(`lab: node ${n.name} (${address}) Ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }));
    const client = await lab.host('client', `${o.subnet}.${o.client ?? 50}`);
    const kubectlRaw = (args: string[], input?: string): Promise<KubectlResult> => lab.api.kubectl(args, input === undefined ? {} : { input });
    return {
      lab, image, nodes, client, kubectlRaw,
      async kubectl(args, input) {
        const r = await kubectlRaw(args, input);
        if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
        return r.stdout;
      },
      destroy: () => lab.destroy(),
    };
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}
