import { describe, expect, it } from 'vitest';
import { ipvsError } from '../../../src/ipvs/errors.js';
import { formatIpvsTable } from '../../../src/ipvs/format.js';
import { canonicalServiceKey, destKeyString, parseServiceKey, serviceKeyLabel, serviceKeyString } from '../../../src/ipvs/keys.js';
import type { VirtualServiceKey } from '../../../src/ipvs/types.js';

// One key for diff, fake kernel and ownership record, one label for people: spellings of one
// address are one service, and every place names it the same way.
describe('the one IPVS service key', () => {
  const spelled: VirtualServiceKey = { af: 'IPv6', protocol: 'tcp', addr: '2001:DB8:0::1', port: 80 };
  const kernel: VirtualServiceKey = { af: 'IPv6', protocol: 'tcp', addr: '2001:db8::1', port: 80 };

  it('is the same text for every spelling of the address, and parses back to the canonical key', () => {
    expect(serviceKeyString(spelled)).toBe('tcp/[2001:db8::1]:80');
    expect(serviceKeyString(spelled)).toBe(serviceKeyString(kernel));
    expect(parseServiceKey(serviceKeyString(spelled))).toEqual(kernel);
    expect(canonicalServiceKey(spelled)).toEqual(kernel);
    expect(destKeyString({ addr: '2001:DB8::A', port: 8080 })).toBe('[2001:db8::a]:8080');
    expect(parseServiceKey(serviceKeyString({ af: 'IPv6', fwmark: 7 }))).toEqual({ af: 'IPv6', fwmark: 7 });
  });

  it('reads the same in status, errors and the table', () => {
    expect(serviceKeyLabel(kernel)).toBe('TCP [2001:db8::1]:80');
    expect(serviceKeyLabel({ af: 'IPv4', fwmark: 7 })).toBe('FWM 7 IPv4');
    expect(ipvsError('del-service', 3, { service: kernel }).message).toContain('service TCP [2001:db8::1]:80');
    expect(ipvsError('del-service', 3, { service: { af: 'IPv6', fwmark: 7 } }).message).toContain('service FWM 7 IPv6');
    const table = formatIpvsTable([{ key: kernel, scheduler: 'rr', flags: [], timeout: 0, netmask: 128, dests: [] }]);
    expect(table).toContain('TCP  [2001:db8::1]:80 rr');
  });
});
