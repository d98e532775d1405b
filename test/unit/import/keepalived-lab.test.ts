import { describe, expect, it } from 'vitest';
import { importConfig } from '../../../src/import/index.js';

// What keepalived 2.2.7 was seen to program in the lab (test/kernel/agent/import-equivalence.test.ts),
// where the import had assumed otherwise.
const load = (text: string) => {
  const r = importConfig('-', { namespace: 'lab', stdin: text });
  const spec = (kind: string, name: string): Record<string, any> | undefined =>
    (r.objects.find((o) => o.kind === kind && o.metadata.name === name) as { spec?: Record<string, any> } | undefined)?.spec;
  const finding = (line: number, re: RegExp) => r.findings.find((f) => f.line === line && re.test(f.message));
  return { ...r, spec, finding };
};

describe('import: keepalived 2.2.7 as the lab saw it', () => {
  it('a virtual server without protocol is UDP (keepalived: no protocol set - defaulting to UDP); an explicit one stays; fwmarks have none', () => {
    const r = load(`virtual_server 192.0.2.1 80 {
  lb_kind NAT
  ops
  real_server 10.0.0.1 80 {
  }
}
virtual_server 192.0.2.2 80 {
  protocol TCP
  real_server 10.0.0.1 80 {
  }
}
virtual_server fwmark 3 {
  real_server 10.0.0.1 80 {
  }
}
`);
    expect(r.spec('VirtualService', 'udp-192-0-2-1-80')).toMatchObject({ protocol: 'UDP', onePacket: true });
    expect(r.finding(1, /no protocol: keepalived programs a UDP service/)?.level).toBe('warning');
    expect(r.spec('VirtualService', 'tcp-192-0-2-2-80')).toMatchObject({ protocol: 'TCP' });
    expect(r.finding(7, /no protocol/)).toBeUndefined();
    expect(r.spec('VirtualService', 'fwm-3')).toMatchObject({ fwmark: 3 });
    expect(r.finding(12, /no protocol/)).toBeUndefined();
  });

  it('persistence_granularity without persistence_timeout makes the service persistent for keepalived\'s 360 s', () => {
    const r = load(`virtual_server 192.0.2.1 80 {
  protocol TCP
  persistence_granularity 255.255.0.0
  real_server 10.0.0.1 80 {
  }
}
`);
    expect(r.spec('VirtualService', 'tcp-192-0-2-1-80')?.persistence).toEqual({ timeoutSeconds: 360, netmask: '255.255.0.0' });
    expect(r.finding(3, /keepalived makes the service persistent with its default 360 s/)?.level).toBe('info');
  });

  it('a virtual server without real servers is not emitted: keepalived ignores it', () => {
    const r = load(`virtual_server 192.0.2.1 80 {
  protocol TCP
}
virtual_server 192.0.2.2 80 {
  protocol TCP
  real_server 10.0.0.1 80 {
  }
}
`);
    expect(r.objects.filter((o) => o.kind === 'VirtualService').map((o) => o.metadata.name)).toEqual(['tcp-192-0-2-2-80']);
    expect(r.finding(1, /virtual_server without real servers: keepalived ignores it/)?.level).toBe('error');
  });

  it('a real server whose lthreshold is above its uthreshold is not emitted: the kernel refuses it (ERANGE)', () => {
    const r = load(`virtual_server 192.0.2.1 80 {
  protocol TCP
  real_server 10.0.0.1 80 {
    lthreshold 5
  }
  real_server 10.0.0.2 80 {
    uthreshold 10
    lthreshold 20
  }
  real_server 10.0.0.3 80 {
    uthreshold 10
    lthreshold 5
  }
}
`);
    expect(r.objects.filter((o) => o.kind === 'RealServer').map((o) => (o as unknown as { spec: { address: string } }).spec.address)).toEqual(['10.0.0.3']);
    expect(r.finding(3, /lthreshold 5 above uthreshold 0: the kernel refuses the real server/)?.level).toBe('error');
    expect(r.finding(6, /lthreshold 20 above uthreshold 10/)?.level).toBe('error');
    expect(r.spec('RealServer', 'tcp-192-0-2-1-80-10-0-0-3-80')).toMatchObject({ upperThreshold: 10, lowerThreshold: 5 });
  });

  it('a virtual_ipaddress of another family than the instance\'s first is ignored, as keepalived ignores it', () => {
    const r = load(`vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 20
  version 3
  virtual_ipaddress {
    2001:db8::10
    192.0.2.40
  }
  virtual_ipaddress_excluded {
    192.0.2.41
  }
}
virtual_server 192.0.2.40 80 {
  protocol TCP
  real_server 10.0.0.1 80 {
  }
}
`);
    expect(r.finding(7, /192\.0\.2\.40 is ignored by keepalived \(address family must match VRRP instance: its first address 2001:db8::10 is IPv6\)/)?.level).toBe('warning');
    expect(r.finding(13, /VIP 192\.0\.2\.40 is in no vrrp_instance's virtual_ipaddress/)?.level).toBe('warning');
    // Excluded addresses may be of either family.
    expect(r.spec('DirectorGroup', 'imported')?.gatewayAddresses).toEqual([
      { address: '2001:db8::10', interface: 'eth0' },
      { address: '192.0.2.41', interface: 'eth0' },
    ]);
  });

  it('a service the API refuses is not emitted, with the schema\'s reason', () => {
    const r = load(`virtual_server 192.0.2.72 80 {
  protocol TCP
  sorry_server 2001:db8::99 80
  real_server 10.0.0.1 80 {
  }
}
`);
    expect(r.objects.filter((o) => o.kind === 'VirtualService')).toEqual([]);
    expect(r.finding(1, /not emitted: VirtualService lab\/tcp-192-0-2-72-80 is invalid.*sorryServer\.address must have the same address family/)?.level).toBe('error');
  });
});
