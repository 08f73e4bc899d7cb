/**
 * The bits of Java behaviour that decide what kafka-consumer-groups.sh prints:
 * `%-Ns` padding, and the iteration order of java.util.HashMap / HashSet,
 * which Kafka's tool uses for the reset plan, the CSV export, the delete
 * results and the option lists in its error messages. HashMap order is
 * deterministic: buckets in index order (hash spread, masked by the table
 * size), entries of one bucket in insertion order.
 */

/** printf's `%-Ns`: left-justified, padded with spaces to `width`, never truncated. */
export function padRight(s: string, width: number): string {
  return s.length >= width ? s : s + ' '.repeat(width - s.length)
}

/** java.lang.String.hashCode(). */
export function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0
  return h
}

/** org.apache.kafka.common.TopicPartition.hashCode(). */
export function javaTopicPartitionHash(topic: string, partition: number): number {
  return (Math.imul(31, (31 + partition) | 0) + javaStringHash(topic)) | 0
}

/** java.util.List.hashCode() of a list of strings (joptsimple's OptionSpec hashes its option names so). */
export function javaStringListHash(items: readonly string[]): number {
  let h = 1
  for (const s of items) h = (Math.imul(31, h) + javaStringHash(s)) | 0
  return h
}

/** The table size of a HashMap that grew from the default (16) by inserting `n` entries. */
export function hashMapCapacity(n: number): number {
  let cap = 16
  while (n > cap * 0.75) cap *= 2
  return cap
}

/** The table size of `new HashSet<>(collection)` / `new HashMap<>(map)` for `n` entries. */
export function copiedHashSetCapacity(n: number): number {
  const wanted = Math.max(Math.floor(n / 0.75) + 1, 16)
  let cap = 1
  while (cap < wanted) cap *= 2
  return cap
}

/**
 * The order a java.util.HashMap (or HashSet) iterates `items` in, given the
 * order they were inserted in and each one's hashCode(). `capacity` defaults to
 * the size of a map filled by `put` from empty.
 */
export function javaHashOrder<T>(items: readonly T[], hash: (item: T) => number, capacity = hashMapCapacity(items.length)): T[] {
  return items
    .map((item, i) => {
      const h = hash(item)
      return { item, i, bucket: (h ^ (h >>> 16)) & (capacity - 1) }
    })
    .sort((a, b) => a.bucket - b.bucket || a.i - b.i)
    .map((x) => x.item)
}
