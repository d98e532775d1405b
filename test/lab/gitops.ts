// What GitOps tools would say about objects on a cluster, computed by their own rules:
//
//   kstatus(kubeconfig, target)  kstatus (Flux's health rules, `kapply status` from sigs.k8s.io/cli-utils,
//                                built from the Go module pinned in scripts/k8s/cli-utils)
//   argoHealth(obj)              the Argo CD health check in docs/install.md, run by a Lua 5.1
//                                interpreter (Argo CD runs it with gopher-lua, also Lua 5.1)
//
// `kapply status` reports the objects listed in an inventory: a ConfigMap labelled
// cli-utils.sigs.k8s.io/inventory-id whose data keys are `<namespace>_<name>_<group>_<kind>`,
// which `kapply apply` writes for the objects it applies. kstatus() writes that same ConfigMap
// for the objects it is asked about (and deletes it afterwards), so objects installed by Helm,
// kubectl or the tests can be checked without kapply owning them.
//
// Needs: `lua5.1` and `lua-cjson` (Debian; scripts/setup.sh installs them) and kapply
// (K8S_BINS_GITOPS=1 scripts/k8s-bins.sh, which ensureKapply() runs: cached after the first build).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** kstatus' verdicts (sigs.k8s.io/cli-utils/pkg/kstatus/status). */
export type KStatus = 'Current' | 'InProgress' | 'Failed' | 'Terminating' | 'NotFound' | 'Unknown';

/** An object to ask about: `apiVersion` (or `group`), kind, name, and namespace for namespaced kinds. */
export interface ObjectRef {
  apiVersion?: string;
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface KStatusResult {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  status: KStatus;
  message: string;
}

export interface KStatusOptions {
  /** Directory with kapply and kubectl; default: ensureKapply(). */
  binDir?: string;
  /** Namespace of the temporary inventory ConfigMap (default `default`; it must exist). */
  inventoryNamespace?: string;
  /** `known` (default): one poll, every object's status as it is now; `current`: poll until all are Current. */
  pollUntil?: 'known' | 'current';
  /** Give up polling after this long (default 60 s); the last statuses seen are returned. */
  timeoutSeconds?: number;
}

function run(cmd: string, args: string[], o: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: o.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', fail);
    child.once('close', (code, sig) => done({ code: code ?? (sig ? 128 : 1), stdout, stderr }));
    child.stdin.end(o.input ?? '');
  });
}

let kapplyDir: Promise<string> | undefined;

/** Builds kapply if needed (K8S_BINS_GITOPS=1 scripts/k8s-bins.sh) and returns the bin dir (kapply, kubectl, ...). */
export function ensureKapply(): Promise<string> {
  kapplyDir ??= (async () => {
    const script = join(repoRoot, 'scripts', 'k8s-bins.sh');
    const r = await run('bash', [script], { env: { ...process.env, K8S_BINS_GITOPS: '1', K8S_BINS_SKIP_HELM: process.env['K8S_BINS_SKIP_HELM'] ?? '' } });
    const dir = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !dir) throw new Error(`K8S_BINS_GITOPS=1 ${script} failed (exit ${r.code}):\n${r.stderr}`);
    return dir;
  })();
  return kapplyDir;
}

function groupOf(ref: ObjectRef): string {
  if (ref.group !== undefined) return ref.group;
  const av = ref.apiVersion ?? 'v1';
  return av.includes('/') ? av.slice(0, av.indexOf('/')) : '';
}

/** cli-utils' inventory key (object.ObjMetadata.String()); RBAC names transcode `:` as `__`. */
function inventoryKey(ref: ObjectRef): string {
  const group = groupOf(ref);
  const rbac = group === 'rbac.authorization.k8s.io' && ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(ref.kind);
  const name = rbac ? ref.name.replaceAll(':', '__') : ref.name;
  return `${ref.namespace ?? ''}_${name}_${group}_${ref.kind}`;
}

/** Objects named in the YAML/JSON manifests of a file or a directory (recursively); List items count. */
export async function manifestRefs(path: string): Promise<ObjectRef[]> {
  const files: string[] = [];
  const walk = async (p: string): Promise<void> => {
    if ((await stat(p)).isDirectory()) {
      for (const e of (await readdir(p)).sort()) await walk(join(p, e));
    } else if (/\.(ya?ml|json)$/.test(p) || p === path) files.push(p);
  };
  await walk(path);
  const refs: ObjectRef[] = [];
  const add = (o: unknown): void => {
    const obj = o as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string }; items?: unknown[] } | null;
    if (!obj?.kind) return;
    if (obj.kind.endsWith('List') && Array.isArray(obj.items)) return obj.items.forEach(add);
    if (!obj.metadata?.name) return;
    const ref: ObjectRef = { apiVersion: obj.apiVersion ?? 'v1', kind: obj.kind, name: obj.metadata.name };
    if (obj.metadata.namespace) ref.namespace = obj.metadata.namespace;
    refs.push(ref);
  };
  for (const f of files) for (const doc of parseAllDocuments(await readFile(f, 'utf8'))) add(doc.toJS());
  return refs;
}

/**
 * kstatus of each object, in the order asked, as `kapply status` reports it: `target` is a
 * manifest file or directory (the objects it names; namespaced objects must carry their
 * namespace), or a list of objects or references (`{apiVersion, kind, namespace?, name}`;
 * whole objects from the API server work as they are).
 */
