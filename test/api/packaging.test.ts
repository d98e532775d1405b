// The install paths against the real helm and the real kube-apiserver of the API tier: the
// chart lints and renders (defaults and every option), its schema refuses bad values, every
// rendered object passes a server-side dry run, deploy/ is what the chart renders and what
// kustomize builds, and the RBAC holds: the agent's ServiceAccount can write status but not
// specs (proved with a token of that ServiceAccount, not only with `auth can-i`).
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { kinds } from '../../src/api/index.js';
import { chartDir, renderDeploy } from '../../scripts/deploy/render.js';
import { loadClusterConfig, releaseValues } from '../../e2e/cluster-config.js';
import { connectApiServer, runTool, type KubectlResult } from './harness.js';

const api = connectApiServer(inject('kubeconfig'), inject('binDir'));
const helmBin = join(inject('binDir'), 'helm');
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const chart = join(root, chartDir);
const allOptions = join(chart, 'ci', 'all-options-values.yaml');
// What the Helm e2e suite installs (on the example cluster file's values): lint and dry-run that.
const e2eValues = join(mkdtempSync(join(tmpdir(), 'lvs-e2e-values-')), 'values.yaml');
writeFileSync(e2eValues, stringify(releaseValues(loadClusterConfig(join(root, 'e2e', 'cluster.example.json')))));
const ns = 'lvs-packaging';
const crdNames = Object.values(kinds).map((k) => `${k.plural}.lvs.dev`);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;


const helm = (args: string[]): Promise<KubectlResult> => runTool(helmBin, args);

function ok(r: KubectlResult, what = 'command'): string {
  expect(r.code, `${what} failed (exit ${r.code}):\n${r.stderr}\n${r.stdout.slice(0, 2000)}`).toBe(0);
  return r.stdout;
}

function docs(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null && typeof d === 'object');
}

async function render(args: string[] = [], release = 'lvs-operator', namespace = ns): Promise<Obj[]> {
  return docs(ok(await helm(['template', release, chart, '--namespace', namespace, ...args]), 'helm template'));
}

const id = (o: Obj): string => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
const leaderRole = (objs: Obj[]): Obj => {
  const found = objs.filter((o) => o.kind === 'Role' && o.metadata.name.endsWith('-leader-election'));
  expect(found.map(id), 'exactly one leader-election Role').toHaveLength(1);
  return found[0]!;
};
const one = (objs: Obj[], kind: string, component?: string): Obj => {
  const found = objs.filter((o) => o.kind === kind && (!component || o.metadata?.labels?.['app.kubernetes.io/component'] === component));
  expect(found.map(id), `exactly one ${kind} ${component ?? ''}`).toHaveLength(1);
  return found[0]!;
};

async function ensureNamespace(name: string): Promise<void> {
  const r = await api.kubectl(['create', 'namespace', name]);
  if (r.code !== 0 && !r.stderr.includes('AlreadyExists')) throw new Error(r.stderr);
}

beforeAll(async () => {
  expect(existsSync(helmBin), `no helm in ${inject('binDir')}: scripts/k8s-bins.sh builds it unless K8S_BINS_SKIP_HELM=1`).toBe(true);
  await ensureNamespace(ns);
  ok(await api.kubectl(['apply', '-f', join(root, 'crds')]), 'apply CRDs');
  ok(await api.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crdNames.map((n) => `crd/${n}`)]), 'wait CRDs');
});

