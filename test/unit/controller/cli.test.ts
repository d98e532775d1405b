import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseDuration } from '../../../src/cli/duration.js';
import { main } from '../../../src/cli/main.js';

function capture() {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  return { out: () => out, err: () => err };
}

describe('lvs-operator command line', () => {
  afterEach(() => vi.restoreAllMocks());

  it('--help lists the commands', async () => {
    const io = capture();
    expect(await main(['--help'])).toBe(0);
    expect(io.out()).toMatch(/Usage: lvs-operator <command> \[flags\]/);
    expect(io.out()).toMatch(/^ {2}controller +Run the controller/m);
    expect(io.out()).toMatch(/^ {2}version +Print the version/m);
  });

  it('no arguments prints usage and fails', async () => {
    const io = capture();
    expect(await main([])).toBe(2);
    expect(io.out()).toContain('Commands:');
  });

  it('--version and version print the package version', async () => {
    const io = capture();
    expect(await main(['--version'])).toBe(0);
    expect(await main(['version'])).toBe(0);
    expect(io.out()).toMatch(/^lvs-operator \d+\.\d+\.\d+ \(node v\d+/);
  });

  it('help <command> shows its flags; unknown commands fail with usage', async () => {
    const io = capture();
    expect(await main(['help', 'controller'])).toBe(0);
    expect(io.out()).toContain('--leader-election-namespace NS');
    expect(await main(['frobnicate'])).toBe(2);
    expect(io.err()).toContain('unknown command "frobnicate"');
  });

  it('bad controller flags are usage errors (exit 2), before any connection is tried', async () => {
    const io = capture();
    expect(await main(['controller', '--no-such-flag'])).toBe(2);
    expect(io.err()).toMatch(/Unknown option '--no-such-flag'/);
    expect(await main(['controller', '--lease-duration', '5s', '--renew-deadline', '10s'])).toBe(2);
    expect(io.err()).toContain('lease duration must exceed renew deadline: need --lease-duration > --renew-deadline > 1.2 x --retry-period');
    // client-go's margin: a renewal that fails must have time to be retried before the deadline.
    expect(await main(['controller', '--renew-deadline', '2s', '--retry-period', '1.8s'])).toBe(2);
    expect(io.err()).toContain('renew deadline must exceed 1.2 x retry period');
    expect(await main(['controller', '--retry-period', '0s'])).toBe(2);
    expect(io.err()).toContain('retry period must be positive');
    expect(await main(['controller', '--resync', 'soon'])).toBe(2);
    expect(io.err()).toContain('invalid duration "soon"');
    expect(await main(['controller', '--load-balancer-ip-mode', 'vip'])).toBe(2);
    expect(io.err()).toContain('--load-balancer-ip-mode: expected VIP or Proxy, got "vip"');
    expect(await main(['controller', '--claim-default-load-balancers', 'maybe'])).toBe(2);
    expect(io.err()).toContain('claim-default-load-balancers');
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['15s', 15_000],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(['', '10', 's', '5x', '1s ', '-1s'])('refuses %j', (text) => expect(() => parseDuration(text)).toThrow(/invalid duration/));
});

describe('--log-level', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(['controller', 'agent'])('a level pino does not know is a usage error of %s (exit 2)', async (cmd) => {
    const io = capture();
    expect(await main([cmd, '--log-level', 'loud'])).toBe(2);
    expect(io.err()).toContain('--log-level takes one of trace, debug, info, warn, error, fatal, silent, not "loud"');
  });
});
