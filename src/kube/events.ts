import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { logger } from '../util/log.js';
import type { ResourceClient } from './client.js';
import { type Event, type KubeObject, type ObjectReference, microTime } from './types.js';

/**
 * Records `events.k8s.io/v1` Events about objects, deduplicated like client-go's event
 * broadcaster: the same (object, type, reason, note) within `seriesWindowMs` bumps the
 * `series` of the first Event instead of creating a new one, so a flapping condition
 * yields one Event with a count, not thousands. Events are best effort: failures are
 * logged, never thrown, and never block the caller's reconcile.
 */

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  events: ResourceClient<Event>;
  /** `reportingController`, e.g. `lvs.dev/controller`. */
  controller: string;
  /** `reportingInstance`; defaults to the host name. */
  instance?: string;
  /** Repeats within this window extend the series (default 10 minutes, the client-go value). */
  seriesWindowMs?: number;
  /** Remembered series at most (oldest forgotten first). */
  maxSeries?: number;
  now?: () => Date;
  log?: Logger;
}

interface SeriesEntry {
  name: string;
  namespace: string;
  count: number;
  firstAt: number;
  lastAt: number;
  /** Writes to one Event are serialised so counts never go backwards. */
  pending: Promise<void>;
}

export function referenceTo(obj: KubeObject, apiVersion: string, kind: string): ObjectReference {
  const ref: ObjectReference = { apiVersion, kind, name: obj.metadata.name ?? '' };
  if (obj.metadata.namespace) ref.namespace = obj.metadata.namespace;
  if (obj.metadata.uid) ref.uid = obj.metadata.uid;
  if (obj.metadata.resourceVersion) ref.resourceVersion = obj.metadata.resourceVersion;
  return ref;
}

/** Event names must be DNS subdomains; this keeps them short, unique and sortable. */
function eventName(ref: ObjectReference, now: Date): string {
  const base = ref.name.slice(0, 200);
  return `${base}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
}

export class EventRecorder {
  private readonly series = new Map<string, SeriesEntry>();
  private readonly windowMs: number;
  private readonly maxSeries: number;
  private readonly now: () => Date;
  private readonly log: Logger;
  private readonly instance: string;
  /** Counters for tests and metrics. */
  readonly stats = { created: 0, updated: 0, failed: 0 };

  constructor(private readonly o: EventRecorderOptions) {
    this.windowMs = o.seriesWindowMs ?? 10 * 60_000;
    this.maxSeries = o.maxSeries ?? 4096;
    this.now = o.now ?? (() => new Date());
    this.log = o.log ?? logger('events');
    this.instance = o.instance ?? hostname();
  }

  /** Records one occurrence; resolves when written (callers need not wait). */
  record(regarding: ObjectReference, type: EventType, reason: string, note: string, action = 'Reconcile'): Promise<void> {
    const now = this.now();
    const key = JSON.stringify([regarding.uid ?? `${regarding.kind}/${regarding.namespace ?? ''}/${regarding.name}`, type, reason, note]);
    const prev = this.series.get(key);
    if (prev && now.getTime() - prev.lastAt < this.windowMs) {
      prev.count++;
      prev.lastAt = now.getTime();
      const count = prev.count;
      prev.pending = prev.pending.then(() => this.bump(prev, count, now));
      return prev.pending;
    }
    const namespace = regarding.namespace ?? 'default';
    const name = eventName(regarding, now);
    const entry: SeriesEntry = { name, namespace, count: 1, firstAt: now.getTime(), lastAt: now.getTime(), pending: Promise.resolve() };
    this.remember(key, entry);
    const note1024 = note.length > 1024 ? `${note.slice(0, 1021)}...` : note;
    entry.pending = this.o.events
      .create({
        metadata: { name, namespace },
        eventTime: microTime(now),
        reportingController: this.o.controller,
        reportingInstance: this.instance,
        action,
        reason,
        regarding,
        note: note1024,
        type,
      })
      .then(
        () => {
          this.stats.created++;
        },
        (err: unknown) => {
          this.stats.failed++;
          this.series.delete(key);
          this.log.warn({ err, reason }, 'event not recorded');
        },
      );
    return entry.pending;
  }

  private async bump(entry: SeriesEntry, count: number, now: Date): Promise<void> {
    try {
      await this.o.events.mergePatch(entry.name, entry.namespace, {
        series: { count, lastObservedTime: microTime(now) },
      });
      this.stats.updated++;
    } catch (err) {
      this.stats.failed++;
      this.log.warn({ err }, 'event series not updated');
    }
  }

  private remember(key: string, entry: SeriesEntry): void {
    this.series.delete(key);
    this.series.set(key, entry);
    const cutoff = this.now().getTime() - this.windowMs;
    for (const [k, e] of this.series) {
      if (this.series.size <= this.maxSeries && e.lastAt >= cutoff) break;
      this.series.delete(k);
    }
  }

  /** Waits for every write in flight (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.series.values()].map((e) => e.pending));
  }
}
