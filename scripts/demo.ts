// `npm run demo`: lvs-operator as users run it, on one machine. The product image is built from
// the repository's Dockerfile (or found cached), a Kubernetes cluster of real nodes boots (each
// node a Linux kernel with IPVS, User-Mode Linux, running containerd, kubelet and kube-proxy),
// `helm install` puts the controller and the agent DaemonSet on it, and the examples/ run with
// real pods as their real servers: the seed articles' LVS-DR web service on 192.168.10.0/24,
// LVS-NAT in front of a Kubernetes Service, UDP DNS, and an fwmark LVS-TUN service. It sends
// traffic, kills the VRRP master director, uninstalls, and ends with a verdict line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../test/lab/agents.js';
import { argoHealth, kstatus } from '../test/lab/gitops.js';
import { helmInstall, helm, labValues } from '../test/lab/kube-install.js';
import { labKernel } from '../test/lab/kernel.js';
import { createSite, type Site } from '../test/lab/kube-site.js';
import { projectRoot } from '../test/lab/paths.js';
import { tallyConnections } from '../test/lab/servers.js';
import { hostServerDaemonSet, workloadConfigMap } from '../test/lab/workloads/manifests.js';
import { Report, spread } from './demo/report.js';
import { demoNodes, subnet, webVip } from './demo/site.js';

const report = new Report();
let site: Site | undefined;

interface Vs { metadata: { name: string; namespace: string }; status?: { master?: string; conditions?: { type: string; status: string; message?: string }[]; backends?: { healthy: number; total: number } } }
const indent = (text: string): string => text.trimEnd().split('\n').map((l) => `      ${l}`).join('\n');
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function allVs(): Promise<Vs[]> {
  return (JSON.parse(await site!.kubectl(['get', 'virtualservices', '-A', '-o', 'json'])) as { items: Vs[] }).items;
}
const ready = (v: Vs): boolean => v.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

async function agentPod(node: string): Promise<string> {
  const out = await site!.kubectl(['get', 'pods', '-n', 'lvs-system', '-l', 'app.kubernetes.io/component=agent', '--field-selector', `spec.nodeName=${node}`, '-o', 'name']);
  return out.trim().split('\n')[0] ?? '';
}

