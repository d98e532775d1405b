import { apiVersion, parseLvsObject } from '../api/index.js';
import type { Findings, Place } from './finding.js';
import { type Drafts, type GroupDraft, selectorLabel } from './drafts.js';
import { objectName } from './names.js';

export interface ImportOptions {
  /** Namespace of the VirtualServices, RealServers and the VRRP password Secret. */
  namespace: string;
  /** Name of the DirectorGroup (a suffix per vrrp_instance when there are several). */
  group?: string | undefined;
  /** Label of the director nodes; default lvs.dev/director-group=<group>. */
  nodeSelector?: { key: string; value: string } | undefined;
  /** Interface of a group that no vrrp_instance describes (an ipvsadm dump). */
  interface?: string | undefined;
  /** Every VirtualService takes over the IPVS service keepalived leaves behind (spec.adopt). */
  adopt?: boolean | undefined;
}

export type ImportedObject = Record<string, unknown> & {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

function groupNames(drafts: Drafts, opts: ImportOptions): string[] {
  const base = objectName(opts.group ?? drafts.routerId ?? 'imported');
  if (drafts.groups.length <= 1) return [base];
  return drafts.groups.map((g) => objectName(base, g.instance ?? ''));
}

/** Which group carries a VIP: the vrrp_instance holding it, else the first group. */
function groupOf(vip: string | undefined, drafts: Drafts, names: string[]): { name: string; found: boolean } {
  const i = vip === undefined ? -1 : drafts.groups.findIndex((g) => g.vips.some((v) => v.address === vip));
  return { name: names[Math.max(i, 0)] as string, found: i >= 0 };
}

type Gateway = { v: GroupDraft['vips'][number]; iface: string; peers: unknown };

/**
 * A vrrp_sync_group moves its instances together. The API's form of that is one group whose
 * service VIPs and gateway addresses move together, so members carrying no service merge into
 * the member that does, their addresses becoming its gateway addresses on their interfaces.
 */
function mergeSyncGroups(drafts: Drafts, findings: Findings): Map<GroupDraft, Gateway[]> {
  const out = new Map<GroupDraft, Gateway[]>();
  const carries = (g: GroupDraft): boolean => g.vips.some((v) => drafts.services.some((s) => s.spec.vip === v.address));
  for (const sg of drafts.syncGroups) {
    const members = sg.members.map((m) => drafts.groups.find((g) => g.instance === m)).filter((g) => g !== undefined);
    const primary = members.find(carries) ?? (drafts.services.length > 0 ? undefined : members[0]);
    if (!primary) {
      findings.warn(sg.at, `vrrp_sync_group ${sg.name} (${sg.members.join(', ')}) is not carried: no member holds a service VIP; each becomes its own group`);
      continue;
    }
    const merged = members.filter((g) => g !== primary && !carries(g));
    for (const g of merged) {
      out.set(primary, [...(out.get(primary) ?? []), ...g.vips.map((v) => ({ v, iface: v.dev ?? g.interface, peers: g.vrrp.unicastPeers }))]);
      drafts.groups.splice(drafts.groups.indexOf(g), 1);
    }
    const apart = members.filter((g) => g !== primary && carries(g));
    findings.info(
      sg.at,
      `vrrp_sync_group ${sg.name}: ${[primary, ...merged].map((g) => g.instance).join(', ')} move together as one DirectorGroup${merged.length > 0 ? ` (${merged.map((g) => g.instance).join(', ')} as its gateway addresses)` : ''}`,
    );
    if (apart.length > 0)
      findings.warn(sg.at, `${apart.map((g) => g.instance).join(', ')} of vrrp_sync_group ${sg.name} carry services of their own and stay separate groups: they elect on their own, not with ${primary.instance ?? ''}`);
  }
  return out;
}

/**
 * Names the drafts, places each service in its DirectorGroup, and keeps only objects our
 * schemas accept; a refused one is reported at the place it came from, with the schema's words.
 */
export function emitObjects(drafts: Drafts, opts: ImportOptions, findings: Findings, input: Place): ImportedObject[] {
  const ns = opts.namespace;
  if (drafts.groups.length === 0 && drafts.services.length === 0) {
    findings.error(input, 'nothing to import: no vrrp_instance and no virtual service');
    return [];
  }
  if (drafts.groups.length === 0) {
    const at = drafts.services[0]?.at ?? input;
    const iface = opts.interface ?? 'eth0';
    findings.warn(at, `no vrrp_instance: one DirectorGroup on interface ${iface}${opts.interface ? '' : ' (give --interface)'}; with one director it holds the VIPs itself, with several they elect a master by VRRP`);
    drafts.groups.push({ at, interface: iface, vrrp: {}, vips: [] });
  }
  const gateways = mergeSyncGroups(drafts, findings);
  const names = groupNames(drafts, opts);
  const out: ImportedObject[] = [];
  const used = new Set<string>();
  const keep = (obj: ImportedObject, at: { file: string; line: number }): boolean => {
    if (obj.kind !== 'Secret') {
      const r = parseLvsObject(obj);
      if (!r.ok) {
        findings.error(at, `not emitted: ${r.error.replace(/\n\s*/g, '; ')}`);
        return false;
      }
    }
    out.push(obj);
    return true;
  };

  const services = drafts.services.map((s) => {
    const vip = s.spec.vip as string | undefined;
    const g = groupOf(vip, drafts, names);
    if (vip !== undefined) {
      const entry = drafts.groups.flatMap((d) => d.vips.map((v) => ({ v, d }))).find((x) => x.v.address === vip);
      if (entry?.v.dev !== undefined && entry.v.dev !== entry.d.interface)
        findings.warn(entry.v.at, `dev ${entry.v.dev} is not carried for a service VIP: every VIP of a group lives on its interface ${entry.d.interface}`);
      if (entry && entry.v.text !== vip) findings.info(entry.v.at, `the prefix of ${entry.v.text} is not carried: service VIPs are host addresses (/32, /128)`);
      if (g.found) used.add(vip);
      else if (drafts.groups.some((d) => d.instance !== undefined))
        findings.warn(s.at, `VIP ${vip} is in no vrrp_instance's virtual_ipaddress: keepalived programs the service but no director holds the address; here the group ${g.name} holds it`);
    }
    return { s, group: g.name };
  });
  // A fwmark service's VIPs: the addresses of its group that no address service uses.
  for (const { s, group } of services) {
    if (s.spec.fwmark === undefined) continue;
    const draft = drafts.groups[names.indexOf(group)] as GroupDraft;
    const free = draft.vips.map((v) => v.address).filter((a) => !drafts.services.some((o) => o.spec.vip === a));
    if (free.length > 0) {
      s.spec.fwmarkVIPs = [...new Set(free)].slice(0, 16);
      free.forEach((a) => used.add(a));
      findings.info(s.at, `fwmarkVIPs ${free.join(', ')}: the VIPs of ${draft.instance ?? group} no address service uses, held with the fwmark service (the addresses your marking rules match)`);
    }
  }
  drafts.groups.forEach((g, i) => {
    const name = names[i] as string;
    const sel = opts.nodeSelector ?? { key: 'lvs.dev/director-group', value: name };
    if (!opts.nodeSelector) findings.info(g.at, `DirectorGroup ${name} selects the director nodes labelled ${sel.key}=${sel.value} (--node-selector to choose)`);
    const spec: Record<string, unknown> = { nodeSelector: { matchLabels: { [sel.key]: sel.value } }, interface: g.interface, vrrp: { ...g.vrrp } };
    const d = drafts.syncDaemon;
    if (g.sync) spec.sync = g.sync;
    if (d && (d.instance === undefined || d.instance === g.instance || drafts.groups.length === 1)) spec.sync = { enabled: true, interface: d.interface, syncId: d.syncId ?? g.vrid ?? 0 };
    if (drafts.timeouts && Object.keys(drafts.timeouts).length > 0) spec.timeouts = drafts.timeouts;
    if (g.password !== undefined) {
      const secret = objectName(name, 'vrrp-auth');
      (spec.vrrp as Record<string, unknown>).authSecretRef = { name: secret, namespace: ns, key: 'password' };
      out.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secret, namespace: ns }, type: 'Opaque', stringData: { password: g.password } });
    }
    // keepalived's master holds every virtual_ipaddress; those no service uses move as gateway addresses.
    const extra = [...(gateways.get(g) ?? []), ...g.vips.filter((v) => !used.has(v.address)).map((v) => ({ v, iface: v.dev ?? g.interface, peers: g.vrrp.unicastPeers }))];
    const entries: Record<string, unknown>[] = [];
    for (const { v, iface, peers } of extra) {
      if (used.has(v.address)) continue;
      used.add(v.address);
      if (entries.length >= 16) {
        findings.error(v.at, `VIP ${v.address} is not carried: 16 gateway addresses at most per group`);
        continue;
      }
      entries.push({ address: v.text, interface: iface, ...(peers !== undefined ? { unicastPeers: peers } : {}) });
      findings.info(v.at, `${v.text} is used by no virtual_server: a gateway address of ${name} on ${iface}, held by the master with the service VIPs, as keepalived's master holds it`);
    }
    if (entries.length > 0) spec.gatewayAddresses = entries;
    keep({ apiVersion, kind: 'DirectorGroup', metadata: { name }, spec }, g.at);
  });
  for (const { s, group } of services) {
    keep({ apiVersion, kind: 'VirtualService', metadata: { name: s.name, namespace: ns }, spec: { ...s.spec, ...(opts.adopt ? { adopt: true } : {}), directorGroup: group } }, s.at);
  }
  for (const r of drafts.realServers) {
    keep({ apiVersion, kind: 'RealServer', metadata: { name: r.name, namespace: ns, labels: { [selectorLabel]: r.selector } }, spec: r.spec }, r.at);
  }
  const seen = new Map<string, number>();
  for (const o of out) {
    const key = `${o.kind}/${o.metadata.name}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  for (const [key, n] of seen) if (n > 1) findings.error({ file: '<output>', line: 0 }, `${n} objects are named ${key}: the same service or real server is defined twice; kubectl apply keeps the last`);
  return out;
}
