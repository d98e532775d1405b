import { describe, expect, it } from 'vitest';
import { knowsEvery } from '../../../bench/failover-traffic.js';

// The drills' wait for the sync daemon: a backup knows a held connection when its table has an
// ESTABLISHED entry from that client port to the VIP's port.
const listing = [
  'IPVS connection entries',
  'pro expire state       source             virtual            destination',
  'TCP 14:59  ESTABLISHED 192.168.30.50:35422 192.168.30.100:7000 192.168.30.23:7000',
  'TCP 01:59  FIN_WAIT    192.168.30.50:35424 192.168.30.100:7000 192.168.30.21:7000',
  'TCP 14:59  ESTABLISHED 192.168.30.50:35426 192.168.30.100:80   192.168.30.22:80',
  'TCP 14:59  ESTABLISHED [2001:db8::50]:35428 [2001:db8::100]:7000 [2001:db8::21]:7000',
].join('\n');

describe('knowsEvery', () => {
  it('finds each client port among the ESTABLISHED entries of the VIP and port', () => {
    expect(knowsEvery(listing, '192.168.30.100', 7000, [35422])).toBe(true);
    expect(knowsEvery(listing, '[2001:db8::100]', 7000, [35428])).toBe(true);
  });
  it('does not count a closing entry, another port of the VIP, or a port it lacks', () => {
    expect(knowsEvery(listing, '192.168.30.100', 7000, [35422, 35424])).toBe(false);
    expect(knowsEvery(listing, '192.168.30.100', 7000, [35426])).toBe(false);
    expect(knowsEvery(listing, '192.168.30.100', 7000, [35422, 40000])).toBe(false);
  });
});