describe('helm lint and template', () => {
  it.each([
    ['default values', []],
    ['every option (ci/all-options-values.yaml)', ['-f', allOptions]],
    ['the values the Helm e2e suite installs', ['-f', e2eValues]],
  ])('lint --strict passes with %s', async (_name, args) => {
    const out = ok(await helm(['lint', '--strict', chart, ...args]), 'helm lint');
    expect(out).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(out).not.toMatch(/\[(ERROR|WARNING)\]/);
  });

  it('renders the default install: controller, agent, RBAC, metrics Services, PDB; no ServiceMonitor', async () => {
    const objs = await render();
    expect(objs.map((o) => o.kind).sort()).toEqual([
      'ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'DaemonSet', 'Deployment',
      'PodDisruptionBudget', 'Role', 'Role', 'Role', 'RoleBinding', 'RoleBinding', 'RoleBinding', 'Service', 'Service', 'ServiceAccount', 'ServiceAccount',
      'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicyBinding',
    ]);
    for (const o of objs) {
      if (!['ClusterRole', 'ClusterRoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'].includes(o.kind)) expect(o.metadata.namespace, id(o)).toBe(ns);
    }
  });

  it('controller: 2 replicas, Lease in the pod namespace, probes on the metrics port, non-root', async () => {
    const objs = await render();
    const d = one(objs, 'Deployment', 'controller');
    expect(d.spec.replicas).toBe(2);
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    expect(c.args).toEqual(expect.arrayContaining([
      'controller', '--leader-elect=true', '--leader-election-namespace=$(POD_NAMESPACE)',
      '--leader-election-id=lvs-operator-controller', '--metrics-port=8080',
    ]));
    expect(c.env).toEqual(expect.arrayContaining([
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ]));
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 8080, protocol: 'TCP' }]);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.serviceAccountName).toBe('lvs-operator-controller');
    const role = leaderRole(objs);
    expect(role.rules).toContainEqual({ apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['lvs-operator-controller'], verbs: ['get', 'update'] });
    expect(one(objs, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });

  it('agent: hostNetwork, NODE_NAME, NET_ADMIN + NET_RAW only, not privileged, state on the host, BIRD in its sidecar, rolling one node at a time', async () => {
    const ds = one(await render(), 'DaemonSet', 'agent');
    const pod = ds.spec.template.spec;
    const c = pod.containers[0];
    expect(pod.hostNetwork).toBe(true);
    expect(pod.dnsPolicy).toBe('ClusterFirstWithHostNet');
    // agent.bird.sidecar is on by default: the only init container is BIRD's native sidecar.
    expect(pod.initContainers.map((i: { name: string; restartPolicy: string }) => `${i.name} ${i.restartPolicy}`)).toEqual(['bird Always']);
    expect(c.args).toEqual(expect.arrayContaining(['--bird=sidecar', '--bird-dir=/run/lvs-operator/bird']));
    expect(c.env).toContainEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    expect(c.args).toEqual(expect.arrayContaining(['agent', '--node=$(NODE_NAME)', '--state-dir=/var/lib/lvs-operator', '--metrics-port=9477']));
    expect(c.securityContext).toEqual({
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
    });
    expect(pod.volumes).toEqual([
      { name: 'state', hostPath: { path: '/var/lib/lvs-operator', type: 'DirectoryOrCreate' } },
      { name: 'bird', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
    ]);
    expect(c.volumeMounts).toEqual([{ name: 'state', mountPath: '/var/lib/lvs-operator' }, { name: 'bird', mountPath: '/run/lvs-operator/bird' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(ds.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    expect(pod.affinity).toBeUndefined();
    // sidecar: false -> BIRD is the agent's child: no init container, no shared volume, no --bird.
    const child = one(await render(['--set', 'agent.bird.sidecar=false']), 'DaemonSet', 'agent').spec.template.spec;
    expect(child.initContainers).toBeUndefined();
    expect(child.volumes).toEqual([{ name: 'state', hostPath: { path: '/var/lib/lvs-operator', type: 'DirectoryOrCreate' } }]);
    expect(child.containers[0].args.filter((a: string) => a.startsWith('--bird'))).toEqual([]);
  });

  it('every option: privileged agent, SYS_MODULE only in the module loader, director/real-server affinity, ServiceMonitors', async () => {
    const objs = await render(['-f', allOptions]);
    const pod = one(objs, 'DaemonSet', 'agent').spec.template.spec;
    const agent = pod.containers[0];
    expect(agent.securityContext.privileged).toBe(true);
    expect(agent.securityContext.capabilities.add).toEqual(['NET_ADMIN', 'NET_RAW', 'NET_BIND_SERVICE']);
    const [loader] = pod.initContainers;
    expect(loader.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['SYS_MODULE'] });
    expect(loader.volumeMounts).toEqual([{ name: 'lib-modules', mountPath: '/lib/modules', readOnly: true }]);
    expect(loader.args.slice(1)).toEqual(['load-modules', 'ip_vs', 'ip_vs_wrr', 'ip_vs_sh', 'ipip']);
    // agent.bird.sidecar: BIRD in a native sidecar running the chart's script on a shared in-memory volume.
    const bird = pod.initContainers[1];
    expect(pod.initContainers).toHaveLength(2);
    expect(bird.name).toBe('bird');
    expect(bird.restartPolicy).toBe('Always');
    expect(bird.command).toEqual(['/bin/sh', '-c']);
    expect(bird.args).toEqual([readFileSync(join(chart, 'files', 'bird-sidecar.sh'), 'utf8'), 'bird-sidecar', '/run/lvs-operator/bird']);
    expect(bird.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW', 'NET_BIND_SERVICE'] });
    expect(bird.volumeMounts).toEqual([{ name: 'bird', mountPath: '/run/lvs-operator/bird' }]);
    expect(agent.args).toEqual(expect.arrayContaining(['--bird=sidecar', '--bird-dir=/run/lvs-operator/bird']));
    expect(agent.volumeMounts).toContainEqual({ name: 'bird', mountPath: '/run/lvs-operator/bird' });
    expect(pod.volumes).toContainEqual({ name: 'bird', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } });
    expect(pod.volumes).toContainEqual({ name: 'state', hostPath: { path: '/var/lib/lvs-operator-edge', type: 'DirectoryOrCreate' } });
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: 'lvs.dev/director', operator: 'Exists' }] },
      { matchExpressions: [{ key: 'lvs.dev/real-server', operator: 'In', values: ['true'] }] },
    ]);
    const monitors = objs.filter((o) => o.kind === 'ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(['lvs-agent', 'lvs-controller']);
    const rule = one(objs, 'PrometheusRule', undefined);
    expect(rule.metadata.labels.release).toBe('prometheus');
    expect(rule.spec.groups[0].rules.map((r: { alert: string }) => r.alert)).toContain('LvsVipSplitBrain');
    const dashboard = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'lvs-dashboard');
    expect(dashboard?.metadata.labels.grafana_dashboard).toBe('1');
    expect(JSON.parse(dashboard!.data['lvs-operator.json']).title).toBe('lvs-operator');
    const ctl = one(objs, 'Deployment', 'controller').spec.template.spec.containers[0];
    expect(ctl.args).toEqual(expect.arrayContaining(['--leader-election-id=lvs-leader', '--metrics-port=9090', '--context=ignored-in-cluster']));
    expect(leaderRole(objs).rules).toContainEqual({ apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['lvs-leader'], verbs: ['get', 'update'] });
  });

  it.each([
    ['a string for a number', ['--set', 'controller.replicas=two'], "at '/controller/replicas': got string, want integer"],
    ['a misspelt key', ['--set', 'agent.privilegd=true'], "at '/agent': additional properties 'privilegd' not allowed"],
    ['SYS_ADMIN as an extra capability', ['--set', 'agent.extraCapabilities[0]=SYS_ADMIN'], "at '/agent/extraCapabilities/0': value must be one of"],
    ['a duration kubectl would not parse', ['--set', 'agent.resync=30 seconds'], "at '/agent/resync'"],
    ['an unknown pull policy', ['--set', 'image.pullPolicy=Sometimes'], "at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'"],
    ['a bad node selector operator', ['--set', 'agent.nodes.directors[0].key=a', '--set', 'agent.nodes.directors[0].operator=Has'], "at '/agent/nodes/directors/0/operator'"],
    ['agent.affinity together with agent.nodes', ['--set', 'agent.nodes.directors[0].key=a', '--set', 'agent.nodes.directors[0].operator=Exists', '--set', 'agent.affinity.nodeAffinity.x=1'], 'agent.affinity replaces the affinity built from agent.nodes'],
  ])('refuses %s with a clear error', async (_name, args, message) => {
    const r = await helm(['template', 'bad', chart, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });
});

