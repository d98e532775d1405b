// The scheduler probe reads files only; the model then blocks services that need a missing one.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeSchedulers } from '../../../src/agent/schedulers.js';
import { ModelSource } from '../../../src/agent/source.js';
import { dg, nodesFor, snapshot, web } from '../model/fixtures.js';

function fakeRoot(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'sched-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const ipvsDir = 'kernel/net/netfilter/ipvs';

describe('probeSchedulers', () => {
  it('counts loaded, built-in and loadable (also compressed) scheduler modules; the rest is missing', async () => {
    const root = fakeRoot({
      'proc/modules': 'ip_vs_wlc 12288 0 - Live 0x0\nip_vs 200704 2 ip_vs_wlc, Live 0x0\nnf_conntrack 1 0 - Live 0x0\n',
      'lib/modules/6.1.0/modules.builtin': `${ipvsDir}/ip_vs_rr.ko\n`,
      'lib/modules/6.1.0/modules.dep': `${ipvsDir}/ip_vs_wrr.ko: ${ipvsDir}/ip_vs.ko\n${ipvsDir}/ip_vs_mh.ko.zst: ${ipvsDir}/ip_vs.ko\n${ipvsDir}/ip_vs_ftp.ko: ${ipvsDir}/ip_vs.ko\n${ipvsDir}/ip_vs.ko:\n`,
    });
    const p = await probeSchedulers({ root, release: '6.1.0' });
    expect(p.available).toEqual(['rr', 'wrr', 'wlc', 'mh']);
    expect(p.unsupported).toEqual(['lc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'twos']);
  });

  it('claims nothing missing when the module lists cannot be read (a container without /lib/modules)', async () => {
    const root = fakeRoot({ 'proc/modules': 'ip_vs_rr 12288 0 - Live 0x0\n' });
    expect(await probeSchedulers({ root, release: '6.1.0' })).toEqual({ available: ['rr'], unsupported: [] });
  });
});

describe('ModelSource with the probe', () => {
  it('a service whose scheduler the kernel lacks is blocked with UnsupportedScheduler; the others are not', () => {
    const snap = snapshot({ directorGroups: [dg('g1')], nodes: nodesFor(), virtualServices: [web('shop', 'a', '192.0.2.1', { scheduler: 'mh' }), web('shop', 'b', '192.0.2.2', { scheduler: 'wrr' })] });
    const models = new ModelSource({ snapshot: () => snap, onChange: () => () => undefined });
    expect(models.model().services.get('shop/a')?.accepted).toBe(true);
    expect(models.setUnsupportedSchedulers(['mh', 'twos'])).toBe(true);
    expect(models.setUnsupportedSchedulers(['twos', 'mh'])).toBe(false);
    const m = models.model();
    expect(m.services.get('shop/a')?.accepted).toBe(false);
    expect(m.services.get('shop/a')?.issues).toContainEqual(expect.objectContaining({ reason: 'UnsupportedScheduler', message: expect.stringMatching(/ip_vs_mh/) }));
    expect(m.services.get('shop/b')?.accepted).toBe(true);
    expect(models.model()).toBe(m); // nothing changed: the same model
    models.setUnsupportedSchedulers([]);
    expect(models.model().services.get('shop/a')?.accepted).toBe(true);
  });
});
