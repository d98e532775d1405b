// Writes this node's entries into status with server-side apply under its own field manager
// (`lvs-agent/<node>`), so agents and the controller never clobber each other. Coalesced: only
// the newest view of an object is written, only when it differs from what was last written, at
// most one write per object per `minIntervalMs`. Failures (API server down) are retried with
// backoff and never block the agent's kernel work.
import type { Logger } from 'pino';
import type { ApplyBody } from '../kube/index.js';
import { sameContent } from '../model/same-content.js';

export interface StatusTarget {
  /** Server-side apply on the object's /status subresource. */
  applyStatus(body: ApplyBody, o: { fieldManager: string; force?: boolean }): Promise<unknown>;
}

interface Entry {
  want: string;
  written?: string;
  lastWriteAt: number;
  failures: number;
  timer?: NodeJS.Timeout;
  inFlight?: Promise<void>;
}

export interface StatusWriterOptions {
  fieldManager: string;
  /** Wraps a function to bound its call rate (p-throttle); writers that share a budget share it. */
  throttle?: <F extends (write: () => Promise<void>) => Promise<void>>(f: F) => F;
  minIntervalMs?: number;
  maxBackoffMs?: number;
  log: Logger;
}

export class StatusWriter {
  private readonly entries = new Map<string, Entry>();
  readonly stats = { writes: 0, failures: 0, skipped: 0 };
  private closed = false;

  private readonly throttled: (write: () => Promise<void>) => Promise<void>;

  constructor(private readonly target: StatusTarget, private readonly o: StatusWriterOptions) {
    const run = (write: () => Promise<void>): Promise<void> => write();
    this.throttled = o.throttle ? o.throttle(run) : run;
  }

  /**
   * Desired status fields owned by this manager for `namespace/name` (or `name`); `status: {}`
   * releases everything it owned there (its list entries disappear).
   */
  set(key: string, status: Record<string, unknown>, stored?: Record<string, unknown>): void {
    const want = JSON.stringify(status);
    // An object first seen here that the server already holds as wanted (written before a restart) costs no write.
    const e = this.entries.get(key) ?? { want, lastWriteAt: 0, failures: 0, ...(stored && sameContent(stored, status) ? { written: want } : {}) };
    e.want = want;
    this.entries.set(key, e);
    if (e.written === want) {
      this.stats.skipped++;
      return;
    }
    this.schedule(key, e);
  }

  /** Objects whose wanted status is not written yet. */
  pending(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.written !== e.want) n++;
    return n;
  }

  /** Keys with something written, for releasing entries of objects no longer served. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  forget(key: string): void {
    const e = this.entries.get(key);
    if (e) clearTimeout(e.timer);
    this.entries.delete(key);
  }

  private schedule(key: string, e: Entry): void {
    if (e.timer || e.inFlight || this.closed) return;
    const backoff = e.failures ? Math.min(this.o.maxBackoffMs ?? 30_000, 500 * 2 ** (e.failures - 1)) : 0;
    const wait = Math.max(0, e.lastWriteAt + (this.o.minIntervalMs ?? 500) - Date.now(), backoff);
    e.timer = setTimeout(() => {
      e.timer = undefined;
      // The write reads the newest wanted status when its turn comes, not when it was queued.
      e.inFlight = this.throttled(() => this.write(key, e)).finally(() => {
        e.inFlight = undefined;
        if (e.written !== e.want && this.entries.get(key) === e) this.schedule(key, e);
      });
    }, wait);
  }

  private async write(key: string, e: Entry): Promise<void> {
    const want = e.want;
    const [namespace, name] = key.includes('/') ? key.split('/') : [undefined, key];
    try {
      await this.target.applyStatus(
        { metadata: { name: name!, ...(namespace ? { namespace } : {}) }, status: JSON.parse(want) as Record<string, unknown> },
        { fieldManager: this.o.fieldManager, force: true });
      e.written = want;
      e.failures = 0;
      this.stats.writes++;
    } catch (err) {
      e.failures++;
      this.stats.failures++;
      const status = (err as { status?: number }).status;
      if (status === 404) {
        this.forget(key); // the object is gone: nothing to report on
        return;
      }
      this.o.log.warn({ err, key, failures: e.failures }, 'status write failed; will retry');
    } finally {
      e.lastWriteAt = Date.now();
    }
  }

  /** Resolves when everything wanted is written (tests, graceful shutdown), or after `timeoutMs`. */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if ([...this.entries.values()].every((e) => e.written === e.want && !e.inFlight)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) clearTimeout(e.timer);
  }
}
