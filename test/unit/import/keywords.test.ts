import { describe, expect, it } from 'vitest';
import { importConfig } from '../../../src/import/index.js';

// keepalived keywords whose mapping was wrong before the keyword list (docs/keepalived-keywords.md).

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

describe('scheduler flags', () => {
  const vs = (lines: string[]) =>
    importText(['virtual_server 10.0.0.1 80 {', '  protocol TCP', ...lines.map((l) => `  ${l}`), '  real_server 10.0.0.2 80 {', '  }', '}', ''].join('\n'));
  const service = (r: ReturnType<typeof importText>) => r.objects.find((o) => o.kind === 'VirtualService')?.spec as Record<string, unknown> | undefined;

  it('flag-1 and flag-2 are the fallback and port bits of the scheduler that reads them, mh as well as sh', () => {
    expect(service(vs(['lb_algo mh', 'flag-1', 'flag-2']))).toMatchObject({ scheduler: 'mh', schedulerFlags: ['mh-fallback', 'mh-port'] });
    expect(service(vs(['lb_algo sh', 'flag-2']))).toMatchObject({ scheduler: 'sh', schedulerFlags: ['sh-port'] });
  });

  it('a flag the scheduler does not read keeps the service, without the flag', () => {
    const r = vs(['flag-1', 'sh-port']);
    expect(service(r)).toMatchObject({ scheduler: 'wlc' });
    expect(service(r)?.schedulerFlags).toBeUndefined();
    expect(r.findings.find((f) => f.line === 3)).toMatchObject({ level: 'info', message: expect.stringMatching(/flag-1 is not applicable: scheduler wlc/) });
    expect(r.findings.find((f) => f.line === 4)).toMatchObject({ level: 'warning', message: expect.stringMatching(/sh-port is not carried: keepalived ignores it unless lb_algo sh comes before it/) });
  });

  it('sh-port before lb_algo sh is ignored, as keepalived ignores it', () => {
    const r = vs(['sh-port', 'lb_algo sh']);
    expect(service(r)).toMatchObject({ scheduler: 'sh' });
    expect(service(r)?.schedulerFlags).toBeUndefined();
  });
});

describe('checker keywords', () => {
  it('enable_sni in HTTP_GET, where it does nothing, keeps the service', () => {
    const r = importText(
      ['virtual_server 10.0.0.1 80 {', '  protocol TCP', '  real_server 10.0.0.2 80 {', '    HTTP_GET {', '      enable_sni', '      url {', '        path /', '      }', '    }', '  }', '}', ''].join('\n'),
    );
    const spec = r.objects.find((o) => o.kind === 'VirtualService')?.spec as { healthCheck: { type: string; http: Record<string, unknown> } } | undefined;
    expect(spec?.healthCheck.type).toBe('HTTP');
    expect(spec?.healthCheck.http.enableSNI).toBeUndefined();
    expect(r.findings.find((f) => f.line === 5)).toMatchObject({ level: 'info', message: expect.stringMatching(/enable_sni is not applicable/) });
  });
});

describe('checker keywords keepalived knows in some checkers only', () => {
  it('virtualhost in a TCP_CHECK is an unknown keyword, as keepalived 2.2.7 logs it', () => {
    const r = importText(['virtual_server 10.0.0.1 80 {', '  protocol TCP', '  real_server 10.0.0.2 80 {', '    TCP_CHECK {', '      virtualhost www.example.com', '    }', '  }', '}', ''].join('\n'));
    expect(r.findings.find((f) => f.line === 5)).toMatchObject({ level: 'error', message: "unknown keyword 'virtualhost' in TCP_CHECK: keepalived logs it and ignores it; not carried" });
  });
});