describe('server-side dry run on the test API server', () => {
  it('accepts every object of the default install', async () => {
    const objs = await render();
    const out = ok(await api.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: objs.map((o) => `---\n${stringify(o)}`).join('') }), 'dry run');
    for (const o of objs) expect(out).toContain(`${o.metadata.name}`);
    expect(out.match(/\(server dry run\)/g)).toHaveLength(objs.length);
  });

  it.each([
    ['every option (ServiceMonitors and the PrometheusRule aside: no prometheus-operator CRDs here)', allOptions, 'opts'],
    ['the values the Helm e2e suite installs', e2eValues, 'e2e'],
  ])('accepts every object with %s', async (_name, values, release) => {
    const objs = (await render(['-f', values], release)).filter((o) => o.kind !== 'ServiceMonitor' && o.kind !== 'PrometheusRule');
    const out = ok(await api.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: objs.map((o) => `---\n${stringify(o)}`).join('') }), 'dry run');
    expect(out.match(/\(server dry run\)/g)).toHaveLength(objs.length);
  });

  // Why agent.privileged exists: net.* sysctls need a writable /proc/sys, which runtimes give
  // only to privileged containers or to procMount Unmasked, and the API refuses Unmasked here.
  it('refuses procMount Unmasked for the hostNetwork agent, with or without user namespaces', async () => {
    const ds = one(await render(), 'DaemonSet', 'agent');
    ds.spec.template.spec.containers[0].securityContext.procMount = 'Unmasked';
    const plain = await api.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: stringify(ds) });
    expect(plain.code).not.toBe(0);
    expect(plain.stderr).toContain('`hostUsers` must be false to use `Unmasked`');
    ds.spec.template.spec.hostUsers = false;
    const userns = await api.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: stringify(ds) });
    expect(userns.code).not.toBe(0);
    expect(userns.stderr).toContain('spec.template.spec.hostNetwork: Forbidden: when `hostUsers` is false');
  });

  // Through an overlay that moves everything to a namespace of this test: other API files may
  // leave lvs-system terminating (the harness runs no namespace controller). It also proves
  // the claim of deploy/kustomization.yaml that overlays may change the namespace.
  it('accepts `kubectl apply -k` of deploy/ (via an overlay that changes the namespace)', async () => {
    const overlay = mkdtempSync(join(tmpdir(), 'lvs-overlay-'));
    try {
      const target = 'lvs-packaging-kustomize';
      writeFileSync(join(overlay, 'kustomization.yaml'), stringify({
        apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', namespace: target,
        resources: [relative(overlay, join(root, 'deploy'))],
      }));
      const built = docs(ok(await api.kubectl(['kustomize', overlay]), 'kubectl kustomize overlay'));
      expect(one(built, 'Namespace').metadata.name).toBe(target);
      for (const b of built.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
        expect(b.subjects, id(b)).toEqual([expect.objectContaining({ kind: 'ServiceAccount', namespace: target })]);
      }
      await ensureNamespace(target);
      const out = ok(await api.kubectl(['apply', '--dry-run=server', '-k', overlay]), 'dry run -k');
      expect(out.match(/\(server dry run\)/g)).toHaveLength(built.length);
      expect(out).toContain('daemonset.apps/lvs-operator-agent');
      expect(out).toContain('deployment.apps/lvs-operator-controller');
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });
});

