// The kernel's per-service and per-destination counters of the services this agent programs, as
// Prometheus metrics (what `ipvsadm -Ln --stats` shows, and what node_exporter's ipvs collector
// exports for the whole table). Foreign services are left out: their labels are not ours to bound.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LiveTable } from './live-table.js';

type Read = () => Promise<LiveTable | undefined>;

export function registerIpvsMetrics(registry: Registry, read: Read): void {
  const registers = [registry];
  // A kernel that cannot be read leaves these series out of the scrape, not the scrape failed.
  const ours = async () => ((await read().catch(() => undefined))?.services ?? []).filter((s) => s.virtualService !== undefined);
  const service = ['virtualservice', 'service'];
  const destination = [...service, 'destination'];
  new Counter({
    name: 'lvs_ipvs_connections_total', help: 'Connections the kernel scheduled for the service', labelNames: service, registers,
    async collect() {
      this.reset();
      for (const s of await ours()) this.inc({ virtualservice: s.virtualService!, service: s.service }, s.stats.conns);
    },
  });
  for (const [unit, field] of [['packets', 'Pkts'], ['bytes', 'Bytes']] as const) {
    new Counter({
      name: `lvs_ipvs_${unit}_total`, help: `${unit[0]!.toUpperCase()}${unit.slice(1)} through the service, by direction (in: client to server)`, labelNames: [...service, 'direction'], registers,
      async collect() {
        this.reset();
        for (const s of await ours()) {
          this.inc({ virtualservice: s.virtualService!, service: s.service, direction: 'in' }, s.stats[`in${field}`]);
          this.inc({ virtualservice: s.virtualService!, service: s.service, direction: 'out' }, s.stats[`out${field}`]);
        }
      },
    });
  }
  const perDestination = (name: string, help: string, value: (d: LiveTable['services'][number]['destinations'][number]) => number, kind: 'counter' | 'gauge') => {
    const Type = kind === 'counter' ? Counter : Gauge;
    new Type({
      name, help, labelNames: destination, registers,
      async collect() {
        this.reset();
        for (const s of await ours()) {
          for (const d of s.destinations) {
            const labels = { virtualservice: s.virtualService!, service: s.service, destination: d.address };
            if (this instanceof Counter) this.inc(labels, value(d));
            else (this as Gauge).set(labels, value(d));
          }
        }
      },
    });
  };
  perDestination('lvs_ipvs_destination_connections_total', 'Connections the kernel sent to the destination', (d) => d.stats.conns, 'counter');
  perDestination('lvs_ipvs_destination_active_connections', 'Established connections to the destination (ipvsadm ActiveConn)', (d) => d.activeConns, 'gauge');
  perDestination('lvs_ipvs_destination_inactive_connections', 'Connections to the destination in other states (ipvsadm InActConn)', (d) => d.inactiveConns, 'gauge');
  perDestination('lvs_ipvs_destination_weight', 'Weight of the destination in the kernel (0 while inhibited)', (d) => d.weight, 'gauge');
  perDestination('lvs_ipvs_destination_bytes_in_total', 'Bytes from clients to the destination', (d) => d.stats.inBytes, 'counter');
  perDestination('lvs_ipvs_destination_bytes_out_total', 'Bytes from the destination to clients (0 for DR and TUN: replies bypass the director)', (d) => d.stats.outBytes, 'counter');
}