/** The demo's real servers: web (HTTP on :80) on rs-1..3, DNS on rs-1 and rs-2, the api Deployment's pods with TLS. */
async function deployWorkloads(s: Site): Promise<void> {
  const img = s.image.ref;
  const dir = mkdtempSync(join(s.lab.dir, 'tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=api.internal.example.com', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' });
  await s.kubectl(['create', 'secret', 'tls', 'api-tls', '-n', 'lvs-demo', `--cert=${join(dir, 'tls.crt')}`, `--key=${join(dir, 'tls.key')}`]);
  const objects = [
    workloadConfigMap('lvs-demo'),
    hostServerDaemonSet('web', 'lvs-demo', 'lvs.dev/web', { image: img, args: ['http', '80'], readiness: { port: 80, scheme: 'HTTP' } }),
    hostServerDaemonSet('dns', 'lvs-demo', 'lvs.dev/examples', { image: img, args: ['dns', '53'] }),
  ];
  await s.kubectl(['apply', '-f', '-'], objects.map((o) => JSON.stringify(o)).join('\n'));
  // examples/nat-kubernetes-service.yaml's Deployment names an image of the user's; here it is
  // the lab's server with a TLS certificate, on :8443 as the example says.
  const patch = {
    spec: { template: { spec: {
      containers: [{
        name: 'api', image: img, imagePullPolicy: 'Never', command: ['node', '/lab/pod-server.mjs', 'https', '8443', '/tls'],
        env: [{ name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
        volumeMounts: [{ name: 'workload', mountPath: '/lab' }, { name: 'tls', mountPath: '/tls' }],
      }],
      volumes: [{ name: 'workload', configMap: { name: 'lab-workload' } }, { name: 'tls', secret: { secretName: 'api-tls' } }],
    } } },
  };
  await s.kubectl(['patch', 'deployment', 'api', '-n', 'lvs-demo', '--type', 'strategic', '-p', JSON.stringify(patch)]);
}

try {
  report.step('Image: the repository\'s Dockerfile, built here without a registry');
  const kernel = labKernel();
  const t0 = Date.now();
  site = await createSite({
    name: 'demo', subnet, nodes: demoNodes(),
    progress: (l) => { if (/^(lab|image): /.test(l) && !/^image: +/.test(l)) report.info(l.replace(/^lab: /, '')); },
  });
  const s = site;
  const size = (statSync(s.image.tar).size / 1e6).toFixed(0);
  report.info(`${s.image.ref} ${s.image.built ? `built in ${secs(s.image.ms)}` : 'found in the cache'} (image archive ${size} MB)`);
  report.step(`Cluster: ${s.nodes.size} real nodes (Linux ${kernel.release} with IPVS; containerd, kubelet, kube-proxy) Ready ${secs(Date.now() - t0)} after start`);
  report.info(indent(await s.kubectl(['get', 'nodes', '-L', 'lvs.dev/director'])));

  report.step('helm install lvs-operator charts/lvs-operator -n lvs-system --create-namespace --wait');
  const t1 = Date.now();
  // The demo's nodes are throw-away: the agent may set its sysctls itself (docs/operations.md).
  await helmInstall(s, labValues(s.image, { agent: { privileged: true } }));
  report.check('controller Deployment and agent DaemonSet Ready under kubelet\'s probes', true, `helm install to all Ready: ${secs(Date.now() - t1)}`);
  report.info(`kubectl get pods -n lvs-system -o wide:\n${indent(await s.kubectl(['get', 'pods', '-n', 'lvs-system', '-o', 'wide']))}`);

  report.step('kubectl apply -f examples/...  (DR web, NAT via a Service, UDP DNS, fwmark TUN) with real pods behind them');
  report.info(indent(await s.kubectl(['apply', '-f', join(projectRoot, 'examples', '00-namespaces.yaml'), ...demoExamples()])));
  await deployWorkloads(s);
  // The DR example's real servers are "other machines": here they are nodes whose agents do the
  // real-server side (VIP on lo, ARP sysctls); a third joins.
  for (const i of [1, 2]) await s.kubectl(['patch', 'realserver', `web-${i}`, '-n', 'lvs-demo', '--type', 'merge', '-p', JSON.stringify({ spec: { nodeName: `rs-${i}` } })]);
  for (const i of [1, 2]) await s.kubectl(['patch', 'realserver', `shop-${i}`, '-n', 'lvs-demo', '--type', 'merge', '-p', JSON.stringify({ spec: { nodeName: `rs-${i}` } })]);
  await s.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'lvs.dev/v1alpha1', kind: 'RealServer', metadata: { name: 'web-3', namespace: 'lvs-demo', labels: { app: 'web' } }, spec: { address: `${subnet}.103`, weight: 1, nodeName: 'rs-3' } }));
  report.info('workloads: DaemonSets web (HTTP :80 on rs-1..3) and dns (UDP :53 on rs-1, rs-2); Deployment api runs the lab server with TLS on :8443');

  report.step('Every example service Ready with real backends');
  const allReady = await waitFor(async () => {
    const items = await allVs();
    return items.length === 4 && items.every((v) => ready(v) && (v.status?.backends?.healthy ?? 0) > 0 && v.status?.backends?.healthy === v.status?.backends?.total);
  }, 240_000);
  for (const v of await allVs()) {
    const why = v.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
    report.check(`${v.metadata.name}: Ready, ${v.status?.backends?.healthy ?? 0} of ${v.status?.backends?.total ?? 0} real servers healthy`, ready(v) && (v.status?.backends?.healthy ?? 0) > 0, ready(v) ? '' : why);
  }
  if (!allReady) report.info('(not all services became Ready within 4 minutes)');
  report.info(`kubectl get lvsvs -A:\n${indent(await s.kubectl(['get', 'lvsvs', '-A']))}`);
  // What GitOps tools see: kstatus (Flux) on the release and every example object, Argo CD's health Lua on each service.
  const lvsObjects = (JSON.parse(await s.kubectl(['get', 'virtualservices,realservers,directorgroups', '-A', '-o', 'json'])) as { items: { kind: string; metadata: { name: string; namespace?: string } }[] }).items;
  const verdicts = await kstatus(s.lab.api.kubeconfigPath, [
    { group: 'apps', kind: 'Deployment', namespace: 'lvs-system', name: 'lvs-operator-controller' },
    { group: 'apps', kind: 'DaemonSet', namespace: 'lvs-system', name: 'lvs-operator-agent' },
    ...lvsObjects.map((o) => ({ group: 'lvs.dev', kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) })),
  ]);
  const notCurrent = verdicts.filter((v) => v.status !== 'Current');
  report.check(`kstatus: the release and all ${lvsObjects.length} example objects Current`, notCurrent.length === 0, notCurrent.map((v) => `${v.kind} ${v.name} ${v.status}`).join(', '));
  const health = await Promise.all((await allVs()).map(async (v) => `${v.metadata.name}=${(await argoHealth(v)).status}`));
  report.check('Argo CD health (docs/install.md Lua): every service Healthy', health.every((h) => h.endsWith('=Healthy')), health.join(' '));
  report.info(`kubectl get endpointslices -n lvs-demo:\n${indent(await s.kubectl(['get', 'endpointslices', '-n', 'lvs-demo']))}`);

  const web = (await allVs()).find((v) => v.metadata.name === 'web');
  const master = web?.status?.master ?? '';
  const backup = master === 'd1' ? 'd2' : 'd1';
  const masterPod = await agentPod(master);
  report.info(`kubectl exec -n lvs-system ${masterPod} -- ipvsadm -Ln   (${master}, the VRRP master of edge):\n${indent(await s.kubectl(['exec', '-n', 'lvs-system', masterPod, '--', 'ipvsadm', '-Ln']))}`);
  const rs1 = s.nodes.get('rs-1')!;
  const lo = await rs1.exec('ip -o addr show dev lo; sysctl -n net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce');
  report.check('rs-1 (agent pod): VIP on lo, arp_ignore=1, arp_announce=2', lo.includes(`${webVip}/32`) && /\n1\n2\n?$/.test(lo));

  report.step('Client: 40 HTTP requests to the VIP (wrr, weights 1:2:1)');
  const t = await tallyConnections(s.client, webVip, 80, 40, 'http');
  report.check('spread by weight', t['rs-1'] === 10 && t['rs-2'] === 20 && t['rs-3'] === 10, spread(t));

  await showLoadBalancer(s, master);

  report.step(`Failover: the master director ${master} dies (its kernel is killed)`);
  const killedAt = Date.now();
  s.nodes.get(master)!.crash();
  let servedAgain = 0;
  const back = await waitFor(async () => {
    const r = await tallyConnections(s.client, webVip, 80, 1, 'http').catch(() => ({} as Record<string, number>));
    if (Object.keys(r).some((k) => k.startsWith('rs-'))) servedAgain = Date.now();
    return servedAgain > 0;
  }, 60_000);
  report.check(`the VIP serves again from ${backup}`, back, `${secs(servedAgain - killedAt)} after the kill, VRRP v2 1 s adverts`);
  const t2 = await tallyConnections(s.client, webVip, 80, 40, 'http');
  report.check('spread by weight through the new master', t2['rs-1'] === 10 && t2['rs-2'] === 20 && t2['rs-3'] === 10, spread(t2));
  report.check('status names the new master', await waitFor(async () => (await allVs()).find((v) => v.metadata.name === 'web')?.status?.master === backup, 60_000));

  report.step('Cleanup: kubectl delete the examples, then helm uninstall; the agents remove exactly what they created');
  // Not 00-namespaces.yaml: lvs-system holds the release.
  await s.kubectl(['delete', ...demoExamples(), '-f', join(projectRoot, 'examples', 'load-balancer-local.yaml'), '--ignore-not-found', '--wait=false']);
  await s.kubectl(['delete', 'realserver', 'web-3', '-n', 'lvs-demo', '--ignore-not-found']);
  const survivor = s.nodes.get(backup)!;
  const clean = await waitFor(async () => (await survivor.exec('ipvsadm -Sn')).trim() === '' && !(await survivor.exec('ip -o addr show dev eth0')).includes(webVip), 60_000);
  report.check(`${backup}: IPVS table empty, VIP released`, clean);
  report.check('rs-1: VIP gone from lo', await waitFor(async () => !(await rs1.exec('ip -o addr show dev lo')).includes(webVip), 60_000));
  await helm(s, ['uninstall', 'lvs-operator', '-n', 'lvs-system', '--wait', '--timeout', '5m']);
  // The dead director's pods stay Terminating until its kubelet answers again, as on any cluster.
  const leftOn = async (): Promise<string[]> => (await s.kubectl(['get', 'pods', '-n', 'lvs-system', '-o', 'jsonpath={.items[*].spec.nodeName}'])).split(/\s+/).filter((n) => n && n !== master);
  report.check(`helm uninstall: no lvs-operator pod left on the live nodes`, await waitFor(async () => (await leftOn()).length === 0, 90_000));
} catch (e) {
  report.fail((e as Error).message);
} finally {
  await site?.destroy().catch(() => undefined);
}
console.log(`\n${report.verdict()}`);
process.exit(report.passed ? 0 : 1);

