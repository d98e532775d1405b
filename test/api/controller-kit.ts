// Shared by the controller API tests: clients on the harness API server, CRD install,
// in-process controllers, polling.
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Controller, type ControllerOptions } from '../../src/controller/controller.js';
import { makeClients, type KubeClients } from '../../src/kube/client.js';
import { fromKubeconfigFile } from '../../src/kube/config.js';
import { KubeHttp } from '../../src/kube/http.js';
import type { Event } from '../../src/kube/types.js';
import { type ApiConnection, connectApiServer } from './harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export interface Kit {
  api: ApiConnection;
  kubeconfig: string;
  clients: KubeClients;
  /** Controllers started through the kit; stopped by stopAll(). */
  controllers: Controller[];
  startController(o?: Partial<ControllerOptions>): Promise<Controller>;
  stopAll(): Promise<void>;
  close(): void;
}

/** Quiet unless LOG_LEVEL asks otherwise: the controller logs to stderr of the test run. */
export function testLogger(name: string) {
  return pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { test: name } }, pino.destination(2));
}

export async function kit(kubeconfig: string, binDir: string, name: string): Promise<Kit> {
  const api = connectApiServer(kubeconfig, binDir);
  const http = new KubeHttp(await fromKubeconfigFile(kubeconfig));
  const clients = makeClients(http);
  const controllers: Controller[] = [];
  return {
    api,
    kubeconfig,
    clients,
    controllers,
    async startController(o = {}) {
      const c = new Controller({
        access: await fromKubeconfigFile(kubeconfig),
        debounceMs: 20,
        informer: { backoffInitialMs: 100, backoffMaxMs: 1000 },
        log: testLogger(name),
        ...o,
      });
      controllers.push(c);
      await c.start();
      return c;
    },
    async stopAll() {
      await Promise.all(controllers.splice(0).map((c) => c.stop()));
    },
    close() {
      http.close();
    },
  };
}

export async function installCrds(api: ApiConnection): Promise<void> {
  const dir = join(root, 'crds');
  const applied = await api.kubectl(['apply', '--server-side', '--force-conflicts', '-f', dir]);
  if (applied.code !== 0) throw new Error(`kubectl apply -f crds/: ${applied.stderr}`);
  const waited = await api.kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', dir]);
  if (waited.code !== 0) throw new Error(`CRDs not Established: ${waited.stderr}`);
}

/** Polls `check` until it stops throwing; rethrows its last failure after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Events (events.k8s.io/v1) about one object. */
export async function eventsFor(clients: KubeClients, namespace: string, name: string): Promise<Event[]> {
  const { items } = await clients.events.list({ namespace });
  return items.filter((e) => e.regarding.name === name);
}

export function condition(obj: { status?: { conditions?: { type: string }[] | undefined } | undefined } | undefined, type: string) {
  return obj?.status?.conditions?.find((c) => c.type === type) as
    | { type: string; status: string; reason: string; message: string; observedGeneration?: number; lastTransitionTime: string }
    | undefined;
}

/** A Node object as a kubelet would register it (no kubelet runs here; the controller only reads labels). */
export function nodeObject(name: string, labels: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } };
}
