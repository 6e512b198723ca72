/**
 * In-process mutual exclusion per name: `run` chains work on a name behind whatever is
 * already queued on it. Both stores use it so that two messages for the same (target,
 * key) in one process never interleave between reading the order gate and writing it.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => undefined);
    this.tails.set(name, tail);
    try {
      return await result;
    } finally {
      // Forget the name once nobody queued behind this work.
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }
}
