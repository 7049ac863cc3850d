/**
 * TEST-ONLY. A serial work queue for the KubeDB stand-in: keys are deduplicated, a reconcile may ask
 * to be called again after a delay (to follow progress), and failures are retried after a second.
 */
export type Reconcile = (key: string) => Promise<number | undefined>;

export class WorkQueue {
  private readonly pending = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = false;

  constructor(
    private readonly reconcile: Reconcile,
    private readonly log: (line: string) => void,
  ) {}

  add(key: string): void {
    this.pending.add(key);
    void this.drain();
  }

  addAfter(key: string, ms: number): void {
    if (this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.add(key);
      }, ms),
    );
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.pending.clear();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.size > 0) {
        const key = this.pending.values().next().value as string;
        this.pending.delete(key);
        try {
          const again = await this.reconcile(key);
          if (again !== undefined) this.addAfter(key, again);
        } catch (error) {
          this.log(`reconcile ${key} failed: ${(error as Error).message}`);
          this.addAfter(key, 1000);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
