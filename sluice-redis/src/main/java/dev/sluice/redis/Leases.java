package dev.sluice.redis;

import dev.sluice.Decision;
import dev.sluice.Policy;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Permits this node leases from Redis for its hot keys, under one policy
 * ({@link RedisStore.Factory#leasing}), so that a hot key costs a round trip per lease instead of
 * one per decision.
 *
 * <h2>Why it is exact</h2>
 * Redis keeps, in the bucket's value, every unexpired lease: its id, its permits {@code k} and its
 * expiry by Redis's clock. The permits held, {@code H}, count against each limit's capacity: the
 * bucket's refill stops at {@code C - H}, so at every instant available-in-Redis plus
 * held-in-leases is at most {@code C}, and permits enter the key only as Redis's refill, at the
 * rate (a give-back returns part of a lease, which was counted already). Every admission of a
 * window {@code [t0, t1]} is either taken from the bucket during the window or served from a lease
 * counted in {@code H(t0)} or granted during the window; so a window admits at most
 * {@code A(t0) + H(t0) + refill <= C + W * rate}. A lease's permits are served only while Redis
 * still counts them: from its grant's reply until this node's conservative expiry and never after
 * the node gave it back (see below); a lease never given back is dropped by Redis when it
 * expires, its unused permits simply lost (stricter, never looser). The full argument is in
 * {@code docs/guarantees.md}.
 *
 * <h2>The node's side</h2>
 * <ul>
 *   <li>A key is leased only when it is hot here: at least {@value #HOT_DECISIONS} decisions in
 *       the current or the previous lease life. A key with little traffic is never leased.</li>
 *   <li>A lease is asked for in a decision's own round trip (the script takes the decision's
 *       permits, then the lease's, all or nothing), at most one per key in flight, none while
 *       one is being served. Its size is the smallest of: twice the last lease of the key
 *       ({@value #HOT_DECISIONS} at first), the permits the key asked for here in a lease life,
 *       the smallest capacity, and a fair share of what the bucket held at its last reply here,
 *       {@code (remaining - permits) / liveNodes}. A lease that did not fit halves the next.</li>
 *   <li>It is served until {@code sent + life - 2 µs - life/1000} on the store's clock, the deny
 *       cache's margin: the script ran after {@code sent}, Redis's clock truncates to the
 *       microsecond, and this node's clock may run 1,000 ppm slow. A lease that cannot serve a
 *       request (expired here, or too few permits) is given back with its unused permits in the
 *       next round trip for the key, or, for a key that went quiet, by a timer on the connection's
 *       deadline thread somewhat before that expiry. Closing the store gives every lease back.</li>
 * </ul>
 *
 * <p>Memory is bounded: at most {@value #MAX_KEYS} keys are tracked; idle ones are swept when full
 * (at most once per 100 ms); beyond that, new keys are simply not leased.
 *
 * @param <K> the key type
 */
final class Leases<K> {

  /** Decisions within a lease life before a key is leased. */
  static final int HOT_DECISIONS = 8;
  /** The most keys tracked. */
  static final int MAX_KEYS = 65_536;
  private static final long SWEEP_INTERVAL_NANOS = 100_000_000L;

  /** Gives a lease back to Redis, asynchronously and best effort. */
  @FunctionalInterface
  interface GiveBack<K> {
    /**
     * Sends the give-back.
     *
     * @param ioThread whether this runs on an I/O thread (where no command may be written)
     */
    void send(K key, long id, long unused, boolean ioThread);
  }

  /** What a round trip for a key carries: a lease to ask for, and one to give back (0: none). */
  record Plan(long leaseId, long k, long returnId, long unused) {}

  /** One key's demand and lease, guarded by itself. */
  private static final class Slot {
    long windowStart;
    long decisions;
    long asked;
    long prevDecisions;
    long prevAsked;
    /** The permits the bucket held after the last reply here; -1 before one. */
    long lastRemaining = -1;
    long lastK;
    /** The lease being served, or 0. Read without the lock by its timer. */
    volatile long id;
    long left;
    long until;
    int binding;
    long resetAt;
    /** The lease asked for and not yet answered, or 0. */
    long pending;

    Slot(long now) {
      windowStart = now;
    }
  }

  private final Policy policy;
  private final long maxPermits;
  final long lifeNanos;
  final long lifeMicros;
  /** How long after sending its grant a lease is served: life less the clock margin. */
  final long serveNanos;
  /** How long after its grant arrived the timer gives back a lease of a quiet key. */
  private final long timerNanos;
  private final GiveBack<K> giveBack;
  private final Supplier<Deadlines> deadlines;
  private final Stats stats;
  private final ConcurrentHashMap<K, Slot> slots = new ConcurrentHashMap<>();
  private volatile long lastSweep;

  Leases(Policy policy, long maxPermits, long lifeNanos, long deadlineNanos, GiveBack<K> giveBack,
      Supplier<Deadlines> deadlines, Stats stats, long now) {
    this.policy = policy;
    this.maxPermits = maxPermits;
    this.lifeNanos = lifeNanos;
    this.lifeMicros = lifeNanos / 1000;
    this.serveNanos = lifeMicros * 1000 - 2_000 - lifeNanos / 1000;
    this.timerNanos = Math.max(1, serveNanos - Math.min(deadlineNanos, serveNanos / 4));
    this.giveBack = giveBack;
    this.deadlines = deadlines;
    this.stats = stats;
    this.lastSweep = now;
  }

  /**
   * An admission from this node's lease of {@code key}, or null to ask Redis.
   *
   * @param now the store's clock
   */
  Decision serve(K key, long permits, long now) {
    Slot s = slots.get(key);
    if (s == null) {
      return null;
    }
    long left;
    int binding;
    long resetAt;
    synchronized (s) {
      if (s.id == 0 || s.left < permits || now - s.until >= 0) {
        return null;
      }
      s.left -= permits;
      count(s, permits, now);
      left = s.left;
      binding = s.binding;
      resetAt = s.resetAt;
    }
    stats.leaseHits.incrementAndGet();
    return Decision.allowed(policy, binding, left, Math.max(0, resetAt - now)).fromLease();
  }

  /**
   * What a round trip for a decision of {@code permits} on {@code key} carries, or null for a
   * plain take: a lease that can no longer serve is given back, and a hot key asks for a new one.
   */
  Plan plan(K key, long permits, long now, long liveNodes) {
    Slot s = slot(key, now);
    if (s == null) {
      return null;
    }
    synchronized (s) {
      count(s, permits, now);
      long returnId = 0;
      long unused = 0;
      if (s.id != 0 && (s.left < permits || now - s.until >= 0)) {
        returnId = s.id;
        unused = s.left;
        s.id = 0;
        s.left = 0;
      }
      long leaseId = 0;
      long k = 0;
      if (s.id == 0 && s.pending == 0 && s.lastRemaining >= 0
          && (s.decisions >= HOT_DECISIONS || s.prevDecisions >= HOT_DECISIONS)) {
        k = s.lastK == 0 ? HOT_DECISIONS : 2 * s.lastK;
        k = Math.min(k, Math.max(HOT_DECISIONS, Math.max(s.asked, s.prevAsked)));
        k = Math.min(k, maxPermits);
        k = Math.min(k, (s.lastRemaining - permits) / Math.max(1, liveNodes));
        if (k >= 1) {
          leaseId = ThreadLocalRandom.current().nextLong(1, 1L << 53);
          s.pending = leaseId;
        } else {
          k = 0;
        }
      }
      return leaseId == 0 && returnId == 0 ? null : new Plan(leaseId, k, returnId, unused);
    }
  }

  /**
   * Redis answered a take of {@code key} (a plain one when {@code plan} is null): the bucket's
   * remaining permits are remembered for the next lease's size, and a granted lease is served from
   * now on, or given back at once if the key no longer waits for it (its call failed meanwhile).
   *
   * @param sentAt when the command was sent, on the store's clock
   */
  void answered(K key, Plan plan, KeyReply reply, Decision d, long sentAt) {
    Slot s = slots.get(key);
    boolean install = false;
    if (s != null) {
      synchronized (s) {
        s.lastRemaining = d.remaining();
        if (plan != null && plan.leaseId() != 0 && s.pending == plan.leaseId()) {
          s.pending = 0;
          if (reply.leased() && s.id == 0) {
            s.id = plan.leaseId();
            s.left = plan.k();
            s.until = sentAt + serveNanos;
            s.binding = d.bindingIndex();
            s.resetAt = sentAt + d.resetAfterNanos();
            s.lastK = plan.k();
            install = true;
          } else if (!reply.leased()) {
            s.lastK = plan.k() / 2;
          }
        }
      }
    }
    if (plan == null || plan.leaseId() == 0 || !reply.leased()) {
      return;
    }
    stats.leasesGranted.incrementAndGet();
    if (install) {
      Deadlines t = deadlines.get();
      if (t != null) {
        t.add(timerNanos, new Timer(key, s, plan.leaseId(), System.nanoTime() + timerNanos));
      }
    } else {
      give(key, plan.leaseId(), plan.k(), true);
    }
  }

  /** The round trip that carried {@code plan} failed: the key may ask for a lease again. */
  void failed(K key, Plan plan) {
    Slot s = slots.get(key);
    if (s == null || plan == null) {
      return;
    }
    synchronized (s) {
      if (s.pending == plan.leaseId()) {
        s.pending = 0;
      }
    }
  }

  /** Stops serving every lease and gives each back (closing the store). */
  void giveAllBack() {
    slots.forEach((key, s) -> {
      long id;
      long unused;
      synchronized (s) {
        id = s.id;
        unused = s.left;
        s.id = 0;
        s.left = 0;
      }
      if (id != 0) {
        give(key, id, unused, false);
      }
    });
  }

  /** The permits this node's lease of {@code key} has left (0 if none), for tests. */
  long left(K key) {
    Slot s = slots.get(key);
    if (s == null) {
      return 0;
    }
    synchronized (s) {
      return s.id == 0 ? 0 : s.left;
    }
  }

  private void give(K key, long id, long unused, boolean ioThread) {
    stats.leaseReturns.incrementAndGet();
    giveBack.send(key, id, unused, ioThread);
  }

  private void count(Slot s, long permits, long now) {
    long age = now - s.windowStart;
    if (age >= lifeNanos) {
      boolean adjacent = age < 2 * lifeNanos;
      s.prevDecisions = adjacent ? s.decisions : 0;
      s.prevAsked = adjacent ? s.asked : 0;
      s.decisions = 0;
      s.asked = 0;
      s.windowStart = now;
    }
    s.decisions++;
    s.asked = s.asked > Long.MAX_VALUE - permits ? Long.MAX_VALUE : s.asked + permits;
  }

  /** The key's slot, made if there is room. */
  private Slot slot(K key, long now) {
    Slot s = slots.get(key);
    if (s != null) {
      return s;
    }
    if (slots.size() >= MAX_KEYS && !sweep(now)) {
      return null;
    }
    return slots.computeIfAbsent(key, k -> new Slot(now));
  }

  /** Drops idle slots (no lease, none asked for, quiet for two lives); true if there is room. */
  private boolean sweep(long now) {
    if (now - lastSweep < SWEEP_INTERVAL_NANOS) {
      return false;
    }
    lastSweep = now;
    slots.values().removeIf(s -> {
      synchronized (s) {
        return s.id == 0 && s.pending == 0 && now - s.windowStart >= 2 * lifeNanos;
      }
    });
    return slots.size() < MAX_KEYS;
  }

  /** Gives back the lease of a key that went quiet, somewhat before this node would stop it. */
  private final class Timer implements Deadlines.Pending {
    private final K key;
    private final Slot slot;
    private final long id;
    private final long at;

    Timer(K key, Slot slot, long id, long at) {
      this.key = key;
      this.slot = slot;
      this.id = id;
      this.at = at;
    }

    @Override
    public long expiresAt() {
      return at;
    }

    @Override
    public boolean isDone() {
      return slot.id != id;
    }

    @Override
    public void expire() {
      long unused;
      synchronized (slot) {
        if (slot.id != id) {
          return;
        }
        unused = slot.left;
        slot.id = 0;
        slot.left = 0;
      }
      give(key, id, unused, false);
    }
  }
}
