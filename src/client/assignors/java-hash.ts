/**
 * Java's `HashMap`/`HashSet` iteration order, reproduced so that the sticky assignors break ties the way
 * Java's leader does. Java's AbstractStickyAssignor walks `Map<String, Subscription>` (a HashMap filled in
 * JoinGroup-response order) and picks `HashSet<TopicPartition>.iterator().next()`; both orders depend on
 * `hashCode()`, the table size and insertion order, and nothing else.
 *
 * Emulated: `String.hashCode`, `TopicPartition.hashCode`, `HashMap.hash` (h ^ h>>>16), the default
 * capacity 16 / load factor 0.75 growth, resize splits (which keep the relative order within a bucket),
 * the resize a long bin causes while the table is smaller than 64, and the two ways keys go in: `put`
 * appends to the bucket and resizes after, `computeIfAbsent` prepends and resizes before (Kafka's
 * `CollectionUtils.groupPartitionsByTopic` uses the latter). Not emulated: bins that
 * Java turns into red-black trees (9+ colliding keys in one bucket of a table of 64+); their order is
 * tree order and, for TopicPartition keys, depends on `System.identityHashCode`, so Java itself is not
 * deterministic there.
 */

/** `java.lang.String.hashCode()` over UTF-16 code units. */
export function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0
  return h
}

/** `org.apache.kafka.common.TopicPartition.hashCode()` given the topic's String hash. */
export function javaTopicPartitionHash(topicHash: number, partition: number): number {
  return (Math.imul(31, (31 + partition) | 0) + topicHash) | 0
}

const DEFAULT_CAPACITY = 16
const TREEIFY_THRESHOLD = 8
const MIN_TREEIFY_CAPACITY = 64

interface Node<K> {
  readonly key: K
  readonly hash: number
}

/** How keys are inserted: `HashMap.put` (HashSet.add) or `HashMap.computeIfAbsent`. */
export type JavaInsertion = 'put' | 'computeIfAbsent'

/** A set with the iteration order of a `java.util.HashMap`'s keys. Keys are compared with `===`. */
export class JavaHashSet<K> {
  readonly #hashOf: (key: K) => number
  readonly #insertion: JavaInsertion
  #table: Node<K>[][] = []
  #size = 0
  #threshold = 0

  constructor(hashOf: (key: K) => number, insertion: JavaInsertion = 'put') {
    this.#hashOf = hashOf
    this.#insertion = insertion
  }

  get size(): number {
    return this.#size
  }

  add(key: K): boolean {
    const h = this.#hashOf(key)
    const hash = h ^ (h >>> 16)
    const put = this.#insertion === 'put'
    if (this.#table.length === 0 || (!put && this.#size > this.#threshold)) this.#resize()
    const bin = this.#table[hash & (this.#table.length - 1)]
    for (const n of bin) if (n.key === key) return false
    const before = bin.length
    if (put) bin.push({ key, hash })
    else bin.unshift({ key, hash })
    // treeifyBin, which only resizes while the table is small: putVal calls it when it appends to a chain of
    // TREEIFY_THRESHOLD nodes, computeIfAbsent when it prepends to one of TREEIFY_THRESHOLD - 1.
    if (before >= (put ? TREEIFY_THRESHOLD : TREEIFY_THRESHOLD - 1) && this.#table.length < MIN_TREEIFY_CAPACITY) this.#resize()
    if (++this.#size > this.#threshold && put) this.#resize()
    return true
  }

  delete(key: K): boolean {
    if (this.#table.length === 0) return false
    const h = this.#hashOf(key)
    const bin = this.#table[(h ^ (h >>> 16)) & (this.#table.length - 1)]
    for (let i = 0; i < bin.length; i++) {
      if (bin[i].key === key) {
        bin.splice(i, 1)
        this.#size--
        return true
      }
    }
    return false
  }

  has(key: K): boolean {
    if (this.#table.length === 0) return false
    const h = this.#hashOf(key)
    for (const n of this.#table[(h ^ (h >>> 16)) & (this.#table.length - 1)]) if (n.key === key) return true
    return false
  }

  /** `iterator().next()`. */
  first(): K | undefined {
    for (const bin of this.#table) if (bin.length > 0) return bin[0].key
    return undefined
  }

  *[Symbol.iterator](): IterableIterator<K> {
    for (const bin of this.#table) for (const n of bin) yield n.key
  }

  #resize(): void {
    const newCap = this.#table.length === 0 ? DEFAULT_CAPACITY : this.#table.length * 2
    const next: Node<K>[][] = new Array(newCap)
    for (let i = 0; i < newCap; i++) next[i] = []
    // Java splits each old bin into a "lo" and a "hi" list, each keeping its relative order; walking the
    // old table in order and appending gives the same lists.
    for (const bin of this.#table) for (const n of bin) next[n.hash & (newCap - 1)].push(n)
    this.#table = next
    this.#threshold = (newCap * 3) / 4
  }
}

/**
 * The key order of a fresh `new HashMap<String, V>()` after inserting `keys` in this order (repeats
 * included: `computeIfAbsent` may resize even for a key it already has).
 */
export function javaHashMapOrder(keys: Iterable<string>, insertion: JavaInsertion = 'put'): string[] {
  const set = new JavaHashSet<string>(javaStringHash, insertion)
  for (const k of keys) set.add(k)
  return [...set]
}
