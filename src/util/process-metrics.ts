import { collectDefaultMetrics, type Registry } from 'prom-client';

/**
 * prom-client's process_* and nodejs_* metrics, less its three gauges named _total (Prometheus
 * keeps _total for counters): their values are the sums of nodejs_active_{handles,requests,resources}.
 */
export function processMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
}
