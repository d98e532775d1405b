import { describe, expect, it } from 'vitest';
import { importConfig } from '../../../src/import/index.js';

function importText(stdin: string) {
  return importConfig('-', { namespace: 'lvs', stdin });
}

describe('virtual_server keywords', () => {
  it('weight is the weight of its real servers that set none, as keepalived gives them (check_data.c)', () => {
    const r = importText(
      ['virtual_server 10.0.0.1 80 {', '  protocol TCP', '  weight 7', '  real_server 10.0.0.2 80 {', '  }', '  real_server 10.0.0.3 80 {', '    weight 3', '  }', '}', ''].join('\n'),
    );
    const weights = r.objects.filter((o) => o.kind === 'RealServer').map((o) => (o.spec as { address: string; weight: number }));
    expect(weights.map((w) => [w.address, w.weight])).toEqual([
      ['10.0.0.2', 7],
      ['10.0.0.3', 3],
    ]);
    expect(r.findings.filter((f) => f.line === 3)).toEqual([]);
  });

  it('a weight keepalived refuses leaves the real servers at 1', () => {
    const r = importText(['virtual_server 10.0.0.1 80 {', '  weight 0', '  real_server 10.0.0.2 80 {', '  }', '}', ''].join('\n'));
    expect(r.objects.find((o) => o.kind === 'RealServer')?.spec).toMatchObject({ weight: 1 });
    expect(r.findings.find((f) => f.line === 2)).toMatchObject({ level: 'error', message: expect.stringMatching(/weight '0' must be 1\.\.65535/) });
  });
});
