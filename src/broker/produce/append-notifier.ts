/**
 * Wakes parked Fetch requests when data is appended to a partition they
 * wait on. Waiters register for a set of partitions and are called at most
 * once; unregistering is the caller's job (it also has a timeout to clear).
 */
type Waiter = () => void

export class AppendNotifier {
  #waiters = new Map<string, Set<Waiter>>()

  static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`
  }

  /** Registers `wake` on each partition key; returns the function that unregisters it everywhere. */
  wait(keys: readonly string[], wake: Waiter): () => void {
    for (const k of keys) {
      let set = this.#waiters.get(k)
      if (!set) {
        set = new Set()
        this.#waiters.set(k, set)
      }
      set.add(wake)
    }
    return () => {
      for (const k of keys) {
        const set = this.#waiters.get(k)
        if (!set) continue
        set.delete(wake)
        if (set.size === 0) this.#waiters.delete(k)
      }
    }
  }

  notify(topic: string, partition: number): void {
    const set = this.#waiters.get(AppendNotifier.key(topic, partition))
    if (!set) return
    for (const w of [...set]) w()
  }
}
