// The lab cluster (host side): a real API server, and nodes that are User-Mode Linux kernels on
// one LAN with real servers and a client in namespaces of the host. The LAN is a bridge in a
// network namespace this lab creates; each UML kernel gets a tap on it; a veth links the host to
// it so kernels reach the API server. Only addresses inside that namespace are used.
import { mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startApiServer, type ApiServer } from '../api/harness.js';
import { run } from './inside.js';
import { fileExec, tailFile, waitForFile } from './node-files.js';
import { Netns } from './netns.js';
import { labLogsRoot } from './paths.js';
import { hook, hostLink, hostNetns, tempDir, track } from './reaper.js';
import { startControlPlane } from './control-plane.js';
import { projectRoot, startUml, type UmlHandle } from './uml.js';

/** The default lab LAN (a /24); `.1` is the host, where the API server listens. */
export const labSubnet = '10.250.0';
export const hostAddress = `${labSubnet}.1`;

export interface LabNodeHandle {
  name: string;
  address: string;
  uml: UmlHandle;
  /** Runs a shell script inside the node's kernel; resolves with its output (rejects on failure). */
  exec(script: string, timeoutMs?: number): Promise<string>;
  /** Restarts the agent process inside the node (a rolling update of the DaemonSet pod). */
  restartAgent(): Promise<void>;
  /** Stops the agent and halts the kernel cleanly. */
  stop(): Promise<void>;
  /** Kills the kernel at once: a node that dies. */
  crash(): void;
}

