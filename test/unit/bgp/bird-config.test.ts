import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDirectorGroup } from '../../../src/api/index.js';
import { birdConfig, nodeBgpSettings, planSpeaker, validPassword, type NodeBgpSettings } from '../../../src/bgp/index.js';
import { validDirectorGroup } from '../../api/invalid-objects.js';

function settings(bgp: Record<string, unknown>, node = 'd1', labels?: Record<string, string>): NodeBgpSettings {
  const obj = validDirectorGroup('edge');
  obj.spec.announce = 'BGP';
  obj.spec.bgp = bgp;
  const r = parseDirectorGroup(obj);
  if (!r.ok) throw new Error(r.error);
  const s = nodeBgpSettings('edge', r.value.spec, node, labels);
  if (!s) throw new Error('no settings');
  return s;
}

const base = { localASN: 65011, peers: [{ address: '10.0.0.1', asn: 65000 }] };

/** BIRD's own parser (bird -p): the text must be a configuration BIRD accepts. */
function birdParses(text: string): { ok: boolean; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bird-conf-'));
  try {
    writeFileSync(join(dir, 'bird.conf'), text);
    const r = spawnSync('bird', ['-p', '-c', join(dir, 'bird.conf')], { encoding: 'utf8' });
    return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('birdConfig', () => {
  it('announces each VIP as a blackhole route from a static protocol, with BFD and short reconnect timers, and nothing to the kernel', () => {
    const text = birdConfig({ plan: planSpeaker([{ settings: settings(base), announce: ['10.100.0.10'] }]), passwords: new Map() });
    expect(text).toBe(`# Written by lvs-operator agent for DirectorGroup edge; rewritten on every change.
timeformat protocol "%s";
protocol device { }
protocol bfd lvs_bfd { interface "*" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }
protocol static lvs_vips4 {
  ipv4;
  route 10.100.0.10/32 blackhole;
}
protocol static lvs_vips6 {
  ipv6;
}
protocol bgp lvs_peer_10_0_0_1 {
  description "10.0.0.1";
  local as 65011;
  neighbor 10.0.0.1 port 179 as 65000;
  hold time 9;
  keepalive time 3;
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 5;
  bfd on;
  ipv4 { import none; export where proto = "lvs_vips4"; };
}
`);
    expect(text).not.toMatch(/protocol kernel/);
    const parsed = birdParses(text);
    expect(parsed.ok, parsed.out).toBe(true);
  });

  it('is deterministic: VIPs, peers and communities sorted, duplicates once', () => {
    const s = settings({ ...base, peers: [{ address: '10.0.0.2', asn: 65000 }, { address: '10.0.0.1', asn: 65000 }], communities: ['65000:200', '65000:100'] });
    const a = birdConfig({ plan: planSpeaker([{ settings: s, announce: ['10.100.0.11', '10.100.0.10', '10.100.0.11'] }]), passwords: new Map() });
    const b = birdConfig({ plan: planSpeaker([{ settings: { ...s, peers: [...s.peers].reverse(), communities: [...s.communities].reverse() }, announce: ['10.100.0.10', '10.100.0.11'] }]), passwords: new Map() });
    expect(a).toBe(b);
    expect(a.indexOf('route 10.100.0.10/32')).toBeLessThan(a.indexOf('route 10.100.0.11/32'));
    expect(a.indexOf('lvs_peer_10_0_0_1 {')).toBeLessThan(a.indexOf('lvs_peer_10_0_0_2 {'));
    expect(a).toContain('  route 10.100.0.10/32 blackhole { bgp_community.add((65000, 100)); bgp_community.add((65000, 200)); };\n');
    expect(birdParses(a).ok).toBe(true);
  });

  it('withdraws everything with an empty announce list, keeping the sessions', () => {
    const text = birdConfig({ plan: planSpeaker([{ settings: settings(base), announce: [] }]), passwords: new Map() });
    expect(text).not.toContain('route ');
    expect(text).toContain('protocol bgp lvs_peer_10_0_0_1 {');
    expect(birdParses(text).ok).toBe(true);
  });

  it('sends IPv6 VIPs to IPv6 peers only, as /128, and IPv4 VIPs to IPv4 peers', () => {
    const s = settings({ ...base, peers: [{ address: '10.0.0.1', asn: 65000 }, { address: '2001:db8::1', asn: 65000 }] });
    const text = birdConfig({ plan: planSpeaker([{ settings: s, announce: ['2001:db8:10::10', '10.100.0.10'] }]), passwords: new Map() });
    expect(text).toContain('protocol static lvs_vips6 {\n  ipv6;\n  route 2001:db8:10::10/128 blackhole;\n}');
    expect(text).toContain('neighbor 2001:db8::1 port 179 as 65000;');
    expect(text).toMatch(/protocol bgp lvs_peer_2001_db8__1 \{[^}]*ipv6 \{ import none; export where proto = "lvs_vips6"; \};/);
    expect(birdParses(text).ok).toBe(true);
  });

  it('turns BFD off, sets the timers, port and a quoted MD5 password', () => {
    const s = settings({ ...base, peers: [{ address: '10.0.0.1', asn: 65000, port: 1179 }], bfd: { enabled: false }, holdTimeSeconds: 3, keepaliveSeconds: 1 });
    const text = birdConfig({ plan: planSpeaker([{ settings: s, announce: [] }]), passwords: new Map([['10.0.0.1', 's3cr\\et']]) });
    expect(text).not.toContain('bfd');
    expect(text).toContain('neighbor 10.0.0.1 port 1179 as 65000;\n  hold time 3;\n  keepalive time 1;');
    expect(text).toContain('  password "s3cr\\et";');
    expect([validPassword('s3cr\\et'), validPassword('a"b'), validPassword('a\nb'), validPassword(''), validPassword('x'.repeat(81))]).toEqual([true, false, false, false, false]);
    expect(birdParses(text).ok).toBe(true);
  });

  it('applies the first matching node override (router id, ASN, peers), by name or by labels', () => {
    const bgp = {
      ...base,
      nodes: [
        { nodeName: 'd2', routerId: '10.0.0.12' },
        { nodeSelector: { matchLabels: { rack: 'b' } }, routerId: '10.0.2.1', localASN: 65100, peers: [{ address: '10.0.2.254', asn: 65200 }] },
        { nodeSelector: { matchLabels: { rack: 'b' } }, routerId: '10.0.9.9' },
      ],
    };
    expect(settings(bgp, 'd2', { rack: 'b' }).routerId).toBe('10.0.0.12');
    const rackB = settings(bgp, 'd3', { rack: 'b' });
    expect([rackB.routerId, rackB.localASN, rackB.peers.map((p) => p.address)]).toEqual(['10.0.2.1', 65100, ['10.0.2.254']]);
    const plain = settings(bgp, 'd4', { rack: 'a' });
    expect([plain.routerId, plain.localASN, plain.peers.map((p) => p.address)]).toEqual([undefined, 65011, ['10.0.0.1']]);
    const text = birdConfig({ plan: planSpeaker([{ settings: rackB, announce: ['10.100.0.10'] }]), passwords: new Map() });
    expect(text).toContain('router id 10.0.2.1;');
    expect(text).toContain('local as 65100;\n  neighbor 10.0.2.254 port 179 as 65200;');
    expect(birdParses(text).ok).toBe(true);
  });

  it('bird -p refuses a broken configuration (the check above can fail)', () => {
    expect(birdParses('protocol bgp x { neighbor 10.0.0.1 as ; }\n').ok).toBe(false);
  });
});