/**
 * examples/load-balancer-local.yaml: `kubectl get svc` shows the address from the pool; the nodes
 * with ready pods are the real servers, weighted by their pods; the pods see the client's address.
 */
async function showLoadBalancer(s: Site, master: string): Promise<void> {
  report.step('kubectl apply -f examples/load-balancer-local.yaml  (type: LoadBalancer, externalTrafficPolicy: Local)');
  report.info(indent(await s.kubectl(['apply', '-f', join(projectRoot, 'examples', 'load-balancer-local.yaml')])));
  // The example names an image of the user's; here it is the lab's server, on :8080 as the example says.
  const patch = { spec: { template: { spec: {
    containers: [{
      name: 'web', image: s.image.ref, imagePullPolicy: 'Never', command: ['node', '/lab/pod-server.mjs', 'http', '8080'],
      env: [{ name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
      volumeMounts: [{ name: 'workload', mountPath: '/lab' }],
    }],
    volumes: [{ name: 'workload', configMap: { name: 'lab-workload' } }],
  } } } };
  await s.kubectl(['patch', 'deployment', 'web-local', '-n', 'lvs-demo', '--type', 'strategic', '-p', JSON.stringify(patch)]);
  // All three pods of the patched Deployment, not the first one Ready.
  await s.kubectl(['rollout', 'status', 'deployment/web-local', '-n', 'lvs-demo', '--timeout=240s']);
  interface Svc { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }
  let address = '';
  const served = await waitFor(async () => {
    const svc = JSON.parse(await s.kubectl(['get', 'service', 'web-local', '-n', 'lvs-demo', '-o', 'json'])) as Svc;
    address = svc.status?.loadBalancer?.ingress?.[0]?.ip ?? '';
    const v = (await allVs()).find((x) => x.metadata.name === 'web-local-80-tcp');
    const pods = await readyPodsByNode(s);
    return address !== '' && v !== undefined && ready(v) && v.status?.backends?.healthy === pods.size && pods.size > 0;
  }, 180_000);
  report.check('the Service got an address from AddressPool demo-local; its VirtualService is Ready with every node of its pods healthy', served);
  report.info(`kubectl get svc -n lvs-demo web-local:\n${indent(await s.kubectl(['get', 'service', 'web-local', '-n', 'lvs-demo']))}`);
  const pods = await readyPodsByNode(s);
  report.info(`ready pods per node: ${[...pods].map(([n, c]) => `${n}=${c}`).join(' ')}; ipvsadm -Ln -t ${address}:80 on ${master}:\n${indent(await s.nodes.get(master)!.exec(`ipvsadm -Ln -t ${address}:80`))}`);
  report.step(`Client: 30 HTTP requests to ${address} (wrr over the nodes, weights = their ready pods)`);
  const t = await tallyConnections(s.client, address, 80, 30, 'http');
  const total = [...pods.values()].reduce((a, b) => a + b, 0);
  const byPods = [...pods].every(([n, c]) => t[n] === (30 * c) / total) && Object.keys(t).length === pods.size;
  report.check('spread by the nodes\' ready pods, straight from the nodes (DR)', byPods, spread(t));
  const headers = (await s.client.exec('curl', ['-s', '-m', '5', '-D', '-', '-o', '/dev/null', `http://${address}/`])).stdout;
  const seen = /^x-client: (\S+)/im.exec(headers)?.[1] ?? '';
  const own = (await s.client.exec('ip', ['-o', '-4', 'addr', 'show', 'scope', 'global'])).stdout;
  report.check('the pod sees the client\'s own address', seen !== '' && own.includes(` ${seen}/`), `x-client: ${seen || '(none)'}`);
}

/** Ready pods of web-local per node. */
async function readyPodsByNode(s: Site): Promise<Map<string, number>> {
  interface Pod { spec: { nodeName?: string }; status: { conditions?: { type: string; status: string }[] }; metadata: { deletionTimestamp?: string } }
  const pods = (JSON.parse(await s.kubectl(['get', 'pods', '-n', 'lvs-demo', '-l', 'app=web-local', '-o', 'json'])) as { items: Pod[] }).items;
  const out = new Map<string, number>();
  for (const p of pods) {
    if (p.metadata.deletionTimestamp || !p.spec.nodeName || !p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    out.set(p.spec.nodeName, (out.get(p.spec.nodeName) ?? 0) + 1);
  }
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

/** The examples the demo runs with real pods (nat-gateway.yaml needs directors with an inner network: e2e/nat-gateway.test.ts). */
function demoExamples(): string[] {
  return ['dr-web.yaml', 'nat-kubernetes-service.yaml', 'dns-udp.yaml', 'fwmark-persistence.yaml'].flatMap((f) => ['-f', join(projectRoot, 'examples', f)]);
}
