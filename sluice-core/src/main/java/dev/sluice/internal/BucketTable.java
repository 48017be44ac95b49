package dev.sluice.internal;

import dev.sluice.Decision;
import dev.sluice.Policy;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The in-memory store's machinery: holders in a {@link ConcurrentHashMap}, dropped when full,
 * capped in number.
 *
 * <h2>The hot path</h2>
 * A key that has a bucket costs a map lookup and the engine's one CAS: no lock, no allocation,
 * no write to any shared field. Everything below happens only when a key gets a new bucket
 * (already a slow path: it allocates a holder and a map node) or on the optional cleaner thread.
 *
 * <h2>Lossless expiry</h2>
 * A full bucket is the same as no bucket (a new one starts with the limit's initial permits,
 * full by default), so it is dropped once it has stayed full for a grace period (the policy's
 * longest fill time): each insertion examines the next {@value #SWEEP_PER_INSERT} entries of a
 * cursor that cycles over the map and drops the expired ones. The grace keeps a key that comes
 * back more often than its bucket refills from paying a new holder and map node on every
 * request (dropped at the moment it is full, a bucket that took one permit goes one emission
 * interval later: at high rates, after every request). With {@code s} entries examined per
 * insertion a pass over {@code n} entries takes {@code n/s} insertions, so a map whose live
 * (not expired) buckets number {@code L} holds at most about {@code L * s/(s-1)} entries while
 * keys keep arriving; when none arrive nothing grows, and {@link #expireAll} (the optional
 * cleaner, or {@code cleanUp()} without the grace) reclaims the rest. At the cap, full buckets
 * are dropped without grace.
 *
 * <h2>Retirement, and why nothing over-admits</h2>
 * A holder is never removed from the map while still live: it is first retired (see
 * {@link Holder}) by one CAS from the state that was judged full (or evictable) to a sentinel, and
 * only then removed with {@code remove(key, holder)}. A request that finds the sentinel, in its
 * first read or as the witness of a failed CAS, removes the holder itself if it is still mapped
 * and looks the key up again. Two more rules keep a new bucket from undoing history:
 * <ul>
 *   <li>A request for a key with no bucket decides on a private new holder first and publishes it
 *       with {@code putIfAbsent}, so a new bucket is never visible before its first decision is in
 *       it (nothing can retire it in between). If it lost the race to another new holder, its
 *       decision is discarded and made again on the winner. If a bucket of the key's stripe was
 *       removed between the lookup and the publication (a whole life of another bucket of the
 *       same key may fit in there, if the thread stalled), the published holder is taken back
 *       untouched and the decision made again, so no decision misses a bucket's history. Only if
 *       another request has already decided on the published holder in that instant is it kept
 *       (a second race inside the first; not reproduced).</li>
 *   <li>New buckets are created at {@code max(now, latest reading at which a holder was retired)},
 *       so a bucket dropped as full at {@code t} cannot come back fuller than it was at {@code t}
 *       when a request carrying an earlier reading (a stale thread, a ticker that went back)
 *       recreates it. A new bucket created "in the future" holds fewer permits now: conservative.</li>
 * </ul>
 *
 * <h2>The cap</h2>
 * Keys held never exceed {@code maxKeys}: a slot counter is taken (CAS, only below the cap) before
 * a key is inserted and given back after its holder is removed, so the map's size is at most the
 * counter at every instant. When the counter is at the cap, the inserting thread takes a lock and
 * samples the cursor's next {@value #SAMPLE} entries: full buckets are dropped (free), evictable
 * ones are offered to a pool of the {@value #POOL} closest to full seen so far (Redis's eviction
 * pool: it carries good candidates past runs of throttled entries, which the map's iteration
 * order clusters), and otherwise the pooled bucket closest to full now (the least time until
 * full) is evicted, its slot passed to the new key; up to {@value #ROUNDS} rounds.
 *
 * <p>A bucket is <em>throttled</em>, and never evicted for a new key, while it holds fewer than
 * half its capacity in some limit. Evicting a bucket hands its key a fresh one, so the key may
 * take again what it had consumed and not yet refilled: the rule bounds that to
 * {@code floor(C/2)} permits per eviction, and a client that has drained its bucket cannot reset
 * it by spraying new keys. When the rounds find nothing evictable, the new key is served, without
 * a bucket of its own, by one shared <em>overflow</em> bucket with the policy's limits: every key
 * the store cannot place shares it, so together they get at most one bucket's worth (a flood of
 * new keys cannot open the gate), while the keys held keep their exact limits.
 *
 * @param <K> the key type
 */
public final class BucketTable<K> {

  /** Entries a new key's insertion examines for full buckets (amortized expiry). */
  static final int SWEEP_PER_INSERT = 4;

  /** Entries sampled per round when the cap is reached. */
  static final int SAMPLE = 8;

  /** Rounds of sampling before a new key is served by the overflow bucket. */
  static final int ROUNDS = 4;

  /** Eviction candidates remembered across samples (as in Redis's eviction pool). */
  static final int POOL = 16;

  private static final int PLACED = 0;
  private static final int RACED = 1;
  private static final int NO_ROOM = 2;

  /** Stripes of {@link #removals}: a power of two. */
  static final int REMOVAL_STRIPES = 1024;

  private final Engines engines;
  /**
   * Policies replaced ({@link #replaced}), each to its replacement: chains end at a current
   * policy. Read only off the fast path (a call whose policy is not its bucket's).
   */
  private final ConcurrentHashMap<Policy, Policy> replacedBy = new ConcurrentHashMap<>();
  private final long maxKeys;
  /**
   * Per stripe of keys, a count of removals from the map, raised just before each removal. A new
   * key's request reads its stripe before looking the key up and again after publishing its
   * privately decided holder: a change means a bucket of (possibly) the same key was removed in
   * between, whose history the private decision did not see, so the holder is taken back.
   */
  private final AtomicLongArray removals = new AtomicLongArray(REMOVAL_STRIPES);
  /** Tests only: runs between a new key's private decision and its publication. */
  Runnable beforePlace;
  /** Tests only: told the key of each eviction {@link #evictions()} counts; null: nobody. */
  private volatile java.util.function.Consumer<Object> onEviction;
  private final ConcurrentHashMap<K, Holder> map;
  private final AtomicLong slots = new AtomicLong();
  private final AtomicLong evictions = new AtomicLong();
  /** Permits the overflow bucket admitted (a rare path: only when the store is saturated). */
  private final AtomicLong overflowAdmitted = new AtomicLong();
  /** The latest ticker reading at which a holder was retired; new buckets start no earlier. */
  private final AtomicLong retiredAt;
  /** The shared bucket of keys the table cannot place; moved like any other on a policy change. */
  private volatile Holder overflow;

  /** Guards the cursor and the pool; held only on insertion paths, never while deciding. */
  private final ReentrantLock cleanLock = new ReentrantLock();
  /** Keys, not entries: a key iterator allocates nothing per step (an entry iterator does). */
  private Iterator<K> cursor;
  /** The best evictable buckets seen by recent samples: keys, holders, time until full then. */
  private final Object[] poolKeys = new Object[POOL];
  private final Holder[] poolHolders = new Holder[POOL];
  private final long[] poolRanks = new long[POOL];
  private int poolSize;

  /**
   * An empty table.
   *
   * @param engines the engines of the policies it serves
   * @param policy the policy most calls carry (the overflow bucket's first)
   * @param maxKeys the most keys held, at least 1
   * @param initialCapacity keys to pre-size the map for
   * @param now the ticker's reading at creation
   */
  public BucketTable(Engines engines, Policy policy, long maxKeys, int initialCapacity, long now) {
    this.engines = engines;
    this.maxKeys = maxKeys;
    this.map = new ConcurrentHashMap<>((int) Math.min(initialCapacity, maxKeys));
    this.retiredAt = new AtomicLong(now);
    this.overflow = engines.of(policy).newHolder(now);
  }

  /**
   * {@code replaced} is no longer any key's policy: calls that still carry it are decided under
   * {@code replacement} (or what replaced that), so no bucket converts back to it. Replacing a
   * policy by one that was replaced before makes that one current again.
   *
   * @param replaced the policy replaced
   * @param replacement its replacement
   */
  public void replaced(Policy replaced, Policy replacement) {
    synchronized (replacedBy) {
      replacedBy.remove(replacement);
      if (!replaced.equals(replacement)) {
        replacedBy.put(replaced, replacement);
      }
    }
  }

  /** The policy a call carrying {@code policy} is decided under: it, or what replaced it. */
  private Policy current(Policy policy) {
    if (replacedBy.isEmpty()) {
      return policy;
    }
    Policy p = policy;
    for (int i = 0; i < 64; i++) {
      Policy next = replacedBy.get(p);
      if (next == null) {
        return p;
      }
      p = next;
    }
    return p;
  }

  /**
   * The bucket function on {@code key}'s bucket at {@code now} ({@link Engine#take}): takes
   * {@code permits} if every limit has them.
   *
   * <p>A bucket written under another policy is first moved to {@code policy} by the carry-over
   * rule ({@link Engine#moveFrom}), atomically with respect to every decision on it.
   *
   * @param key the key
   * @param policy the policy to decide under
   * @param now the ticker reading
   * @param permits at least 1
   * @param report whether to build the decision, else {@link Engine#TAKEN} or
   *     {@link Engine#REFUSED}
   * @return the decision, never null
   */
  public Decision take(K key, Policy policy, long now, long permits, boolean report) {
    Holder h = map.get(key);
    if (h != null) {
      Engine e = h.engine;
      if (e.policy == policy) {
        Decision d = e.take(h, now, permits, report);
        if (d != null) {
          return d;
        }
      }
    }
    return takeSlow(key, policy, now, permits, report);
  }

  private Decision takeSlow(K key, Policy policy, long now, long permits, boolean report) {
    return slow(key, policy, now, permits,
        (engine, h) -> engine.take(h, now, permits, report), Decision::allowed);
  }

  /**
   * Reserves {@code permits} on {@code key}'s bucket at {@code now} if they are due within
   * {@code maxWaitNanos} ({@link Engine#reserve}); a bucket under another policy is moved first,
   * as for {@link #take}.
   *
   * @param key the key
   * @param policy the policy to decide under
   * @param now the ticker reading
   * @param permits at least 1
   * @param maxWaitNanos from 0 to {@link Engine#MAX_WAIT_NANOS}
   * @return the ticket, never null
   */
  public Ticket reserve(K key, Policy policy, long now, long permits, long maxWaitNanos) {
    Holder h = map.get(key);
    if (h != null) {
      Engine e = h.engine;
      if (e.policy == policy) {
        Ticket t = e.reserve(h, now, permits, maxWaitNanos);
        if (t != null) {
          return t;
        }
      }
    }
    return slow(key, policy, now, permits,
        (engine, holder) -> engine.reserve(holder, now, permits, maxWaitNanos), Ticket::granted);
  }

  /**
   * Gives a granted reservation back ({@link Engine#cancel}). A bucket moved to another policy
   * or dropped since gives nothing back.
   *
   * @param t a granted ticket from {@link #reserve}
   * @param now the ticker reading
   * @return whether the permits were given back
   */
  public boolean cancel(Ticket t, long now) {
    return t.holder != null && t.holder.engine.cancel(t, now);
  }

  /** One call of the bucket function on a holder: null if the holder is retired or moved. */
  private interface Call<R> {
    R on(Engine engine, Holder h);
  }

  /**
   * The slow path of every call that may take: a key with no bucket, a bucket under another
   * policy, a retired or moved holder, the overflow bucket.
   */
  private <R> R slow(K key, Policy policy, long now, long permits, Call<R> call,
      java.util.function.Predicate<R> admitted) {
    policy = current(policy);
    for (;;) {
      long removed = removals.get(stripe(key));
      Holder h = map.get(key);
      if (h != null) {
        if (!h.engine.serves(policy)) {
          Holder moved = engines.of(policy).moveFrom(h, now);
          if (moved == null) {
            settleDead(key, h);
            continue;
          }
          // decided while still private (nothing can retire or move it), then published
          R d = call.on(moved.engine, moved);
          publishMoved(key, h, moved);
          return d;
        }
        R d = call.on(h.engine, h);
        if (d != null) {
          return d;
        }
        settleDead(key, h);
        continue;
      }
      Engine engine = engines.of(policy);
      Holder fresh = engine.newHolder(floor(now));
      R d = call.on(engine, fresh);
      int placed = place(key, fresh, now, removed);
      if (placed == PLACED) {
        return d;
      }
      if (placed == NO_ROOM) {
        R o = overflow(policy, now, call);
        if (admitted.test(o)) {
          overflowAdmitted.addAndGet(permits);
        }
        return o;
      }
    }
  }

  /**
   * Publishes the holder {@code h} was moved to, in its place. The caller has already applied
   * its own call to {@code moved} while it was private: the conversion and that call are then
   * one atomic step for every other call on the key (they meet the moved sentinel and wait for
   * this replacement), so no other call sees the converted state without the converting call's
   * effect, and every call stays linearizable at its own reading. Nobody removes a moved holder
   * (only retired ones), so the replacement cannot miss.
   */
  private void publishMoved(K key, Holder h, Holder moved) {
    map.replace(key, h, moved);
  }

  /**
   * A holder an engine found dead: a retired one is removed (its key then gets a new bucket); a
   * moved one is left to the mover, which replaces it at once, and the caller looks again.
   */
  private void settleDead(K key, Holder h) {
    if (h.moved()) {
      Thread.onSpinWait();
    } else {
      unmap(key, h, false);
    }
  }

  /** The overflow bucket's call, moving it to {@code policy} first if needed. */
  private <R> R overflow(Policy policy, long now, Call<R> call) {
    policy = current(policy);
    for (;;) {
      Holder o = overflow;
      if (!o.engine.serves(policy)) {
        synchronized (this) {
          o = overflow;
          if (!o.engine.serves(policy)) {
            Holder moved = engines.of(policy).moveFrom(o, now);
            if (moved == null) {
              continue; // cannot happen: only this lock moves it, and it is never retired
            }
            overflow = moved;
            o = moved;
          }
        }
      }
      R d = call.on(o.engine, o);
      if (d != null) {
        return d;
      }
    }
  }

  /**
   * Gives {@code permits} back to {@code key}'s bucket at {@code now} ({@link Engine#refund}).
   * A key whose bucket is new since the take (the store dropped or evicted the old one) may
   * regain permits it did not give up: at most those permits, and only after an eviction.
   * A key without a bucket of its own is full already (its bucket was dropped full) or is
   * served by the overflow bucket, which is not refunded: nothing is given back then (never
   * more than was taken).
   *
   * <p>A bucket written under another policy is moved to {@code policy} first, then refunded
   * under it: the refund is in the units of the policy the caller names (each limit regains at
   * most its capacity).
   *
   * @param key the key
   * @param policy the key's policy now
   * @param now the ticker reading
   * @param permits at least 1
   * @param heldNanos at least the time since the permits were taken
   */
  public void refund(K key, Policy policy, long now, long permits, long heldNanos) {
    policy = current(policy);
    for (;;) {
      Holder h = map.get(key);
      if (h == null) {
        return;
      }
      if (!h.engine.serves(policy)) {
        Holder moved = engines.of(policy).moveFrom(h, now);
        if (moved == null) {
          settleDead(key, h);
          continue;
        }
        moved.engine.refund(moved, now, permits, heldNanos); // private: applied
        publishMoved(key, h, moved);
        return;
      }
      if (h.engine.refund(h, now, permits, heldNanos)) {
        return;
      }
      settleDead(key, h);
    }
  }

  /**
   * Whole permits {@code key} could take at {@code now}: its bucket's, or a new bucket's.
   *
   * @param key the key
   * @param policy the key's policy now (a bucket under another is moved to it first)
   * @param now the ticker reading
   * @return permits available
   */
  public long available(K key, Policy policy, long now) {
    policy = current(policy);
    for (;;) {
      Holder h = map.get(key);
      if (h == null) {
        Engine engine = engines.of(policy);
        return engine.available(engine.newHolder(floor(now)), now);
      }
      if (!h.engine.serves(policy)) {
        Holder moved = engines.of(policy).moveFrom(h, now);
        if (moved == null) {
          settleDead(key, h);
          continue;
        }
        long a = moved.engine.available(moved, now); // private: never -1
        publishMoved(key, h, moved);
        return a;
      }
      long a = h.engine.available(h, now);
      if (a >= 0) {
        return a;
      }
      settleDead(key, h);
    }
  }

  /**
   * Keys held, counting insertions in progress; never above {@code maxKeys}.
   *
   * @return keys held
   */
  public long size() {
    return slots.get();
  }

  /**
   * Buckets evicted under the cap before they were full, since creation.
   *
   * @return evictions
   */
  public long evictions() {
    return evictions.get();
  }

  /**
   * For tests: {@code c} is told the key of every eviction {@link #evictions()} counts, on the
   * evicting thread, under the table's insertion lock (so it must be quick); null stops it.
   *
   * @param c the consumer, or null
   */
  public void onEviction(java.util.function.Consumer<Object> c) {
    this.onEviction = c;
  }

  /**
   * Permits admitted by the shared overflow bucket (to keys the store could not place).
   *
   * @return permits
   */
  public long overflowAdmitted() {
    return overflowAdmitted.get();
  }

  /**
   * Drops every bucket that has been full for at least its policy's grace at {@code now} (or,
   * without grace, every full bucket), on the caller's thread, without holding the clean lock
   * while it runs (it iterates on its own); then restarts the shared cursor.
   *
   * @param now the ticker reading
   * @param withGrace whether a bucket must have been full for its grace ({@link Engine#graceNanos})
   * @param stop polled every 1,024 entries; true ends the pass early
   * @return buckets dropped
   */
  public long expireAll(long now, boolean withGrace, BooleanSupplier stop) {
    long dropped = 0;
    int seen = 0;
    for (K key : map.keySet()) {
      if ((++seen & 1023) == 0 && stop.getAsBoolean()) {
        break;
      }
      Holder h = map.get(key);
      if (h == null) {
        continue;
      }
      Engine engine = h.engine;
      long judged = withGrace ? now - engine.graceNanos : now;
      if (engine.evictionRank(h, judged) == 0) {
        noteRetirement(now);
        if (engine.retire(h, judged, 0) && unmap(key, h, false)) {
          dropped++;
        }
      }
    }
    if (cleanLock.tryLock()) {
      try {
        cursor = null; // a cursor mid-pass pins the table it started on (the old one, after a resize)
      } finally {
        cleanLock.unlock();
      }
    }
    return dropped;
  }

  /** Forgets every bucket (the store is closing). */
  public void clear() {
    cleanLock.lock();
    try {
      map.clear();
      slots.set(0);
      cursor = null;
      while (poolSize > 0) {
        removeFromPool(0);
      }
    } finally {
      cleanLock.unlock();
    }
  }

  /** Publishes a new key's private holder, whose first decision is already in it. */
  private int place(K key, Holder fresh, long now, long removed) {
    Runnable hook = beforePlace;
    if (hook != null) {
      hook.run();
    }
    if (fresh.engine.isFull(fresh, now)) {
      return PLACED; // refused and still full: a full bucket is no bucket, keep nothing
    }
    long[] state = fresh.engine.parts(fresh);
    boolean free = takeFreeSlot();
    if (!free && !makeRoom(now)) {
      return NO_ROOM;
    }
    if (map.putIfAbsent(key, fresh) != null) {
      slots.decrementAndGet();
      return RACED;
    }
    if (removals.get(stripe(key)) != removed && takeBack(fresh, state)) {
      // a bucket of this stripe was removed since the lookup: it may have been this key's, lived
      // and retired after the private decision; that decision is void, the caller decides again
      // (on a holder created no earlier than that retirement)
      unmap(key, fresh, false);
      return RACED;
    }
    if (free && cleanLock.tryLock()) {
      try {
        scan(SWEEP_PER_INSERT, now, false);
      } finally {
        cleanLock.unlock();
      }
    }
    return PLACED;
  }

  private boolean takeFreeSlot() {
    for (long c = slots.get(); c < maxKeys; c = slots.get()) {
      if (slots.compareAndSet(c, c + 1)) {
        return true;
      }
    }
    return false;
  }

  /**
   * At the cap: frees a slot for the caller by dropping a full bucket or evicting the evictable
   * one closest to full among those sampled. On success the caller owns one slot.
   */
  private boolean makeRoom(long now) {
    cleanLock.lock();
    try {
      for (int round = 0; round < ROUNDS; round++) {
        if (takeFreeSlot() || scan(SAMPLE, now, true) || evictFromPool(now)) {
          return true;
        }
      }
      return false;
    } finally {
      cleanLock.unlock();
    }
  }

  /**
   * Examines the cursor's next {@code n} entries: drops expired buckets (when {@code forSlot}, at
   * the cap: every full one, keeping the first slot so freed for the caller and returning true)
   * and offers the evictable ones to the pool. Caller holds the clean lock.
   */
  private boolean scan(int n, long now, boolean forSlot) {
    boolean kept = false;
    for (int i = 0; i < n; i++) {
      K key = next();
      if (key == null) {
        break;
      }
      Holder h = map.get(key);
      if (h == null) {
        continue;
      }
      Engine engine = h.engine;
      long judged = forSlot ? now : now - engine.graceNanos;
      long rank = engine.evictionRank(h, now);
      if (rank == 0 && (forSlot || engine.evictionRank(h, judged) == 0)) {
        noteRetirement(now);
        boolean keep = forSlot && !kept;
        if (engine.retire(h, judged, 0) && unmap(key, h, keep)) {
          kept |= keep;
        }
      } else if (rank > 0) {
        offer(key, h, rank);
      }
    }
    return kept;
  }

  /** Remembers an evictable bucket if the pool has room or holds a worse one. */
  private void offer(K key, Holder h, long rank) {
    int worst = -1;
    for (int i = 0; i < poolSize; i++) {
      if (poolHolders[i] == h) {
        poolRanks[i] = rank;
        return;
      }
      if (worst < 0 || poolRanks[i] > poolRanks[worst]) {
        worst = i;
      }
    }
    int at = poolSize < POOL ? poolSize++ : rank < poolRanks[worst] ? worst : -1;
    if (at >= 0) {
      poolKeys[at] = key;
      poolHolders[at] = h;
      poolRanks[at] = rank;
    }
  }

  /**
   * Evicts the pooled bucket closest to full now, skipping those that have since become
   * throttled or been retired; on success the caller owns the freed slot.
   */
  private boolean evictFromPool(long now) {
    while (poolSize > 0) {
      int best = -1;
      long bestRank = Long.MAX_VALUE;
      for (int i = 0; i < poolSize; ) {
        long rank = poolHolders[i].engine.evictionRank(poolHolders[i], now);
        if (rank < 0) {
          removeFromPool(i);
          continue;
        }
        poolRanks[i] = rank;
        if (rank < bestRank) {
          best = i;
          bestRank = rank;
        }
        i++;
      }
      if (best < 0) {
        return false;
      }
      @SuppressWarnings("unchecked")
      K key = (K) poolKeys[best];
      Holder victim = poolHolders[best];
      removeFromPool(best);
      noteRetirement(now);
      if (victim.engine.retire(victim, now, bestRank)) {
        if (bestRank > 0) {
          evictions.incrementAndGet();
          java.util.function.Consumer<Object> told = onEviction;
          if (told != null) {
            told.accept(key);
          }
        }
        if (unmap(key, victim, true)) {
          return true;
        }
      }
    }
    return false;
  }

  private void removeFromPool(int i) {
    int last = --poolSize;
    poolKeys[i] = poolKeys[last];
    poolHolders[i] = poolHolders[last];
    poolRanks[i] = poolRanks[last];
    poolKeys[last] = null;
    poolHolders[last] = null;
  }

  private K next() {
    Iterator<K> it = cursor;
    if (it == null || !it.hasNext()) {
      it = map.keySet().iterator();
      cursor = it;
      if (!it.hasNext()) {
        return null;
      }
    }
    return it.next();
  }

  /** Retires a just-published holder if nobody has decided on it (or moved it) yet. */
  private static boolean takeBack(Holder h, long[] state) {
    return h.engine.retire(h, state);
  }

  private static int stripe(Object key) {
    int h = key.hashCode();
    return (h ^ (h >>> 16)) & (REMOVAL_STRIPES - 1);
  }

  /** Removes {@code key} if still mapped to {@code h}; gives its slot back unless kept. */
  private boolean unmap(K key, Holder h, boolean keepSlot) {
    removals.incrementAndGet(stripe(key)); // before the removal: see removals
    if (map.remove(key, h)) {
      if (!keepSlot) {
        slots.decrementAndGet();
      }
      return true;
    }
    return false;
  }

  /** Raises {@link #retiredAt} to {@code now}; called before every retirement. */
  private void noteRetirement(long now) {
    for (long f = retiredAt.get(); now - f > 0; f = retiredAt.get()) {
      if (retiredAt.compareAndSet(f, now)) {
        return;
      }
    }
  }

  /** The reading a new bucket is created at: {@code now}, or later if a retirement saw later. */
  private long floor(long now) {
    long f = retiredAt.get();
    return f - now > 0 ? f : now;
  }
}
