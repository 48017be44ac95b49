package dev.sluice;

import dev.sluice.internal.BucketTable;
import dev.sluice.internal.Engine;
import dev.sluice.internal.Engines;
import dev.sluice.internal.Cleaner;
import dev.sluice.internal.Ticket;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import java.time.Duration;
import java.util.Objects;

/**
 * The default store: buckets in this JVM, one tiny holder per key (a single {@code long} for a
 * one-limit policy with a whole-nanosecond interval) in a {@link java.util.concurrent.ConcurrentHashMap}.
 * Buckets are created lazily on a key's first request; keys are independent; there is no global
 * lock. A decision on a key that has a bucket reads the ticker once, looks the holder up and
 * applies the bucket function with one compare-and-set, allocating nothing on the boolean path.
 *
 * <h2>Memory</h2>
 * <ul>
 *   <li><b>Lossless expiry.</b> A bucket that has refilled to full is the same as no bucket, so
 *       it is dropped once it has stayed full for the policy's fill time (so that a key that
 *       comes back sooner keeps its bucket instead of paying a new one per request): each new
 *       key's insertion examines a few entries of a cursor that cycles over the map and drops the
 *       expired ones. Nothing is lost: a dropped key's next request gets a new bucket, which
 *       holds what the full one held (for a limit whose new buckets start below full, the key
 *       starts again as a new key: fewer permits, never more). An optional cleaner thread ({@link Factory#cleaner}) also
 *       drops them when no new keys arrive; {@link #cleanUp()} drops every full bucket at once,
 *       on the caller's thread.</li>
 *   <li><b>A hard cap</b> ({@link Factory#maxKeys}, default 1,000,000): the
 *       store never holds more keys. At the cap, a new key first takes the place of a full
 *       bucket; failing that, of the bucket closest to full among a sample of entries, unless that
 *       bucket is <em>throttled</em> (holds fewer than half its capacity in some limit), which is
 *       never evicted for a new key. Each such eviction is counted ({@link #evictions()}) and can
 *       cost at most {@code floor(capacity/2)} extra permits for the evicted key (its fresh bucket
 *       starts full). When the sample finds no evictable bucket, the new key gets no bucket of its
 *       own: it is served by one overflow bucket with the same limits, shared by all keys the
 *       store cannot place, so a flood of new keys gets at most one key's worth of permits.</li>
 * </ul>
 *
 * <h2>Policies</h2>
 * Each call names its policy ({@link dev.sluice.spi.RateStore}); a bucket remembers the policy it
 * was written under (its engine, compiled once per policy and shared by equal policies). A key
 * whose call names another policy is converted by the carry-over rule first, in one
 * compare-and-set that also stops every other decision on the old state, so no decision mixes
 * two policies. A key deciding under the same {@code Policy} instance as its bucket costs what
 * it did before (one identity comparison more); an equal but distinct instance costs an
 * {@code equals} per decision, so reuse policy instances.
 *
 * <h2>Time</h2>
 * Only the ticker is read, once per call (the system ticker is {@link System#nanoTime()}, which
 * wall-clock steps do not move). A ticker that goes backwards mints nothing, also across expiry:
 * a key whose full bucket was dropped at a later reading comes back no fuller than it was then,
 * and new buckets start no earlier than the latest reading at which one was dropped.
 *
 * @param <K> the key type
 */
public final class InMemoryStore<K> implements RateStore<K> {

  /**
   * The default cap on keys held: 1,000,000. About 64 MB of buckets at the cap for a one-limit
   * policy (64 bytes per key: the map node, the holder, the table slot; keys not counted): far
   * more distinct clients than one node sees within a refill time, and small enough for a
   * 512 MB heap to survive a flood of new keys.
   */
  public static final long DEFAULT_MAX_KEYS = 1_000_000L;

  private final Ticker ticker;
  private final Policy policy;
  private final BucketTable<K> table;
  private final Cleaner cleaner;

  private InMemoryStore(String name, Policy policy, Ticker ticker, Factory options) {
    this.ticker = ticker;
    this.policy = policy;
    this.table = new BucketTable<>(
        new Engines(), policy, options.maxKeys, options.initialCapacity, ticker.read());
    this.cleaner = options.cleanerNanos == 0
        ? null
        : Cleaner.start("sluice-cleaner-" + name, table, ticker, options.cleanerNanos);
  }

  /**
   * The factory for in-memory stores, with default options: at most
   * 1,000,000 keys, no cleaner thread.
   *
   * @return a factory
   */
  public static Factory factory() {
    return new Factory(16, DEFAULT_MAX_KEYS, 0);
  }

