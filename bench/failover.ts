// `npm run bench:failover [-- --mode vrrp|bgp] [flags]`: the failover benchmark.
//   --mode vrrp (default): a VRRP pair of our agents against keepalived (bench/failover-vrrp.ts).
//   --mode bgp: three active-active directors behind ECMP announcing over BGP, a director crashed,
//     beside a VRRP pair crashed in the same run (bench/failover-bgp.ts, in one lab kernel).
// Prints progress on stderr; the last line on stdout is one JSON object.
const at = process.argv.indexOf('--mode');
const mode = at >= 0 ? process.argv[at + 1] : 'vrrp';
if (at >= 0) process.argv.splice(at, 2);
if (mode === 'bgp') await import('./failover-bgp-run.js');
else if (mode === 'vrrp') await import('./failover-vrrp.js');
else {
  console.error(`bench:failover: --mode takes vrrp or bgp, not ${JSON.stringify(mode)}`);
  process.exit(2);
}