export async function kstatus(kubeconfig: string, target: string | readonly ObjectRef[], o: KStatusOptions = {}): Promise<KStatusResult[]> {
  const refs = typeof target === 'string' ? await manifestRefs(target) : target.map((t) => {
    const m = (t as { metadata?: { name?: string; namespace?: string } }).metadata;
    return m ? { ...t, name: m.name ?? '', ...(m.namespace ? { namespace: m.namespace } : {}) } : t;
  });
  if (refs.length === 0) return [];
  const binDir = o.binDir ?? (await ensureKapply());
  const ns = o.inventoryNamespace ?? 'default';
  const id = `lvs-kstatus-${randomBytes(4).toString('hex')}`;
  const meta = { name: id, namespace: ns, labels: { 'cli-utils.sigs.k8s.io/inventory-id': id } };
  const dir = await mkdtemp(join(tmpdir(), 'lvs-kstatus-'));
  const kubectl = (args: string[], input?: string) =>
    run(join(binDir, 'kubectl'), ['--kubeconfig', kubeconfig, ...args], input === undefined ? {} : { input });
  try {
    // The local inventory template (what `kapply init` writes) and the cluster inventory (what `kapply apply` writes).
    await writeFile(join(dir, 'inventory-template.yaml'), stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta }));
    const data = Object.fromEntries(refs.map((r) => [inventoryKey(r), '']));
    const made = await kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, data }));
    if (made.code !== 0) throw new Error(`kstatus: creating inventory ConfigMap ${ns}/${id}: ${made.stderr}`);
    const r = await run(join(binDir, 'kapply'), [
      'status', dir, '--kubeconfig', kubeconfig, '--cache-dir', `${dir}.cache`, '--output', 'json',
      '--poll-until', o.pollUntil ?? 'known', '--poll-period', '1s', '--timeout', `${o.timeoutSeconds ?? 60}s`,
    ]);
    const last = new Map<string, KStatusResult>();
    const errors: string[] = [];
    for (const line of r.stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as Record<string, string>;
      if (e['type'] === 'status') {
        const res: KStatusResult = {
          group: e['group'] ?? '', kind: e['kind'] ?? '', namespace: e['namespace'] ?? '', name: e['name'] ?? '',
          status: e['status'] as KStatus, message: e['message'] ?? '',
        };
        last.set(`${res.namespace}_${res.name}_${res.group}_${res.kind}`, res);
      } else if (e['type'] === 'error') errors.push(e['error'] ?? line);
    }
    return refs.map((ref) => {
      const res = last.get(`${ref.namespace ?? ''}_${ref.name}_${groupOf(ref)}_${ref.kind}`);
      if (!res) {
        throw new Error(`kstatus: no status for ${inventoryKey(ref)} (kapply exit ${r.code})\n${errors.join('\n')}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      }
      return res;
    });
  } finally {
    await kubectl(['delete', 'configmap', id, '-n', ns, '--ignore-not-found', '--wait=false']);
    await rm(dir, { recursive: true, force: true });
    await rm(`${dir}.cache`, { recursive: true, force: true });
  }
}

// ---- Argo CD ----

/** Argo CD health: what a resource customization returns (`hs`). */
export interface ArgoHealth {
  status: 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';
  message?: string;
}

const installDoc = join(repoRoot, 'docs', 'install.md');

/**
 * The `resource.customizations.health.<group>_<kind>` entries of the argocd-cm snippet in
 * docs/install.md (YAML anchors resolved), keyed by `<group>_<kind>`.
 */
export async function argoHealthScripts(doc = installDoc): Promise<Map<string, string>> {
  const text = await readFile(doc, 'utf8');
  const out = new Map<string, string>();
  const fence = /^([ \t]*)```ya?ml\n([\s\S]*?)^\1```/gm;
  for (const m of text.matchAll(fence)) {
    const indent = m[1] ?? '';
    const body = (m[2] ?? '').split('\n').map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l)).join('\n');
    if (!body.includes('resource.customizations.health.')) continue;
    const parsed = parse(body) as Record<string, unknown>;
    for (const [k, v] of Object.entries(parsed ?? {})) {
      const key = /^resource\.customizations\.health\.(.+)$/.exec(k)?.[1];
      if (key && typeof v === 'string') out.set(key, v);
    }
  }
  return out;
}

// Argo CD hands the script the live object as the global `obj` (JSON nulls are absent keys there)
// and takes the table it returns.
const LUA_RUNNER = `
local cjson = require("cjson")
local function strip(v)
  if v == cjson.null then return nil end
  if type(v) == "table" then for k, x in pairs(v) do v[k] = strip(x) end end
  return v
end
obj = strip(cjson.decode(io.read("*a")))
local chunk = assert(loadstring(os.getenv("ARGO_HEALTH_LUA"), "=health.lua"))
local hs = chunk()
if type(hs) ~= "table" then error("health script returned " .. type(hs)) end
io.write(cjson.encode({ status = hs.status, message = hs.message }))
`;

/**
 * Argo CD's health verdict for a live object (as JSON from the API server), from the health
 * customization for its group and kind in docs/install.md. `script` overrides the Lua.
 */
export async function argoHealth(obj: object, script?: string): Promise<ArgoHealth> {
  let lua = script;
  if (lua === undefined) {
    const o = obj as { apiVersion?: string; kind?: string };
    const key = `${groupOf({ kind: o.kind ?? '', name: '', ...(o.apiVersion ? { apiVersion: o.apiVersion } : {}) })}_${o.kind ?? ''}`;
    lua = (await argoHealthScripts()).get(key);
    if (lua === undefined) throw new Error(`argoHealth: docs/install.md has no resource.customizations.health.${key}`);
  }
  const r = await run('lua5.1', ['-e', LUA_RUNNER], { input: JSON.stringify(obj), env: { ...process.env, ARGO_HEALTH_LUA: lua } });
  if (r.code !== 0) throw new Error(`argoHealth: lua5.1 failed (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as ArgoHealth;
}