describe('deploy/ (run `npm run gen:deploy` if this fails)', () => {
  const files = renderDeploy(helmBin, root);

  it.each([...files.keys()])('%s is up to date', (path) => {
    expect(readFileSync(join(root, path), 'utf8')).toBe(files.get(path));
  });

  it('holds no other manifest', () => {
    for (const dir of ['deploy', 'deploy/crds', `${chartDir}/crds`]) {
      const onDisk = readdirSync(join(root, dir)).filter((f) => f.endsWith('.yaml')).map((f) => `${dir}/${f}`);
      expect(onDisk.sort()).toEqual([...files.keys()].filter((p) => p.startsWith(`${dir}/`) && !p.slice(dir.length + 1).includes('/')).sort());
    }
  });

  it('kubectl kustomize builds exactly the committed objects', async () => {
    const built = docs(ok(await api.kubectl(['kustomize', join(root, 'deploy')]), 'kubectl kustomize'));
    // kustomize does not know the admission policy kinds are cluster-scoped and sets the
    // namespace; the API server ignores it there.
    for (const o of built) if (o.kind.startsWith('ValidatingAdmissionPolicy')) delete o.metadata.namespace;
    const committed: Obj[] = [];
    for (const path of files.keys()) {
      if (path.startsWith('deploy/') && path !== 'deploy/kustomization.yaml') committed.push(...docs(readFileSync(join(root, path), 'utf8')));
    }
    const byId = (list: Obj[]) => Object.fromEntries(list.map((o) => [id(o), o]));
    expect(Object.keys(byId(built)).sort()).toEqual(Object.keys(byId(committed)).sort());
    expect(byId(built)).toEqual(byId(committed));
  });

  it('is the chart with default values, minus Helm bookkeeping labels', async () => {
    const chartObjs = await render([], 'lvs-operator', 'lvs-system');
    const deployed = [...files].filter(([p]) => /^deploy\/(rbac|controller|agent)\.yaml$/.test(p)).flatMap(([, c]) => docs(c));
    expect(deployed.map(id).sort()).toEqual(chartObjs.map(id).sort());
    for (const o of deployed) {
      expect(o.metadata.labels['helm.sh/chart'], id(o)).toBeUndefined();
      expect(o.metadata.labels['app.kubernetes.io/managed-by'], id(o)).toBeUndefined();
    }
  });
});

