/** A sleep that another part of the same object can cut short (to stop a polling or publishing loop at once). */
export class Nap {
  private wakeUp: (() => void) | undefined;

  /** Resolves after `ms`, or at `wake()`, whichever comes first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, Math.max(0, ms));
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }

  /** Ends the current sleep now (no-op when not sleeping). */
  wake(): void {
    this.wakeUp?.();
  }
}
