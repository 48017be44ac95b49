package dev.sluice.redis;

import dev.sluice.Decision;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Refusals remembered on this node, so that a client hammering a throttled key costs no round
 * trip. Exact, because tokens only come from refill: a refusal of {@code n} permits at Redis
 * time {@code t} with {@code retryAfter = w} means that no request for {@code n} or more can
 * succeed before {@code t + w} on any node (other nodes can only take permits, which makes the
 * wait longer, never shorter). Refunds are the exception: the store forgets a key it refunds
 * (its reply, like every reply on the connection, comes after those of the commands that ran
 * before it, so no older refusal is remembered after it), but a refund through another node is
 * not seen here, and a remembered refusal then stays until its wait ends: stricter, never looser.
 *
 * <h2>Mapping Redis time to this node's clock</h2>
 * The script ran at some instant between sending the command ({@code sent}, read from
 * {@link System#nanoTime()} just before) and receiving the reply. Redis's {@code TIME} truncates
 * to the microsecond and {@code w} is rounded up to the microsecond, so the true wait from the
 * script's run is at least {@code w - 2 µs}, and from {@code sent} at least that too. An entry is
 * therefore valid until {@code sent + w - 2 µs - w/1000}: the last term allows this node's clock to run up to 1,000
 * ppm slower than Redis's (NTP keeps clocks within 500 ppm; twice that is the margin). Using the
 * receipt time instead would be wrong: by then Redis's clock has moved on by the round trip,
 * and the cache would refuse requests that Redis would admit. So a cached refusal never refuses
 * what Redis would have admitted, and it ends at most {@code w/1000 + 2 µs} plus the round trip
 * before Redis would admit.
 *
 * <p>The clock is the store's: {@link System#nanoTime()}, or in tests the same ticker the script
 * reads.
 *
 * <p>If Redis loses its data (restart without persistence, failover to a lagging replica), a
 * cached refusal may outlive the state it came from, by at most its {@code retryAfter}: the cache
 * is then stricter than the fresh bucket, never looser.
 *
 * <p>Memory is bounded: at most {@value #MAX_ENTRIES} entries; expired entries are dropped when
 * read, and swept when the cache is full (at most once per {@value #SWEEP_INTERVAL_MILLIS} ms);
 * when it is full of live entries, new refusals are simply not cached.
 *
 * @param <K> the limiter's key type; keys are compared with {@code equals}
 */
final class DenyCache<K> {

  static final int MAX_ENTRIES = 65_536;
  static final long SWEEP_INTERVAL_MILLIS = 100;

  /** One remembered refusal; {@code permits} and larger requests are refused until {@code until}. */
  private static final class Entry {
    final long permits;
    final long until;
    final long resetAt;
    final long received;
    final KeyReply reply;

    Entry(long permits, long until, long resetAt, long received, KeyReply reply) {
      this.permits = permits;
      this.until = until;
      this.resetAt = resetAt;
      this.received = received;
      this.reply = reply;
    }
  }

  private final BucketMath math;
  private final long maxPermits;
  private final ConcurrentHashMap<K, Entry> entries = new ConcurrentHashMap<>();
  private volatile long lastSweep;

  DenyCache(BucketMath math, long maxPermits, long now) {
    this.math = math;
    this.maxPermits = maxPermits;
    this.lastSweep = now;
  }

  /**
   * A refusal answered here, or null to ask Redis. Its counts are those of the refused bucket
   * advanced by the time since the reply arrived, taking nothing: the permits earned since, and
   * the wait for this request's size (measured from the reply, so never shorter than the true
   * one). A request that exceeds the capacity is never answered here (Redis says so, with no
   * wait).
   *
   * @param now the store's clock
   */
  Decision lookup(K key, long permits, long now) {
    if (permits > maxPermits) {
      return null;
    }
    Entry e = entries.get(key);
    if (e == null) {
      return null;
    }
    if (now - e.until >= 0) {
      entries.remove(key, e);
      return null;
    }
    if (permits < e.permits) {
      return null;
    }
    return math.refusalLater(e.reply, Math.max(0, now - e.received) / 1000, permits,
        Math.max(0, e.resetAt - now)).fromDenyCache();
  }

  /**
   * Remembers a refusal by Redis of a request sent at {@code sent} and answered at
   * {@code received} (the store's clock), with the script's reply that refused it.
   */
  void remember(K key, long permits, Decision refusal, KeyReply reply, long sent, long received) {
    long w = refusal.retryAfterNanos();
    long until = sent + w - 2_000 - w / 1_000;
    if (w < 0 || until - received <= 0) {
      return;
    }
    if (entries.size() >= MAX_ENTRIES && !sweep(received)) {
      return;
    }
    entries.put(key, new Entry(permits, until, sent + refusal.resetAfterNanos(), received, reply));
  }

  /** Drops what is remembered for {@code key} (its bucket changed). */
  void forget(K key) {
    if (!entries.isEmpty()) {
      entries.remove(key);
    }
  }

  /** Drops expired entries if the last sweep is old enough; true if there is room after. */
  private boolean sweep(long now) {
    if (now - lastSweep < SWEEP_INTERVAL_MILLIS * 1_000_000L) {
      return false;
    }
    lastSweep = now;
    entries.values().removeIf(e -> now - e.until >= 0);
    return entries.size() < MAX_ENTRIES;
  }

  /** Entries held (live or not yet swept). */
  int size() {
    return entries.size();
  }

  void clear() {
    entries.clear();
  }
}
