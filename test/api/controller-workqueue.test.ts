// The controller's status writes run in a keyed work queue: an object whose status the API
// server refuses retries on its own backoff (transient) or not at all until it changes
// (terminal), and neither holds back nor is hammered by the passes of other objects. A
// ValidatingAdmissionPolicy refuses the status of chosen objects.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DirectorGroup, VirtualService } from '../../src/api/index.js';
import type { Controller } from '../../src/controller/controller.js';
import { eventually, installCrds, kit, sleep, unique } from './controller-kit.js';

const k = await kit(inject('kubeconfig'), inject('binDir'), 'controller-workqueue');
const c = k.clients;
const ns = unique('wq');
const group = `${ns}-g`;
const flaky = 'flaky';
const refused = 'refused';
let controller: Controller;

const policy = (reason: string, name: string) => `
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: { name: ${ns}-${name} }
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - { apiGroups: [lvs.dev], apiVersions: ['*'], operations: [CREATE, UPDATE], resources: [virtualservices/status] }
  validations:
    - expression: "object.metadata.namespace != '${ns}' || object.metadata.name != '${name}'"
      message: refused by the test policy
      reason: ${reason}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: { name: ${ns}-${name} }
spec:
  policyName: ${ns}-${name}
  validationActions: [Deny]
`;

let port = 1000;
function createVS(name: string): Promise<VirtualService> {
  port++;
  return c.virtualServices.create({
    metadata: { name, namespace: ns },
    spec: { directorGroup: group, vip: '203.0.113.9', port, protocol: 'TCP', backends: { realServerSelector: { matchLabels: { app: name } } } },
  } as unknown as VirtualService);
}

async function failedWrites(): Promise<number> {
  const m = await controller.metrics.statusWrites.get();
  return m.values.filter((v) => v.labels.kind === 'VirtualService' && v.labels.result === 'error').reduce((a, v) => a + v.value, 0);
}

/** Creates `n` other services 100 ms apart (each a pass) and checks each gets its status at once. */
async function churn(n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const name = `${prefix}-${i}`;
    await createVS(name);
    await eventually(async () => expect(((await c.virtualServices.get(name, ns)) as VirtualService).status?.observedGeneration).toBe(1), 2000);
    await sleep(100);
  }
}

beforeAll(async () => {
  await installCrds(k.api);
  expect((await k.api.kubectl(['create', 'namespace', ns])).code).toBe(0);
  await c.directorGroups.create({ metadata: { name: group }, spec: { nodeSelector: { matchLabels: { [`lvs.dev/${ns}`]: 'x' } }, interface: 'eth0' } } as unknown as DirectorGroup);
  for (const [reason, name] of [['Forbidden', flaky], ['Invalid', refused]] as const) {
    const r = await k.api.kubectl(['apply', '-f', '-'], { input: policy(reason, name) });
    expect(r.code, r.stderr).toBe(0);
  }
  await sleep(1500); // the API server picks policies up asynchronously
  controller = await k.startController();
});

afterAll(async () => {
  await k.stopAll();
  for (const name of [flaky, refused]) await k.api.kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', `${ns}-${name}`, '--wait=false']);
  await k.api.kubectl(['delete', 'virtualservices', '--all', '-n', ns, '--wait=false']);
  await k.api.kubectl(['delete', 'namespace', ns, '--wait=false']);
  await c.directorGroups.delete(group);
  k.close();
});

describe('status work queue', () => {
  it('a refused (transient) status backs off on its own: other objects are written at once and do not retry it', async () => {
    await createVS(flaky);
    await eventually(async () => expect(await failedWrites()).toBeGreaterThan(0), 5000);
    const before = await failedWrites();
    await churn(15, 'a'); // about 2 s of passes
    // Per-key backoff (0.5, 1, 2 s ...): a handful of retries, not one per pass.
    expect((await failedWrites()) - before).toBeLessThanOrEqual(4);
    await c.virtualServices.delete(flaky, ns);
  });

  it('an invalid (terminal) status is not retried until the object changes', async () => {
    await createVS(refused);
    await eventually(async () => expect(await failedWrites()).toBeGreaterThan(0), 5000);
    await sleep(300);
    const before = await failedWrites();
    await churn(15, 'b');
    await sleep(1500);
    expect(await failedWrites()).toBe(before);
    await c.virtualServices.mergePatch(refused, ns, { metadata: { labels: { touched: 'yes' } } });
    await eventually(async () => expect(await failedWrites()).toBe(before + 1), 5000);
  });
});