export interface LabClusterOptions {
  /** Short unique name: the namespace is `lvsc-<name>`. */
  name: string;
  /** Log of progress lines (default: none). */
  progress?: (line: string) => void;
  /** First three octets of the lab LAN (default `labSubnet`); the host is `.1`. */
  subnet?: string;
  /**
   * A cluster of real nodes (kube-node.ts): the API server advertises the LAN address, so pods
   * reach it through the `kubernetes` Service, and kube-scheduler and kube-controller-manager run.
   */
  kubernetes?: boolean;
  /** The API server's Service CIDR (default the harness's 10.96.0.0/24: 254 ClusterIPs). */
  serviceClusterIpRange?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class LabCluster {
  readonly ns: Netns;
  readonly dir: string;
  api!: ApiServer;
  /** Kubeconfig (embedded credentials) that reaches the API server from inside the lab. */
  labKubeconfig!: string;
  private taps = 0;
  private hostLink: string;
  private readonly nodes: { stop(): Promise<void> }[] = [];
  /** Releases what setUp/host() made, newest first (see reaper.ts: also run on exit and signals). */
  private readonly releases: (() => Promise<void>)[] = [];
  readonly subnet: string;
  /** The host's address on the lab LAN, where the API server is reached. */
  readonly hostAddress: string;

  private constructor(readonly o: LabClusterOptions) {
    this.ns = new Netns(`lvsc-${o.name}`);
    this.dir = join(projectRoot, '.lab', 'cluster', o.name);
    this.hostLink = `lvsc-${o.name}`.slice(0, 15);
    this.subnet = o.subnet ?? labSubnet;
    this.hostAddress = `${this.subnet}.1`;
  }

  /** Sets up the LAN and the API server; on failure removes whatever it had made and rethrows. */
  static async create(o: LabClusterOptions): Promise<LabCluster> {
    const c = new LabCluster(o);
    try {
      await c.setUp();
    } catch (err) {
      await c.destroy();
      throw err;
    }
    return c;
  }

  private say(line: string): void {
    this.o.progress?.(line);
  }

  private async setUp(): Promise<void> {
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    this.releases.push(track(tempDir(this.dir, join(labLogsRoot, `cluster-${this.o.name}`))));
    await run('ip', ['netns', 'del', this.ns.name!]).catch(() => undefined);
    await run('ip', ['link', 'del', this.hostLink]).catch(() => undefined);
    this.say(`lab: LAN ${this.subnet}.0/24 in namespace ${this.ns.name}`);
    await run('ip', ['netns', 'add', this.ns.name!]);
    this.releases.push(track(hostNetns(this.ns.name!)));
    await this.ns.up('lo');
    await this.ns.ip('link', 'add', 'br0', 'type', 'bridge');
    await this.ns.up('br0');
    await run('ip', ['link', 'add', this.hostLink, 'type', 'veth', 'peer', 'name', 'uplink']);
    this.releases.push(track(hostLink(this.hostLink)));
    await run('ip', ['link', 'set', 'uplink', 'netns', this.ns.name!]);
    await this.ns.ip('link', 'set', 'uplink', 'master', 'br0');
    await this.ns.up('uplink');
    await run('ip', ['addr', 'add', `${this.hostAddress}/24`, 'dev', this.hostLink]);
    await run('ip', ['link', 'set', this.hostLink, 'up']);
    this.say('lab: starting etcd and kube-apiserver (built from Go modules, cached)');
    this.api = await startApiServer({ externalAddress: this.hostAddress, ...(this.o.serviceClusterIpRange ? { serviceClusterIpRange: this.o.serviceClusterIpRange } : {}), ...(this.o.kubernetes ? { advertiseAddress: this.hostAddress } : {}) });
    const api = this.api;
    this.releases.push(track(hook('kube-apiserver and etcd', () => api.stop())));
    if (this.o.kubernetes) {
      this.say('lab: starting kube-scheduler and kube-controller-manager (same module, cached)');
      this.releases.push(...startControlPlane(this.api, this.dir));
    }
    this.labKubeconfig = this.writeLabKubeconfig();
    // On a cluster of real nodes the product's own install (Helm, kustomize) brings the CRDs.
    if (this.o.kubernetes) return;
    const crds = await this.api.kubectl(['apply', '-f', join(projectRoot, 'crds')]);
    if (crds.code !== 0) throw new Error(`installing CRDs failed: ${crds.stderr}`);
    await this.api.kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', join(projectRoot, 'crds')]);
  }

  /** The admin kubeconfig with certificates embedded and the lab address as server. */
  private writeLabKubeconfig(): string {
    const kc = parse(readFileSync(this.api.kubeconfigPath, 'utf8')) as {
      clusters: { cluster: Record<string, string> }[];
      users: { user: Record<string, string> }[];
    };
    const embed = (o: Record<string, string>, from: string, to: string): void => {
      if (o[from]) {
        o[to] = readFileSync(o[from]!).toString('base64');
        delete o[from];
      }
    };
    for (const c of kc.clusters) {
      c.cluster.server = c.cluster.server!.replace('127.0.0.1', this.hostAddress);
      embed(c.cluster, 'certificate-authority', 'certificate-authority-data');
    }
    for (const u of kc.users) {
      embed(u.user, 'client-certificate', 'client-certificate-data');
      embed(u.user, 'client-key', 'client-key-data');
    }
    const path = join(this.dir, 'kubeconfig');
    writeFileSync(path, stringify(kc), { mode: 0o600 });
    return path;
  }

  /** A host namespace on the LAN (a real server or a client), with `address`/24 on its eth0; `bridge`: another segment of the LAN namespace. */
  async host(name: string, address: string, bridge = 'br0'): Promise<Netns> {
    const ns = new Netns(`lvsc-${this.o.name}-${name}`);
    await run('ip', ['netns', 'del', ns.name!]).catch(() => undefined);
    await run('ip', ['netns', 'add', ns.name!]);
    this.releases.push(track(hostNetns(ns.name!)));
    await ns.up('lo');
    const br = `v${this.o.name}-${name}`.slice(0, 15);
    await this.ns.ip('link', 'add', br, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name!);
    if (bridge !== 'br0') await this.bridge(bridge);
    await this.ns.ip('link', 'set', br, 'master', bridge);
    await this.ns.up(br);
    await ns.addr('eth0', `${address}/24`);
    await ns.up('eth0');
    return ns;
  }

  /**
   * Boots a node kernel at `address` on the LAN running the agent under a small supervisor
   * (restart on request, stop on request, commands on request, all through files on hostfs).
   */
  /**
   * `compiled`: run the agent from dist/ (`npm run build` first), as the image does, instead of
   * through tsx, which transpiles every file at each start (seconds in a one-CPU lab kernel).
   */
  /** A new tap on the LAN bridge (or another bridge of the LAN namespace), for a node kernel's NIC. */
  async tap(bridge = 'br0'): Promise<string> {
    if (bridge !== 'br0') await this.bridge(bridge);
    const tap = `tap${this.taps++}`;
    await this.ns.ip('tuntap', 'add', tap, 'mode', 'tap');
    await this.ns.ip('link', 'set', tap, 'master', bridge);
    await this.ns.up(tap);
    return tap;
  }

  /** Another L2 segment in the LAN namespace (e.g. a directors' sync network); made once. */
  bridge(name: string): Promise<void> {
    let made = this.bridges.get(name);
    if (!made) {
      made = this.ns.ip('link', 'add', name, 'type', 'bridge').then(() => this.ns.up(name)).then(() => undefined);
      this.bridges.set(name, made);
    }
    return made;
  }
  private readonly bridges = new Map<string, Promise<void>>();

  /** Kernels started elsewhere (kube-node.ts) that destroy() stops with the others. */
  adopt(node: { stop(): Promise<void> }): void {
    this.nodes.push(node);
  }

  /** The host's end of the LAN: down, the nodes lose the API server (an outage drill). */
  get hostLinkName(): string {
    return this.hostLink;
  }

  /** The host's API server address as lab kernels reach it, e.g. https://10.250.0.1:6443. */
  get labServer(): string {
    return this.api.server.replace('127.0.0.1', this.hostAddress);
  }

  /** `nics`: more NICs (eth1, eth2, ...) on other segments of the LAN namespace, each with its address/24. */
  async node(name: string, address: string, opts: { agentArgs?: string[]; nodeFlags?: string[]; env?: Record<string, string>; memMb?: number; compiled?: boolean; nics?: { bridge: string; address: string }[] } = {}): Promise<LabNodeHandle> {
    const tap = await this.tap();
    const nics: { tap: string; address: string }[] = [];
    for (const n of opts.nics ?? []) nics.push({ tap: await this.tap(n.bridge), address: n.address });
    const ctl = join(this.dir, 'nodes', name);
    rmSync(ctl, { recursive: true, force: true });
    mkdirSync(join(ctl, 'exec'), { recursive: true });
    const agent = [
      process.execPath, ...(opts.nodeFlags ?? []),
      ...(opts.compiled ? [join(projectRoot, 'dist/bundle/main.js')] : ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts')]), 'agent',
      '--node', name, '--kubeconfig', this.labKubeconfig, '--state-dir', '/run/lvs-operator',
      '--metrics-port', '9477', '--resync', '10s', ...(opts.agentArgs ?? []),
    ];
    const uml = startUml({
      label: `node-${name}`,
      memMb: opts.memMb ?? 768,
      wrapper: ['ip', 'netns', 'exec', this.ns.name!],
      kernelArgs: [`eth0=tuntap,${tap}`, ...nics.map((n, i) => `eth${i + 1}=tuntap,${n.tap}`)],
      setup: [`ip link set eth0 up`, `ip addr add ${address}/24 dev eth0`, `ip route add default via ${this.hostAddress}`, `hostname ${name}`,
        ...nics.flatMap((n, i) => [`ip link set eth${i + 1} up`, `ip addr add ${n.address}/24 dev eth${i + 1}`])],
      command: ['sh', join(projectRoot, 'test/lab/node-supervisor.sh'), ctl, ...agent],
      env: { LOG_LEVEL: opts.env?.LOG_LEVEL ?? 'info', ...opts.env },
      echo: null,
      timeoutMs: 60 * 60_000,
    });
    uml.result.catch(() => undefined);
    const handle = this.nodeHandle(name, address, uml, ctl);
    this.nodes.push(handle);
    this.say(`lab: node ${name} (${address}) booting, agent starting`);
    await waitForFile(join(ctl, 'agent-started.1'), 240_000, uml, () => `the agent's log ends:\n${tailFile(join(ctl, 'agent.log'), 3000)}`);
    return handle;
  }

  private nodeHandle(name: string, address: string, uml: UmlHandle, ctl: string): LabNodeHandle {
    const exec = fileExec(ctl, name, uml);
    return {
      name, address, uml, exec,
      async restartAgent() {
        const before = readdirSync(ctl).filter((f) => f.startsWith('agent-started')).length;
        writeFileSync(join(ctl, 'restart'), '');
        const end = Date.now() + 90_000;
        while (readdirSync(ctl).filter((f) => f.startsWith('agent-started')).length <= before) {
          if (Date.now() > end) throw new Error(`agent on ${name} did not come back`);
          await sleep(100);
        }
      },
      async stop() {
        writeFileSync(join(ctl, 'stop'), '');
        await Promise.race([uml.result.catch(() => undefined), sleep(30_000)]);
        await uml.release();
      },
      crash: () => uml.kill(),
    };
  }

  /** Stops the nodes, then removes namespaces, links, the API server and the run directory. */
  async destroy(): Promise<void> {
    await Promise.all(this.nodes.splice(0).map((n) => n.stop().catch(() => undefined)));
    for (const release of this.releases.splice(0).reverse()) await release();
  }
}