describe('RBAC: least privilege, proved with the ServiceAccounts’ own tokens', () => {
  const release = 'rbac-proof';
  const agentSa = `${release}-lvs-operator-agent`;
  const controllerSa = `${release}-lvs-operator-controller`;
  let rbacObjs: Obj[] = [];
  let asAgent = '';
  let asController = '';

  const vs = {
    apiVersion: 'lvs.dev/v1alpha1', kind: 'VirtualService', metadata: { name: 'web', namespace: ns },
    spec: { vip: '198.18.80.80', port: 80, protocol: 'TCP', backends: { realServerSelector: { matchLabels: { app: 'web' } } }, directorGroup: 'edge' },
  };
  const rs = { apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: 'web-1', namespace: ns, labels: { app: 'web' } }, spec: { address: '198.18.80.81' } };
  const dg = { apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: 'rbac-proof-edge' }, spec: { nodeSelector: { matchLabels: { 'lvs.dev/director': 'edge' } }, interface: 'eth0' } };

  beforeAll(async () => {
    const rendered = await render([], release);
    // The harness creates the ServiceAccounts (as plain as the chart's) and issues their tokens.
    expect(rendered.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name).sort()).toEqual([agentSa, controllerSa]);
    asAgent = await api.kubeconfigForServiceAccount(ns, agentSa);
    asController = await api.kubeconfigForServiceAccount(ns, controllerSa);
    rbacObjs = rendered.filter((o) => ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'].includes(o.kind));
    expect(rbacObjs.filter((o) => o.kind.startsWith('ValidatingAdmissionPolicy'))).toHaveLength(4);
    ok(await api.kubectl(['apply', '-f', '-'], { input: [...rbacObjs, vs, rs, dg].map((o) => `---\n${stringify(o)}`).join('') }), 'apply RBAC and objects');
  });

  afterAll(async () => {
    const cluster = rbacObjs.filter((o) => o.kind.startsWith('Cluster') || o.kind.startsWith('Validating')).map((o) => `${o.kind.toLowerCase()}/${o.metadata.name}`);
    await api.kubectl(['delete', '--ignore-not-found', ...cluster]);
    // Other API test files share this server: leave no claim on a VIP behind.
    await api.kubectl(['delete', '--ignore-not-found', `directorgroup/${dg.metadata.name}`]);
    await api.kubectl(['delete', '--ignore-not-found', '-n', ns, 'virtualservice/web', 'realserver/web-1']);
    await api.kubectl(['delete', '--ignore-not-found', '--wait=false', 'node/node-a', '-n', ns, 'pod/agent-node-a']);
  });

  const agentEntry = (kind: string, name: string, namespace?: string) => stringify({
    apiVersion: 'lvs.dev/v1alpha1', kind, metadata: { name, ...(namespace ? { namespace } : {}) },
    status: kind === 'VirtualService' ? { directors: [{ node: 'node-a', programmedGeneration: 1, vrrpState: 'Master', healthy: 1, total: 1 }] } : { directors: [{ node: 'node-a', healthy: true }] },
  });

  it('the agent writes its status entry (server-side apply on /status under its own field manager), on VirtualServices only', async () => {
    ok(await api.kubectl(['apply', '--server-side', '--subresource=status', '--field-manager=lvs-agent/node-a', '-f', '-'], { kubeconfig: asAgent, input: agentEntry('VirtualService', 'web', ns) }), 'agent status apply on VirtualService');
    // A RealServer's per-director health is the controller's to write (from the services' entries).
    const refused = await api.kubectl(['apply', '--server-side', '--subresource=status', '--field-manager=lvs-agent/node-a', '-f', '-'], { kubeconfig: asAgent, input: agentEntry('RealServer', 'web-1', ns) });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/forbidden/i);
    const got = JSON.parse(ok(await api.kubectl(['get', 'virtualservice', 'web', '-n', ns, '-o', 'json']))) as Obj;
    expect(got.status.directors).toEqual([expect.objectContaining({ node: 'node-a', vrrpState: 'Master' })]);
  });

  const lease = (node: string, day = '01') => stringify({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: `lvs-agent-${node}`, namespace: ns }, spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: `2026-01-${day}T00:00:00.000000Z` } });
  const heartbeat = (kubeconfig: string, node: string, day?: string) =>
    api.kubectl(['apply', '--server-side', '--field-manager=lvs-agent/node-a', '-f', '-'], { kubeconfig, input: lease(node, day) });

  /** The token kubelet mounts in the agent's pod on `node`: bound to the pod, naming the node. */
  async function agentOn(node: string): Promise<string> {
    const pod = `agent-${node}`;
    const objs = [
      { apiVersion: 'v1', kind: 'Node', metadata: { name: node } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace: ns }, spec: { nodeName: node, serviceAccountName: agentSa, containers: [{ name: 'agent', image: 'lvs-operator:rbac-proof' }] } },
    ];
    ok(await api.kubectl(['apply', '-f', '-'], { input: objs.map((o) => `---\n${stringify(o)}`).join('') }), `node and pod ${node}`);
    return api.kubeconfigForServiceAccount(ns, agentSa, pod);
  }

  it('the agent renews its own heartbeat Lease in the release namespace, and no other', async () => {
    const onA = await agentOn('node-a');
    ok(await heartbeat(onA, 'node-a'), 'agent heartbeat apply');
    ok(await heartbeat(onA, 'node-a', '02'), 'agent heartbeat renew');
    // The admission policy may take a moment to load after it was created.
    const deadline = Date.now() + 30_000;
    let other = await heartbeat(onA, 'node-b');
    while (other.code === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      other = await heartbeat(onA, 'node-b', '03');
    }
    expect(other.code, other.stdout).not.toBe(0);
    expect(other.stderr).toContain('the agent on node node-a may write only the Lease lvs-agent-node-a, not lvs-agent-node-b');
    // A token not bound to a pod names no node: no Lease at all.
    const unbound = await heartbeat(asAgent, 'node-a', '04');
    expect(unbound.code).not.toBe(0);
    expect(unbound.stderr).toContain('only with a token bound to its pod');
  });

  // status.bgp[]: RBAC lets the agents patch DirectorGroup status, the admission policy narrows
  // it to the entry of the node the token names.
  const dgStatus = (status: Record<string, unknown>) => stringify({ apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: dg.metadata.name }, status });
  const bgpEntry = (node: string) => ({ node, sessions: [{ peer: '192.0.2.1', state: 'up', info: 'Established', established: true }], announced: ['192.0.2.100'] });
  const dgApply = (kubeconfig: string, status: Record<string, unknown>) =>
    api.kubectl(['apply', '--server-side', '--subresource=status', '--field-manager=lvs-agent/node-a', '-f', '-'], { kubeconfig, input: dgStatus(status) });

  it('the agent writes its own entry of a DirectorGroup\'s status.bgp, and nothing else there', async () => {
    const onA = await agentOn('node-a');
    ok(await dgApply(onA, { bgp: [bgpEntry('node-a')] }), 'agent on node-a applies its bgp entry');
    const got = JSON.parse(ok(await api.kubectl(['get', 'directorgroup', dg.metadata.name, '-o', 'json']))) as Obj;
    expect(got.status.bgp).toEqual([bgpEntry('node-a')]);
    // The admission policy may take a moment to load after it was created: wait with a write that
    // changes nothing (the same entry, from a token that names no node) until it is refused.
    const deadline = Date.now() + 30_000;
    let unbound = await dgApply(asAgent, { bgp: [bgpEntry('node-a')] });
    while (unbound.code === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      unbound = await dgApply(asAgent, { bgp: [bgpEntry('node-a')] });
    }
    expect(unbound.code, unbound.stdout).not.toBe(0);
    expect(unbound.stderr).toContain('only with a token bound to its pod');
    const denied: [Record<string, unknown>, string, string][] = [
      [{ bgp: [bgpEntry('node-a'), bgpEntry('node-b')] }, onA, 'the agent on node node-a may change only its own entry of status.bgp'],
      [{ bgp: [bgpEntry('node-a')], directors: ['node-a'] }, onA, 'the agent may change only status.bgp of a DirectorGroup'],
    ];
    for (const [status, kubeconfig, message] of denied) {
      const r = await dgApply(kubeconfig, status);
      expect(r.code, `${JSON.stringify(status)}: ${r.stdout}`).not.toBe(0);
      expect(r.stderr).toContain(message);
    }
    const after = JSON.parse(ok(await api.kubectl(['get', 'directorgroup', dg.metadata.name, '-o', 'json']))) as Obj;
    expect(after.status.bgp).toEqual([bgpEntry('node-a')]);
    expect(after.status.directors).toBeUndefined();
  });

  it.each([
    ['patch a VirtualService spec', ['patch', 'virtualservice', 'web', '-n', ns, '--type=merge', '-p', '{"spec":{"port":81}}'], 'cannot get resource "virtualservices"'],
    ['patch a RealServer spec', ['patch', 'realserver', 'web-1', '-n', ns, '--type=merge', '-p', '{"spec":{"weight":5}}'], 'cannot get resource "realservers"'],
    ['patch a DirectorGroup spec', ['patch', 'directorgroup', 'rbac-proof-edge', '--type=merge', '-p', '{"spec":{"interface":"eth1"}}'], 'cannot get resource "directorgroups"'],
    ['delete a VirtualService', ['delete', 'virtualservice', 'web', '-n', ns], 'cannot delete resource "virtualservices"'],
    ['create a VirtualService', ['create', '-f', '-'], 'cannot create resource "virtualservices"'],
    ['read Secrets', ['get', 'secrets', '-n', ns], 'cannot list resource "secrets"'],
    ['touch Leases', ['get', 'leases', '-n', ns], 'cannot list resource "leases"'],
  ])('the agent may not %s', async (_what, args, message) => {
    const input = args[0] === 'create'
      ? stringify({ ...vs, metadata: { name: 'sneaky', namespace: ns } })
      : args[0] === 'apply'
        ? stringify({ apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: dg.metadata.name }, status: { directors: ['node-a'] } })
        : undefined;
    const r = await api.kubectl(args, { kubeconfig: asAgent, ...(input ? { input } : {}) });
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.stderr).toContain('Forbidden');
    expect(r.stderr).toContain(message);
  });

  it('the spec is unchanged after the agent’s attempts', async () => {
    const got = JSON.parse(ok(await api.kubectl(['get', 'virtualservice', 'web', '-n', ns, '-o', 'json']))) as Obj;
    expect(got.spec.port).toBe(80);
    expect(got.metadata.generation).toBe(1);
  });

  async function can(kubeconfig: string, args: string[]): Promise<boolean> {
    const r = await api.kubectl(['auth', 'can-i', ...args], { kubeconfig });
    if (r.code !== 0 && r.stdout.trim() !== 'no') throw new Error(`auth can-i ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim() === 'yes';
  }

  it.each([
    // [who, verb and resource, expected]
    ['agent', ['watch', 'virtualservices.lvs.dev', '-A'], true],
    ['agent', ['list', 'endpointslices.discovery.k8s.io', '-A'], true],
    ['agent', ['watch', 'nodes'], true],
    ['agent', ['create', 'events.events.k8s.io', '-n', 'default'], true],
    ['agent', ['patch', 'virtualservices.lvs.dev', '--subresource=status', '-n', ns], true],
    ['agent', ['patch', 'realservers.lvs.dev', '--subresource=status', '-n', ns], false],
    ['agent', ['update', 'virtualservices.lvs.dev', '--subresource=status', '-n', ns], false],
    ['agent', ['update', 'virtualservices.lvs.dev', '-n', ns], false],
    ['agent', ['delete', 'events.events.k8s.io', '-n', ns], false],
    // Nothing the agent does needs these (informers list and watch; Events are events.k8s.io).
    ['agent', ['get', 'virtualservices.lvs.dev', '-n', ns], false],
    ['agent', ['get', 'nodes'], false],
    ['agent', ['create', 'events', '-n', 'default'], false],
    ['agent', ['get', 'leases.coordination.k8s.io', '-n', ns], false],
    ['controller', ['patch', 'directorgroups.lvs.dev', '--subresource=status'], true],
    ['controller', ['patch', 'virtualservices.lvs.dev', '--subresource=status', '-n', ns], true],
    // The VirtualServices derived from LoadBalancer Services: server-side apply and deletion.
    ['controller', ['patch', 'virtualservices.lvs.dev', '-n', ns], true],
    ['controller', ['create', 'virtualservices.lvs.dev', '-n', ns], true],
    ['controller', ['delete', 'virtualservices.lvs.dev', '-n', ns], true],
    ['controller', ['update', 'virtualservices.lvs.dev', '-n', ns], false],
    ['controller', ['delete', 'realservers.lvs.dev', '-n', ns], false],
    ['controller', ['patch', 'realservers.lvs.dev', '-n', ns], false],
    // LoadBalancer Services: their status only, never their spec; pools: read, and their status.
    ['controller', ['patch', 'services', '--subresource=status', '-n', ns], true],
    ['controller', ['patch', 'services', '-n', ns], false],
    ['controller', ['delete', 'services', '-n', ns], false],
    ['controller', ['watch', 'addresspools.lvs.dev'], true],
    ['controller', ['patch', 'addresspools.lvs.dev', '--subresource=status'], true],
    ['controller', ['patch', 'addresspools.lvs.dev'], false],
    ['controller', ['create', 'addresspools.lvs.dev'], false],
    ['controller', ['watch', 'namespaces'], true],
    ['agent', ['watch', 'addresspools.lvs.dev'], false],
    ['controller', ['list', 'secrets', '-n', ns], true],
    ['controller', ['list', 'secrets', '-A'], false],
    ['controller', ['watch', 'secrets', '-n', 'default'], false],
    ['controller', ['watch', 'leases.coordination.k8s.io', '-n', ns], true],
    ['controller', ['get', 'directorgroups.lvs.dev'], false],
    ['controller', ['create', 'events', '-n', 'default'], false],
    ['controller', ['get', 'secrets', '-n', ns], false],
    ['controller', ['create', 'leases.coordination.k8s.io', '-n', ns], true],
    ['controller', ['update', `leases.coordination.k8s.io/${controllerSa}`, '-n', ns], true],
    ['controller', ['update', 'leases.coordination.k8s.io/someone-else', '-n', ns], false],
    ['controller', ['create', 'leases.coordination.k8s.io', '-n', 'kube-system'], false],
    ['controller', ['delete', `leases.coordination.k8s.io/${controllerSa}`, '-n', ns], false],
    ['controller', ['create', 'events.events.k8s.io', '-n', 'default'], true],
  ] as const)('%s: can-i %j is %s', async (who, args, expected) => {
    expect(await can(who === 'agent' ? asAgent : asController, [...args])).toBe(expected);
  });

  it('the controller writes status but not specs (real requests with its token)', async () => {
    ok(await api.kubectl(['apply', '--server-side', '--subresource=status', '--field-manager=lvs-controller', '--force-conflicts', '-f', '-'], {
      kubeconfig: asController,
      input: stringify({ apiVersion: 'lvs.dev/v1alpha1', kind: 'DirectorGroup', metadata: { name: dg.metadata.name }, status: { directors: ['node-a'] } }),
    }), 'controller status apply');
    const r = await api.kubectl(['patch', 'directorgroup', dg.metadata.name, '--type=merge', '-p', '{"spec":{"interface":"eth1"}}'], { kubeconfig: asController });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('cannot get resource "directorgroups"'); // kubectl patch reads first: no get either
  });
});
