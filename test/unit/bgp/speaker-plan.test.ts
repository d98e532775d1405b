import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDirectorGroup } from '../../../src/api/index.js';
import { birdConfig, nodeBgpSettings, planSpeaker, type NodeBgpSettings, type SpeakerGroup } from '../../../src/bgp/index.js';
import { validDirectorGroup } from '../../api/invalid-objects.js';

// Several BGP groups on one director, one BIRD: which router gets which routes, and who wins a
// setting only one group can have. Each text is also checked by BIRD's own parser (bird -p).

function group(name: string, bgp: Record<string, unknown>, announce: string[]): SpeakerGroup {
  const obj = validDirectorGroup(name);
  obj.spec.announce = 'BGP';
  obj.spec.bgp = bgp;
  const r = parseDirectorGroup(obj);
  if (!r.ok) throw new Error(r.error);
  return { settings: nodeBgpSettings(name, r.value.spec, 'd1', {}) as NodeBgpSettings, announce };
}

function birdParses(text: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'bird-conf-'));
  try {
    writeFileSync(join(dir, 'bird.conf'), text);
    return spawnSync('bird', ['-p', '-c', join(dir, 'bird.conf')], { encoding: 'utf8' }).status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const R1 = { address: '10.0.0.1', asn: 65000 };
const R2 = { address: '10.0.0.2', asn: 65000 };

describe('planSpeaker: several BGP groups on one director', () => {
  it('one session per router, carrying the routes of every group that names it, each route with its own group\'s communities', () => {
    const plan = planSpeaker([
      group('blue', { localASN: 65011, peers: [R1], communities: ['65000:2'] }, ['10.100.0.20']),
      group('alpha', { localASN: 65011, peers: [R1, R2], communities: ['65000:1'] }, ['10.100.0.10']),
    ]);
    expect(plan.conflicts).toEqual([]);
    expect(plan.groups).toEqual(['alpha', 'blue']);
    expect(plan.sessions.map((x) => [x.peer.address, x.groups, x.exports])).toEqual([
      ['10.0.0.1', ['alpha', 'blue'], ['10.100.0.10', '10.100.0.20']],
      ['10.0.0.2', ['alpha'], ['10.100.0.10']],
    ]);
    const text = birdConfig({ plan, passwords: new Map() });
    expect(text).toContain('  route 10.100.0.10/32 blackhole { bgp_community.add((65000, 1)); };\n  route 10.100.0.20/32 blackhole { bgp_community.add((65000, 2)); };\n');
    // R1 gets every route: no list. R2 gets alpha's only.
    expect(text).toMatch(/lvs_peer_10_0_0_1 \{[^}]*export where proto = "lvs_vips4"; \};/);
    expect(text).toMatch(/lvs_peer_10_0_0_2 \{[^}]*export where proto = "lvs_vips4" && net ~ \[ 10\.100\.0\.10\/32 \]; \};/);
    expect(birdParses(text)).toBe(true);
  });

  it('the same text whatever order the groups come in', () => {
    const a = group('alpha', { localASN: 65011, peers: [R1] }, ['10.100.0.10']);
    const b = group('blue', { localASN: 65011, peers: [R2] }, ['10.100.0.20', '2001:db8::20']);
    expect(birdConfig({ plan: planSpeaker([a, b]), passwords: new Map() })).toBe(birdConfig({ plan: planSpeaker([b, a]), passwords: new Map() }));
  });

  it('a router one group asks for with other settings stays with the group first by name; the other is told why and its routes do not reach that router', () => {
    const alpha = group('alpha', { localASN: 65011, peers: [R1] }, ['10.100.0.10']);
    const alone = birdConfig({ plan: planSpeaker([alpha]), passwords: new Map() });
    const plan = planSpeaker([group('blue', { localASN: 65011, peers: [{ ...R1, port: 1179 }, R2], holdTimeSeconds: 30 }, ['10.100.0.20']), alpha]);
    expect(plan.conflicts).toEqual([{ group: 'blue', peer: '10.0.0.1', owner: 'alpha', message: expect.stringContaining('port 179, hold 9 s') }]);
    expect(plan.conflicts[0]!.message).toContain('port 1179, hold 30 s');
    expect(plan.sessions.map((x) => [x.peer.address, x.peer.port, x.holdTimeSeconds, x.exports])).toEqual([
      ['10.0.0.1', 179, 9, ['10.100.0.10']],
      ['10.0.0.2', 179, 30, ['10.100.0.20']],
    ]);
    // What alpha's router is told is what it was told before blue came.
    const text = birdConfig({ plan, passwords: new Map() });
    const session = (t: string): string => /protocol bgp lvs_peer_10_0_0_1 \{[^}]*\}[^}]*\}/.exec(t)![0];
    expect(session(text).replace(' && net ~ [ 10.100.0.10/32 ]', '')).toBe(session(alone));
    expect(birdParses(text)).toBe(true);
  });

  it('one router id per BIRD: the first group\'s; a VIP in two groups is announced once, for the first', () => {
    const plan = planSpeaker([
      group('blue', { localASN: 65011, peers: [R1], nodes: [{ nodeName: 'd1', routerId: '10.0.0.12' }] }, ['10.100.0.10']),
      group('alpha', { localASN: 65011, peers: [R1], nodes: [{ nodeName: 'd1', routerId: '10.0.0.11' }] }, ['10.100.0.10']),
    ]);
    expect(plan.routerId).toBe('10.0.0.11');
    expect(plan.routes).toEqual([{ vip: '10.100.0.10', group: 'alpha', communities: [] }]);
    expect(plan.conflicts.map((c) => [c.group, c.owner, c.message])).toEqual([
      ['blue', 'alpha', 'router id 10.0.0.12 not used: this director\'s BIRD has one, 10.0.0.11, from DirectorGroup alpha'],
      ['blue', 'alpha', 'VIP 10.100.0.10 is announced for DirectorGroup alpha; not announced again'],
    ]);
    expect(birdParses(birdConfig({ plan, passwords: new Map() }))).toBe(true);
  });

  it('a group with nothing to announce on a router of its own exports nothing there', () => {
    const plan = planSpeaker([group('alpha', { localASN: 65011, peers: [R1] }, ['10.100.0.10']), group('blue', { localASN: 65011, peers: [R2] }, [])]);
    const text = birdConfig({ plan, passwords: new Map() });
    expect(text).toMatch(/lvs_peer_10_0_0_2 \{[^}]*ipv4 \{ import none; export none; \};/);
    expect(birdParses(text)).toBe(true);
  });
});
