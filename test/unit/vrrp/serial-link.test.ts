import { describe, expect, it } from 'vitest';
import { FakeLinkClient, LinkError } from '../../../src/link/index.js';
import { SerialLinkClient } from '../../../src/vrrp/runtime/index.js';

describe('SerialLinkClient', () => {
  it('runs one request at a time, in call order, and goes on after a failure', async () => {
    const inner = new FakeLinkClient(['lo', 'eth0']);
    let inFlight = 0;
    let most = 0;
    const log: string[] = [];
    const slow = <T>(name: string, fn: () => Promise<T>) => async (): Promise<T> => {
      inFlight++;
      most = Math.max(most, inFlight);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      log.push(`end ${name}`);
      return fn();
    };
    const add = inner.addAddress.bind(inner);
    inner.addAddress = (i, a, l) => slow(`add ${a}`, () => add(i, a, l))();
    const list = inner.listLinks.bind(inner);
    inner.listLinks = () => slow('list', list)();
    const del = inner.deleteAddress.bind(inner);
    inner.deleteAddress = (i, a, l) => slow(`del ${a}`, () => (i === 'eth9' ? Promise.reject(new LinkError('no such interface: eth9')) : del(i, a, l)))();

    const link = new SerialLinkClient(inner);
    const results = await Promise.allSettled([
      link.addAddress('eth0', '10.0.0.1', 32),
      link.listLinks(),
      link.deleteAddress('eth9', '10.0.0.1', 32),
      link.addAddress('eth0', '10.0.0.2', 32),
    ]);
    expect(most).toBe(1);
    expect(log).toEqual([
      'start add 10.0.0.1', 'end add 10.0.0.1', 'start list', 'end list',
      'start del 10.0.0.1', 'end del 10.0.0.1', 'start add 10.0.0.2', 'end add 10.0.0.2',
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((await link.listAddresses('eth0')).map((a) => a.address)).toEqual(['10.0.0.1', '10.0.0.2']);
  });
});
