/**
 * Counting semaphore with a FIFO queue. Waiters can leave the queue (a target removed
 * while waiting must not take a slot later).
 */
export class Semaphore {
  private held = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`semaphore limit must be a positive integer, got ${limit}`);
  }

  get inUse(): number {
    return this.held;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** Calls `run` when a slot is free (maybe synchronously); returns a function that cancels the wait. */
  acquire(run: () => void): () => void {
    if (this.held < this.limit) {
      this.held++;
      run();
      return () => {};
    }
    const waiter = (): void => run();
    this.waiters.push(waiter);
    return () => {
      const i = this.waiters.indexOf(waiter);
      if (i >= 0) this.waiters.splice(i, 1);
    };
  }

  /** Frees a slot, handing it straight to the next waiter if any. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else if (this.held > 0) this.held--;
  }
}
