// A real Kubernetes node in the lab: a UML kernel running containerd (runc, the CNI bridge),
// kube-proxy and kubelet (built from the pinned k8s.io/kubernetes module), joined to the lab's
// API server over the LAN. Pods on it are real containers in that kernel; hostNetwork pods share
// the node kernel's IPVS tables, addresses and sysctls, as on a real node.
import { mkdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { base64File, issueClientCert } from '../api/pki.js';
import type { LabCluster } from './cluster.js';
import { waitFor } from './agents.js';
import { fileExec, waitForFile } from './node-files.js';
import { projectRoot } from './paths.js';
import { startUml, type UmlHandle } from './uml.js';

export interface KubeNodeOptions {
  /** Node labels kubelet registers (e.g. `lvs.dev/director: edge`). */
  labels?: Record<string, string>;
  /** Image tars (docker-archive) imported into the node's containerd before kubelet starts. */
  images: string[];
  memMb?: number;
  /** More NICs: eth1, eth2, ... on these bridges of the LAN namespace, with these addresses (CIDR). */
  nics?: { bridge: string; cidr: string }[];
  /** Shell lines run before the node's services start (routes, addresses of the site's network). */
  setup?: string[];
  /** Where to say that the node's kernel ended without being stopped or crashed on purpose. */
  progress?: (line: string) => void;
}

export interface KubeNodeHandle {
  name: string;
  address: string;
  uml: UmlHandle;
  /** Pod addresses of this node: 10.244.<last octet of address>.0/24. */
  podCidr: string;
  exec(script: string, timeoutMs?: number): Promise<string>;
  /** Stops kubelet, the containers and containerd, then halts the kernel. */
  stop(): Promise<void>;
  /** Kills the kernel at once: a node that dies. */
  crash(): void;
}

const clusterCidr = '10.244.0.0/16';
const started = new WeakMap<LabCluster, KubeNodeHandle[]>();

/** Boots the node and resolves once the API server reports it Ready. */
export async function startKubeNode(lab: LabCluster, name: string, address: string, o: KubeNodeOptions): Promise<KubeNodeHandle> {
  const peers = started.get(lab) ?? [];
  started.set(lab, peers);
  const podCidr = `10.244.${address.split('.')[3]}.0/24`;
  const dir = join(lab.dir, 'nodes', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'exec'), { recursive: true });
  mkdirSync(join(dir, 'cni'), { recursive: true });
  await writeNodeFiles(lab, dir, name, address, podCidr, o);

  const nics = [await lab.tap(), ...(await Promise.all((o.nics ?? []).map((n) => lab.tap(n.bridge))))];
  const uml = startUml({
    label: `kube-${name}`,
    memMb: o.memMb ?? 1536,
    wrapper: ['ip', 'netns', 'exec', lab.ns.name!],
    kernelArgs: nics.map((tap, i) => `eth${i}=tuntap,${tap}`),
    setup: [
      `hostname ${name}`,
      'ip link set eth0 up', `ip addr add ${address}/24 dev eth0`, `ip route add default via ${lab.hostAddress}`,
      ...(o.nics ?? []).flatMap((n, i) => [`ip link set eth${i + 1} up`, `ip addr add ${n.cidr} dev eth${i + 1}`]),
      ...(o.setup ?? []),
    ],
    command: ['sh', join(projectRoot, 'test/lab/kube-node.sh'), dir],
    echo: null,
    timeoutMs: 3 * 60 * 60_000,
  });
  // A node whose kernel ends unasked (a panic, the host's OOM killer) only shows as "no route to
  // host" to its kubelet: say so where the test's log shows it, with the kernel's last words.
  let asked = false;
  uml.result.then(
    () => { if (!asked) o.progress?.(`lab: node ${name}'s kernel halted unasked (console: ${uml.logDir}/console.log)`); },
    (err: Error) => { if (!asked) o.progress?.(`lab: node ${name}'s kernel died: ${err.message}`); },
  );
  const exec = fileExec(dir, name, uml);
  const handle: KubeNodeHandle = {
    name, address, uml, podCidr, exec,
    async stop() {
      asked = true;
      writeFileSync(join(dir, 'stop'), '');
      await Promise.race([uml.result.catch(() => undefined), new Promise((r) => setTimeout(r, 30_000))]);
      await uml.release();
    },
    crash: () => { asked = true; uml.kill(); },
  };
  lab.adopt(handle);
  await waitForFile(join(dir, 'started'), 10 * 60_000, uml);
  // Pod networks of the other nodes, through their LAN addresses (what a CNI's routes do).
  // Nodes boot side by side: each one that is up adds the routes both ways.
  peers.push(handle);
  await Promise.all(peers.filter((p) => p !== handle).flatMap((p) => [
    p.exec(`ip route replace ${podCidr} via ${address}`),
    exec(`ip route replace ${p.podCidr} via ${p.address}`),
  ]));
  const isReady = async (): Promise<boolean> => {
    const r = await lab.api.kubectl(['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    return r.stdout.trim() === 'True';
  };
  if (!(await waitFor(isReady, 300_000))) throw new Error(`node ${name} never became Ready (logs: ${dir}/logs)`);
  return handle;
}

async function writeNodeFiles(lab: LabCluster, dir: string, name: string, address: string, podCidr: string, o: KubeNodeOptions): Promise<void> {
  copyFileSync(lab.api.caFile, join(dir, 'ca.crt'));
  const kubeconfig = async (file: string, user: string, groups: string[]): Promise<string> => {
    const cert = await issueClientCert(lab.api.workDir, `${name}-${file}`, user, groups);
    const path = join(dir, `${file}.kubeconfig`);
    writeFileSync(path, stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'lab',
      clusters: [{ name: 'lab', cluster: { server: lab.labServer, 'certificate-authority-data': await base64File(lab.api.caFile) } }],
      users: [{ name: user, user: { 'client-certificate-data': await base64File(cert.cert), 'client-key-data': await base64File(cert.key) } }],
      contexts: [{ name: 'lab', context: { cluster: 'lab', user } }],
    }), { mode: 0o600 });
    return path;
  };
  await kubeconfig('kubelet', `system:node:${name}`, ['system:nodes']);
  // The identity kube-proxy has in every cluster: bound to system:node-proxier by default.
  const proxy = await kubeconfig('kube-proxy', 'system:kube-proxy', []);
  const labels = Object.entries(o.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  writeFileSync(join(dir, 'node.env'), [
    `NODE_NAME=${name}`, `NODE_IP=${address}`, `K8S_BIN=${lab.api.binDir}`,
    `IMAGES='${o.images.join(' ')}'`, `NODE_LABELS='${labels}'`, '',
  ].join('\n'));
  writeFileSync(join(dir, 'containerd.toml'), `version = 2
root = "/run/containerd-root"
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${join(dir, 'cni')}"
`);
  writeFileSync(join(dir, 'cni', '10-lab.conflist'), JSON.stringify({
    cniVersion: '0.4.0', name: 'lab',
    plugins: [{
      type: 'bridge', bridge: 'cni0', isGateway: true,
      // Pods reach the API server (through 10.96.0.1) and the LAN from the node's address.
      ipMasq: true,
      ipam: { type: 'host-local', dataDir: '/run/cni-ipam', ranges: [[{ subnet: podCidr }]], routes: [{ dst: '0.0.0.0/0' }] },
    }, { type: 'portmap', capabilities: { portMappings: true } }],
  }));
  writeFileSync(join(dir, 'kubelet.yaml'), stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration',
    cgroupDriver: 'cgroupfs', failSwapOn: false, failCgroupV1: false,
    containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: join(dir, 'ca.crt') } },
    authorization: { mode: 'AlwaysAllow' },
    // A lab node's disk is the host's: never evict for it.
    evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100,
    maxPods: 30,
    resolvConf: '/etc/resolv.conf',
    clusterDomain: 'cluster.local',
    serializeImagePulls: false,
    nodeStatusUpdateFrequency: '4s',
  }));
  writeFileSync(join(dir, 'kube-proxy.yaml'), stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: proxy },
    mode: 'iptables',
    clusterCIDR: clusterCidr,
    metricsBindAddress: '127.0.0.1:10249',
    healthzBindAddress: '127.0.0.1:10256',
    // Leave nf_conntrack_max as the kernel has it.
    conntrack: { maxPerCore: 0 },
  }));
}