  @Override
  public boolean tryAcquire(K key, Policy policy, long permits) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(policy, "policy");
    Engine.checkPermits(permits);
    return table.take(key, policy, ticker.read(), permits, false) == Engine.TAKEN;
  }

  @Override
  public Decision decide(K key, Policy policy, long permits) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(policy, "policy");
    Engine.checkPermits(permits);
    return table.take(key, policy, ticker.read(), permits, true);
  }

  @Override
  public Reservation reserve(K key, Policy policy, long permits, long maxWaitNanos) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(policy, "policy");
    Engine.checkPermits(permits);
    if (maxWaitNanos < 0 || maxWaitNanos > Engine.MAX_WAIT_NANOS) {
      throw new IllegalArgumentException("maxWaitNanos (" + maxWaitNanos + ") must be from 0 to "
          + Engine.MAX_WAIT_NANOS);
    }
    long now = ticker.read();
    Ticket t = table.reserve(key, policy, now, permits, maxWaitNanos);
    return Reservation.of(t, permits, now, ticker, at -> table.cancel(t, at));
  }

  @Override
  public void refund(K key, Policy policy, long permits, long heldNanos) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(policy, "policy");
    Engine.checkRefund(policy, permits);
    table.refund(key, policy, ticker.read(), permits, heldNanos);
  }

  @Override
  public void policyReplaced(Policy replaced, Policy replacement) {
    table.replaced(replaced, replacement);
  }

  @Override
  public long availablePermits(K key, Policy policy) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(policy, "policy");
    return table.available(key, policy, ticker.read());
  }

  /**
   * Keys held: buckets that are not full, and full ones not yet dropped (counting insertions in
   * progress). Never above the cap.
   *
   * @return keys held
   */
  @Override
  public long size() {
    return table.size();
  }

  /**
   * Buckets evicted under the cap before they were full, since this store was created. Full
   * buckets dropped by expiry are not counted: dropping them costs nothing.
   *
   * @return evictions so far
   */
  @Override
  public long evictions() {
    return table.evictions();
  }

  // The store's creation policy, for this package's tests.
  boolean tryAcquire(K key, long permits) {
    return tryAcquire(key, policy, permits);
  }

  Decision decide(K key, long permits) {
    return decide(key, policy, permits);
  }

  long availablePermits(K key) {
    return availablePermits(key, policy);
  }

  /**
   * For this package's tests: {@code c} is told the key of every eviction {@link #evictions()}
   * counts (on the evicting thread, under the insertion lock: keep it quick); null stops it.
   */
  @SuppressWarnings("unchecked")
  void onEviction(java.util.function.Consumer<? super K> c) {
    table.onEviction(c == null ? null : key -> c.accept((K) key));
  }

  /** Permits the shared overflow bucket admitted so far (for tests and diagnostics). */
  long overflowAdmitted() {
    return table.overflowAdmitted();
  }

  /**
   * Drops every full bucket now, without waiting for it to expire, on the caller's thread (one
   * pass over the map, reading the ticker once). Optional: expiry also happens as new keys
   * arrive, and on the cleaner thread if one was configured.
   *
   * @return buckets dropped
   */
  public long cleanUp() {
    return table.expireAll(ticker.read(), false, () -> false);
  }

  /** Stops the cleaner thread, if any (waiting for it to end), and forgets every bucket. */
  @Override
  public void close() {
    if (cleaner != null) {
      cleaner.stop();
    }
    table.clear();
  }

  /** Options for in-memory stores; a {@link RateStoreFactory}. Immutable. */
  public static final class Factory implements RateStoreFactory {

    private static final long MIN_CLEANER_NANOS = 1_000_000L;

    private final int initialCapacity;
    private final long maxKeys;
    private final long cleanerNanos;

    private Factory(int initialCapacity, long maxKeys, long cleanerNanos) {
      this.initialCapacity = initialCapacity;
      this.maxKeys = maxKeys;
      this.cleanerNanos = cleanerNanos;
    }

    /**
     * Pre-sizes the map for about this many keys.
     *
     * @param keys expected keys, at least 0
     * @return a new factory
     */
    public Factory initialCapacity(int keys) {
      if (keys < 0) {
        throw new IllegalArgumentException("initialCapacity (" + keys + ") must be at least 0");
      }
      return new Factory(keys, maxKeys, cleanerNanos);
    }

    /**
     * The most keys a store holds (default 1,000,000). A flood of
     * distinct keys beyond it evicts buckets closest to full, never throttled ones; see
     * {@link InMemoryStore}.
     *
     * @param keys the cap, at least 1
     * @return a new factory
     */
    public Factory maxKeys(long keys) {
      if (keys < 1) {
        throw new IllegalArgumentException("maxKeys (" + keys + ") must be at least 1");
      }
      return new Factory(initialCapacity, keys, cleanerNanos);
    }

    /**
     * Turns on a cleaner: a daemon thread, named {@code sluice-cleaner-<limiter name>}, that drops
     * every expired bucket (full for at least the policy's fill time) once per {@code interval},
     * so memory is returned even when no new keys arrive. Off by default: expiry on the request path bounds memory while keys keep arriving,
     * and nothing grows when they do not. {@link InMemoryStore#close()} stops it.
     *
     * @param interval the pause between passes, at least 1 ms
     * @return a new factory
     */
    public Factory cleaner(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.compareTo(Duration.ofNanos(MIN_CLEANER_NANOS)) < 0) {
        throw new IllegalArgumentException("cleaner interval (" + interval + ") must be at least 1 ms");
      }
      long nanos;
      try {
        nanos = interval.toNanos();
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(
            "cleaner interval (" + interval + ") must be at most " + Long.MAX_VALUE + " ns", e);
      }
      return new Factory(initialCapacity, maxKeys, nanos);
    }

    /**
     * Creates a store; typed, so that its {@link InMemoryStore#cleanUp()} is reachable.
     *
     * @param <K> the key type
     * @param name the limiter's name (names the cleaner thread)
     * @param policy the limits to enforce
     * @param ticker the time source
     * @return a new store
     */
    @Override
    public <K> InMemoryStore<K> create(String name, Policy policy, Ticker ticker) {
      return new InMemoryStore<>(
          Objects.requireNonNull(name, "name"), Objects.requireNonNull(policy, "policy"),
          Objects.requireNonNull(ticker, "ticker"), this);
    }

    @Override
    public String toString() {
      return "InMemoryStore.Factory[maxKeys=" + maxKeys + ", cleaner="
          + (cleanerNanos == 0 ? "off" : Duration.ofNanos(cleanerNanos)) + "]";
    }
  }
}
