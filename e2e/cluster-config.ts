// What the Helm e2e suite (e2e/cluster.test.ts) needs to know of a cluster: everything else it
// learns through the API server and the nodes' kernels (read from privileged host-network pods
// it runs itself). The lab writes one of these for its own real-node cluster; for any other
// cluster, write one by hand and run `E2E_CLUSTER=<file> npx vitest run --project e2e e2e/cluster.test.ts`
// (docs/testing.md, e2e/cluster.example.json).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

const ipv4 = z.string().regex(/^(\d{1,3})(\.\d{1,3}){3}$/, 'an IPv4 address');
const node = z.string().min(1);

export const clusterConfigSchema = z.object({
  /** Admin kubeconfig (relative paths: to this file). */
  kubeconfig: z.string().min(1),
  /** Directory holding kubectl and helm; default: the project's own (scripts/k8s-bins.sh). */
  binDir: z.string().optional(),
  image: z.object({
    repository: z.string().min(1),
    tag: z.string().min(1),
    /** A second tag of the same image the nodes can get: what the upgrade drill moves to. */
    upgradeTag: z.string().min(1),
    pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
  }).strict(),
  /** More Helm values for this cluster (e.g. agent.privileged where sysctls are not preset). */
  values: z.record(z.string(), z.unknown()).default({}),
  /** Two director nodes on one L2 segment and their interface on it. */
  directors: z.tuple([node, node]),
  interface: z.string().min(1),
  /**
   * Free addresses on the directors' segment: dr and nat for the hand-written services;
   * loadBalancer (optional) for an AddressPool of one address, which the externalTrafficPolicy
   * Local drill needs (it is skipped without one, and says so).
   */
  vips: z.object({ dr: ipv4, nat: ipv4, loadBalancer: ipv4.optional() }).strict(),
  /**
   * Three real-server nodes and their addresses on the directors' segment (DR). NAT replies from
   * pods on them must route back through the NAT VIP (the classic LVS-NAT gateway).
   */
  realServers: z.array(z.object({ node, address: ipv4 }).strict()).length(3),
  /**
   * Active-active over BGP (optional; its drills are skipped without it): a free address the
   * directors announce, the ASN they speak as, the routers they peer with (the client's traffic
   * must reach the VIP through them, by ECMP), and a shell command printing the routers' route
   * to the VIP (for the lab, `ip route show` in the client's namespace, which is the router).
   */
  bgp: z.object({
    vip: ipv4,
    localASN: z.int().min(1).max(4294967295),
    peers: z.array(z.object({ address: ipv4, asn: z.int().min(1).max(4294967295) }).strict()).min(1),
    routeCommand: z.string().min(1),
  }).strict().optional(),
  /** Traffic is sent from this network namespace (default: the one the suite runs in). */
  clientNetns: z.string().optional(),
  /** Shell commands for the fault drills; a drill whose command is missing is skipped, and says so. */
  faults: z.object({
    /** Per director: a command that kills the node at once (power off, not a clean shutdown). */
    crashNode: z.record(node, z.string()).optional(),
    /** Cuts the nodes off the API server, and restores the path. */
    apiDown: z.string().optional(),
    apiUp: z.string().optional(),
  }).strict().default({}),
}).strict();

export type ClusterConfig = z.infer<typeof clusterConfigSchema>;

/** Reads and validates a cluster file; relative paths in it are taken from its directory. */
export function loadClusterConfig(file: string): ClusterConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`E2E_CLUSTER ${file}: ${(err as Error).message}`);
  }
  const parsed = clusterConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new Error(`E2E_CLUSTER ${file}: ${why}`);
  }
  const c = parsed.data;
  const base = dirname(resolve(file));
  return { ...c, kubeconfig: resolve(base, c.kubeconfig), ...(c.binDir ? { binDir: resolve(base, c.binDir) } : {}) };
}

/** The chart values the suite installs with: the cluster's image and values, debug logs, quick resync. */
export function releaseValues(c: ClusterConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    image: { repository: c.image.repository, tag: c.image.tag, pullPolicy: c.image.pullPolicy },
    logLevel: 'debug',
    ...c.values,
    agent: { resync: '5s', ...(c.values['agent'] as object | undefined) },
    ...extra,
  };
}
