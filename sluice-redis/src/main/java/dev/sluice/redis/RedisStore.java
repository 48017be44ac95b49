package dev.sluice.redis;

import dev.sluice.Decision;
import dev.sluice.Policy;
import dev.sluice.Reservation;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import dev.sluice.spi.StoreUnavailableException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Buckets in Redis (or Redis Cluster, or Valkey), shared by every node that uses the same
 * server and limiter name: "100 per minute" means 100 per minute across all of them.
 *
 * <pre>{@code
 * RateLimiter<String> limiter = RateLimiter.builder(Limit.perMinute(100))
 *     .name("api")
 *     .store(RedisStore.factory("redis://localhost:6379"))  // or redis-cluster://h1:7000,h2:7001
 *     .failureMode(FailureMode.LOCAL)
 *     .build();
 * }</pre>
 *
 * <h2>One script, one round trip, Redis's clock</h2>
 * Every decision is one run of one Lua script that applies the bucket function of the whole
 * policy (all limits, all-or-nothing) to one Redis key, with {@code redis.call('TIME')} as the
 * only clock: app nodes with skewed clocks share Redis's, and the limiter's {@link Ticker} is
 * not used. A decision costs one round trip, often less: on a standalone server a store keeps
 * at most two commands in flight, and calls that arrive meanwhile share the next
 * {@code EVALSHA} (up to 64 keys; the script decides them in arrival order, each atomically),
 * so under load Redis runs one command for many decisions. A Cluster store sends every call
 * alone (keys of different slots cannot share a script).
 *
 * <p>The arithmetic is exact (see {@code BucketMath}); waits are reported in whole
 * microseconds, rounded up, the grain of Redis's clock. A refusal writes nothing; an admission
 * (or a {@link #refund}, which runs in the same script) writes the bucket with {@code PEXPIRE} =
 * time until full, so a full bucket is no key. If Redis answers {@code NOSCRIPT} (after
 * {@code SCRIPT FLUSH}, a restart or a failover) the script is sent once more with {@code EVAL},
 * which loads and runs it in the same command: a {@code NOSCRIPT} reply means nothing ran, so
 * nothing is counted twice; no other failure is ever retried.
 *
 * <h2>Keys</h2>
 * One key per bucket and policy, {@code {<namespace>:<limiter name>:<h>}:<p>}, where {@code h}
 * is the SHA-256 of the key's bytes (43 characters of unpadded base64url) and {@code p} a
 * fingerprint of the policy (11 characters). The part in braces is the hash tag, so a key's
 * buckets sit in one Cluster slot, and a key of any size or content (binary, {@code {}}, a
 * megabyte) cannot escape its namespace or choose its slot. A key's bytes are its
 * UTF-8 {@code toString()}, or the array itself for a {@code byte[]}; keys equal by
 * {@code equals} must have equal bytes (true of strings and numbers).
 *
 * <h2>Policies</h2>
 * The policy travels with each call (plans, {@link dev.sluice.RateLimiter#updatePolicy}); the
 * store decides each call under it, with a bucket of its own per policy: two policies never read
 * each other's state (a bucket of one limit is never read as one of two), so the nodes of a
 * rolling deploy that run two versions of a policy under one limiter name both keep working,
 * each within its own bound; for that time a key may get both (one per version). A store serves
 * at most {@value #MAX_POLICIES} distinct policies.
 *
 * <h2>Deadlines and failures</h2>
 * Every call has a deadline (default {@value #DEFAULT_DEADLINE_MILLIS} ms, covering a
 * {@code NOSCRIPT} retry too). When Redis fails, is unreachable or misses the deadline, the call
 * throws (or its future completes with) {@link StoreUnavailableException}, and the
 * {@link dev.sluice.RateLimiter} follows its {@link dev.sluice.FailureMode}. A command that
 * missed its deadline is cancelled, but it may already have run in Redis: its permits may then
 * be taken there (once, never twice) although the caller got the failure mode's answer. A
 * circuit breaker opens after consecutive failures (default 5) and then fails calls at once,
 * without touching Redis, for a cool-down (default 250 ms), then lets one probe through.
 *
 * <h2>Deny cache</h2>
 * A refusal with {@code retryAfter = w} means no request of the same or a larger size can
 * succeed before {@code w} has passed, on any node; with the deny cache on (the default) this
 * node answers such requests itself until then, with no round trip, and never refuses what
 * Redis would have admitted (see {@code DenyCache} for the clock margin). A {@link #refund}
 * through this store makes it forget the key; a refund through another node is not seen here,
 * so until the cached wait ends this node may refuse what the refunded bucket could serve:
 * stricter than Redis, never looser.
 *
 * <h2>Leasing hot keys (opt-in)</h2>
 * With {@link Factory#leasing(Duration)}, a key that is hot on this node (8 decisions within a
 * lease life) takes a lease of permits in one of its round trips, and the next decisions are
 * served from it here, with no round trip ({@link Decision.Source#LEASE}; {@code remaining} is
 * the permits left in the lease), until the node's conservative expiry ({@code sent + life - 2 µs
 * - life/1000}); what is left is given back in the key's next round trip, by a timer for a quiet
 * key, or on {@link #close()}. The rule that keeps it exact, in the same script as decisions: a
 * lease of {@code k} is a take of {@code k} plus a record (id, {@code k}, expiry by Redis's
 * clock) kept after the bucket in its own key; with {@code H} the permits of unexpired records,
 * the refill stops at {@code C - H}, a record is dropped at its expiry after clamping the bucket
 * there under the capacity it had until then (its unused permits are forgotten), and a give-back
 * clamps at now, drops the record and returns the unused permits. So available + held
 * {@code <= C} at every instant, permits enter only as refill at the rate, and any window by
 * Redis's clock admits at most {@code C + W * rate} across all nodes, as without leasing. A lease
 * is at most a fair share of what the bucket held ({@code remaining / liveNodes()}); a node that
 * dies loses its lease until it expires by Redis's clock. A policy change carries the leases into
 * the new bucket. See {@code Leases} and {@code docs/guarantees.md} §16.
 *
 * <h2>Requirements</h2>
 * Redis 5 or later (or Valkey): the script reads {@code TIME} before it writes, which needs
 * effects replication, the default since Redis 5. A standalone server (with its replicas) and
 * Cluster are supported; with Cluster, give the factory a {@code redis-cluster://} URI or a
 * {@link RedisClusterClient}.
 *
 * <h2>Range</h2>
 * Every {@link dev.sluice.Limit} is exact here, with one extra bound: the time to fill an empty
 * bucket must be below 2<sup>52</sup> µs (about 142 years; the core allows 146), so that the
 * script's numbers stay below 2<sup>53</sup>, where Lua's doubles are exact. Rates above
 * 10<sup>6</sup> per second are exact too (the state keeps fractions of a microsecond), but
 * Redis's clock advances by whole microseconds, so they are granted in steps of one
 * microsecond's worth of permits.
 *
 * @param <K> the key type
 */
public final class RedisStore<K> implements RateStore<K> {

  /** The default deadline of a call, in milliseconds. */
  public static final long DEFAULT_DEADLINE_MILLIS = 50;

  /** The most distinct policies one store decides under. */
  public static final int MAX_POLICIES = 64;

  /** The default namespace, the first part of every key. */
  public static final String DEFAULT_NAMESPACE = "sluice";

  private final String name;
  /** The lane of the policy the store was created with: the common case, found by identity. */
  private final Lane<K> first;
  /** Every policy's lane, the first's included. */
  private final ConcurrentHashMap<Policy, Lane<K>> lanes = new ConcurrentHashMap<>();
  /** The lanes in the order they were made; guarded by {@code lanes}. */
  private final List<Lane<K>> order = new ArrayList<>();
  /** Added to a refund's time held: the most it can take to reach Redis's clock. */
  private final long refundMarginNanos;
  private final Connector connector;
  private final Options options;
  private final Clocks clocks;
  private final Calls calls;
  private final CircuitBreaker breaker;
  private final LongSupplier cacheClock;
  private final Ticker ticker;
  final Stats stats = new Stats();
  /** This node's heartbeat: the live node count of {@link #liveNodes()}. */
  final Heartbeat heartbeat;
  final StateWatch watch;

  private RedisStore(String name, Policy policy, Connector connector, Options o, Ticker ticker) {
    this.name = name;
    this.connector = connector;
    this.options = o;
    this.ticker = ticker;
    this.clocks = o.clocks().apply(ticker);
    this.cacheClock = clocks.cacheNanos();
    // with a caller-side script clock (tests), the script's now is read when the call is made
    this.refundMarginNanos = clocks.scriptMicros() == null ? o.deadline().toNanos() : 0;
    this.watch = new StateWatch(name, o.namespace(), connector, stats);
    this.breaker = new CircuitBreaker(o.breakerFailures(), o.breakerOpen().toNanos());
    this.calls = new Calls(name, connector, o.deadline().toNanos(), breaker, stats, watch);
    this.heartbeat = new Heartbeat(connector, o.namespace(), name);
    this.first = newLane(policy);
    lanes.put(policy, first);
    order.add(first);
  }

  private Lane<K> newLane(Policy policy) {
    BucketMath math = new BucketMath(policy);
    Lane<K> lane = new Lane<>(policy, math, new RedisKeys(options.namespace(), name, policy),
        options.denyCache() ? new DenyCache<>(math, math.minCapacity(), cacheClock.getAsLong())
            : null,
        new Batcher(math, clocks, connector, stats, watch));
    if (options.leaseLife() != null) {
      lane.leases = new Leases<>(policy, math.minCapacity(), options.leaseLife().toNanos(),
          options.deadline().toNanos(),
          (key, id, unused, io) -> giveBack(lane, key, id, unused, io),
          connector::deadlines, stats, cacheClock.getAsLong());
    }
    return lane;
  }

  /**
   * Sends a lease back to Redis with its unused permits, asynchronously: from here, or, from an
   * I/O thread (which must not write commands), from the connector's sender thread. Best effort:
   * a give-back that fails leaves the lease to expire by Redis's clock, its permits unused.
   */
  private void giveBack(Lane<K> lane, K key, long id, long unused, boolean ioThread) {
    Runnable send = () -> {
      try {
        // to the bucket the lease is in now: its policy's, or its replacement's (a conversion
        // carries the leases over), never moving the state back
        Lane<K> to = lane(lane.policy);
        calls.start(to, key, to.math.giveBack(id, unused), true, (reply, sentAt) -> null);
      } catch (StoreUnavailableException e) {
        // the lease expires by itself
      }
    };
    Executor sender = ioThread ? connector.sender() : null;
    if (sender != null) {
      try {
        sender.execute(send);
        return;
      } catch (RejectedExecutionException e) {
        // shutting down: send (and fail) it here
      }
    }
    send.run();
  }

  /**
   * The lane a call carrying {@code policy} is decided in: that policy's (made on its first
   * call), or, if it was replaced ({@link #policyReplaced}), its replacement's.
   */
  private Lane<K> lane(Policy policy) {
    Lane<K> lane = first;
    if (policy != lane.policy) {
      lane = laneOf(policy);
    }
    Lane<K> next = lane.replacedBy;
    for (int i = 0; next != null && i < MAX_POLICIES; i++) {
      lane = next;
      next = lane.replacedBy;
    }
    return lane;
  }

  /**
   * No key is decided under {@code replaced} any more: a call still carrying it is decided
   * under {@code replacement}, so no key's state moves back to it (which would restart a limit
   * the older policy lacks).
   */
  @Override
  public void policyReplaced(Policy replaced, Policy replacement) {
    Objects.requireNonNull(replaced, "replaced");
    Objects.requireNonNull(replacement, "replacement");
    synchronized (lanes) {
      Lane<K> to = laneOf(replacement);
      to.replacedBy = null;
      Lane<K> from = laneOf(replaced);
      if (from != to) {
        from.replacedBy = to;
        // its leases are served no more (calls go to the replacement): give them back
        if (from.leases != null) {
          from.leases.giveAllBack();
        }
      }
    }
  }

  /** The lane of {@code policy}, made on its first call. */
  private Lane<K> laneOf(Policy policy) {
    Lane<K> lane;
    Objects.requireNonNull(policy, "policy");
    lane = lanes.get(policy);
    if (lane != null) {
      return lane;
    }
    synchronized (lanes) {
      lane = lanes.get(policy);
      if (lane == null) {
        if (lanes.size() >= MAX_POLICIES) {
          throw new IllegalStateException("the Redis store " + name + " decides under at most "
              + MAX_POLICIES + " distinct policies (" + MAX_POLICIES + " already): " + policy
              + " would be one more");
        }
        lane = newLane(policy);
        // the new policy looks in the others' buckets for a key's state, and they in its
        List<Lane<?>> mine = new ArrayList<>();
        for (int i = order.size() - 1; i >= 0 && mine.size() < Lane.MAX_OTHERS; i--) {
          Lane<K> other = order.get(i);
          mine.add(other);
          Lane<?>[] theirs = new Lane<?>[Math.min(Lane.MAX_OTHERS, other.others.length + 1)];
          theirs[0] = lane;
          System.arraycopy(other.others, 0, theirs, 1, theirs.length - 1);
          other.others = theirs;
          // a change: no refusal remembered under the policies before it is answered again
          if (other.denyCache != null) {
            other.denyCache.clear();
          }
        }
        lane.others = mine.toArray(new Lane<?>[0]);
        order.add(lane);
        lanes.put(policy, lane);
      }
      return lane;
    }
  }

  /**
   * A factory that makes (and owns) its own Lettuce client from a URI: {@code redis://host:port},
   * {@code rediss://…} (TLS) or {@code redis-socket://…} for one server, or
   * {@code redis-cluster://host:port[,host:port…]} ({@code rediss-cluster://} for TLS) for a
   * Cluster given by one or more seed nodes. Credentials and a database go in the URI as Lettuce
   * reads them ({@code redis://:password@host:6379/0}). The client, with
   * {@link #clientOptions()}, is made when the first store is created and shut down when the
   * last store is closed, or when the factory is.
   *
   * @param uri the Redis URI
   * @return a factory with default options
   * @throws IllegalArgumentException if the URI cannot be parsed
   */
  public static Factory factory(String uri) {
    return new Factory(Connector.of(Objects.requireNonNull(uri, "uri")), Options.DEFAULT);
  }

  /**
   * A factory over a client you own: it opens its own connection on it (closed with the last
   * store) and never shuts the client down. Configure the client with {@link #clientOptions()}
   * so that Lettuce never replays a command after a reconnect.
   *
   * @param client a standalone client
   * @return a factory with default options
   */
  public static Factory factory(RedisClient client) {
    return new Factory(Connector.of(Objects.requireNonNull(client, "client")), Options.DEFAULT);
  }

  /**
   * A factory over a Cluster client you own; see {@link #factory(RedisClient)}, and configure it
   * with {@link #clusterClientOptions()}.
   *
   * @param client a Cluster client
   * @return a factory with default options
   */
  public static Factory factory(RedisClusterClient client) {
    return new Factory(Connector.of(Objects.requireNonNull(client, "client")), Options.DEFAULT);
  }

  /**
   * The client options Sluice uses for the clients it makes, and recommends for yours: reconnect
   * automatically but never replay a command after a reconnect (it may have run), reject
   * commands while disconnected instead of queueing them, a bounded request queue, a one-second
   * connect timeout.
   *
   * @return the options
   */
  public static ClientOptions clientOptions() {
    return Connector.clientOptions();
  }

  /**
   * {@link #clientOptions()} for a Cluster client, plus topology refresh on redirects and
   * reconnects and every 30 s.
   *
   * @return the options
   */
  public static ClusterClientOptions clusterClientOptions() {
    return Connector.clusterClientOptions();
  }

  @Override
  public Decision decide(K key, Policy policy, long permits) {
    Lane<K> lane = lane(policy);
    Decision cached = cached(lane, key, permits);
    if (cached != null) {
      return cached;
    }
    Leases.Plan plan = plan(lane, key, permits);
    return calls.start(lane, key, args(lane, permits, plan), false, take(lane, key, permits, plan))
        .await();
  }

  /** The lease op for {@code plan}, or a plain take. */
  private static byte[][] args(Lane<?> lane, long permits, Leases.Plan plan) {
    return plan == null ? lane.math.take(permits) : lane.math.lease(permits, plan.leaseId(),
        plan.k(), lane.leases.lifeMicros, plan.returnId(), plan.unused());
  }

  /** With leasing, what the round trip of a take carries (see {@link Leases#plan}), else null. */
  private Leases.Plan plan(Lane<K> lane, K key, long permits) {
    return lane.leases == null ? null
        : lane.leases.plan(key, permits, cacheClock.getAsLong(), heartbeat.nodes());
  }

  @Override
  public boolean tryAcquire(K key, Policy policy, long permits) {
    return decide(key, policy, permits).allowed();
  }

  /**
   * The asynchronous form of {@link #decide}: completes on a Lettuce I/O thread when Redis
   * answers, or with {@link StoreUnavailableException} when it fails or misses the deadline. Does
   * not block; a refusal in the deny cache, an open circuit breaker or a closed store complete
   * it at once.
   *
   * @param key the key, not null
   * @param permits at least 1
   * @return the decision, later
   */
  @Override
  public CompletionStage<Decision> decideAsync(K key, Policy policy, long permits) {
    Lane<K> lane = lane(policy);
    Decision cached = cached(lane, key, permits);
    if (cached != null) {
      return CompletableFuture.completedFuture(cached);
    }
    Leases.Plan plan = plan(lane, key, permits);
    try {
      return calls.start(lane, key, args(lane, permits, plan), true,
          take(lane, key, permits, plan)).result;
    } catch (StoreUnavailableException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Whole permits {@code key} could take now, read from Redis in one round trip, taking none.
   * With leasing, the permits held by nodes' leases are not counted (they are not in Redis).
   *
   * @param key the key, not null
   * @return permits available
   * @throws StoreUnavailableException if Redis fails or misses the deadline
   */
  @Override
  public long availablePermits(K key, Policy policy) {
    Lane<K> lane = lane(policy);
    Objects.requireNonNull(key, "key");
    return calls.start(lane, key, lane.math.look(), false,
        (reply, sentAt) -> lane.math.available(reply)).await();
  }

  /**
   * Gives back {@code permits} that a request took from {@code key}'s bucket at most
   * {@code heldNanos} ago, in one round trip by Redis's clock, in the same script as decisions:
   * each limit's empty instant moves back by the time to earn them less the time they were held,
   * but no earlier than full ({@code emptyAt' = max(emptyAt - max(0, n*T - held), now - C*T)}),
   * fractional rates included. The time held is measured on the caller's clock; this store adds
   * its deadline to it (the most the refund can take to reach Redis) and rounds up to the
   * microsecond, so Redis never gives back refill its bucket kept while the permits were out.
   * The key's expiry becomes its new time until full (a bucket refunded to full is no key). A
   * key that Redis does not hold is full already: nothing changes. This node's deny cache forgets
   * the key (a refusal it remembered may no longer hold); other nodes' caches may still refuse it
   * until their cached waits end, stricter than Redis, never looser.
   *
   * @param key the key, not null
   * @param permits at least 1; a limit regains at most its capacity
   * @param heldNanos at least the time since the permits were taken, 0 or more
   * @throws StoreUnavailableException if Redis fails or misses the deadline (nothing was given
   *     back, or, past the deadline, it may have been given back, once)
   */
  @Override
  public void refund(K key, Policy policy, long permits, long heldNanos) {
    startRefund(key, policy, permits, heldNanos, false).await();
  }

  /**
   * The asynchronous form of {@link #refund}, the same script: completes on a Lettuce I/O thread
   * when Redis answers, or with {@link StoreUnavailableException} when it fails or misses the
   * deadline. Does not block.
   *
   * @param key the key, not null
   * @param policy the key's policy, not null
   * @param permits at least 1; a limit regains at most its capacity
   * @param heldNanos at least the time since the permits were taken, 0 or more
   * @return completed when Redis has applied it
   */
  @Override
  public CompletionStage<Void> refundAsync(K key, Policy policy, long permits, long heldNanos) {
    try {
      return startRefund(key, policy, permits, heldNanos, true).result.thenApply(r -> null);
    } catch (StoreUnavailableException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private Call<KeyReply> startRefund(K key, Policy policy, long permits, long heldNanos,
      boolean async) {
    Lane<K> lane = lane(policy);
    Objects.requireNonNull(key, "key");
    if (permits < 1) {
      throw new IllegalArgumentException("permits (" + permits + ") must be at least 1");
    }
    if (heldNanos < 0) {
      throw new IllegalArgumentException("heldNanos (" + heldNanos + ") must be at least 0");
    }
    long held = heldNanos > Long.MAX_VALUE - refundMarginNanos ? Long.MAX_VALUE
        : heldNanos + refundMarginNanos;
    byte[][] args = lane.math.refund(permits, held / 1000 + (held % 1000 == 0 ? 0 : 1));
    return calls.start(lane, key, args, async, new Call.Outcome<KeyReply>() {
      @Override
      public KeyReply of(KeyReply reply, long sentAt) {
        forget(lane, key);
        return reply;
      }

      @Override
      public void failed() {
        forget(lane, key);
      }
    });
  }

  /**
   * Reserves {@code permits} on {@code key}'s bucket if Redis's clock says they are due within
   * {@code maxWaitNanos}, in one round trip, by the rule of {@code RateStore#reserve}: the due
   * instant is {@code D = max(now, base + n*T)} over the limits (rounded up to Redis's
   * microsecond), and each limit is charged as if taken at {@code D}. So every node sharing the
   * bucket waits its turn: the reservations of a fleet are due in the order Redis made them. The
   * reservation's due reading is this node's reading when the reply arrived plus the wait (never
   * early). {@link Reservation#cancel()} gives the permits back, in one more round trip, only
   * while the reservation is not due and its write is still the bucket's latest (else nothing).
   * The deny cache is not consulted: it never refuses what could be served within the wait.
   *
   * @param key the key, not null
   * @param policy the key's policy, not null
   * @param permits at least 1
   * @param maxWaitNanos from 0 to 2<sup>61</sup>
   * @return the reservation
   * @throws StoreUnavailableException if Redis fails or misses the deadline (a reservation past
   *     the deadline may have been made, once; it is then simply never used)
   */
  @Override
  public Reservation reserve(K key, Policy policy, long permits, long maxWaitNanos) {
    Lane<K> lane = lane(policy);
    Objects.requireNonNull(key, "key");
    if (permits < 1) {
      throw new IllegalArgumentException("permits (" + permits + ") must be at least 1");
    }
    if (maxWaitNanos < 0 || maxWaitNanos > MAX_WAIT_NANOS) {
      throw new IllegalArgumentException("maxWaitNanos (" + maxWaitNanos + ") must be from 0 to "
          + MAX_WAIT_NANOS);
    }
    if (permits > lane.math.minCapacity()) {
      return Reservation.neverForStore(permits, ticker.read(), ticker);
    }
    KeyReply r = calls.start(lane, key, lane.math.reserve(permits, maxWaitNanos / 1000), false,
        (reply, sentAt) -> reply).await();
    long now = ticker.read();
    long due = now + r.waitMicros() * 1000;
    if (r.reservation() != KeyReply.RESERVED) {
      return Reservation.ofStore(false, permits, now, due, ticker, null);
    }
    byte[] raw = r.raw();
    int n = r.split();
    byte[] wrote = Arrays.copyOfRange(raw, 0, n);
    byte[] before = Arrays.copyOfRange(raw, n, raw.length);
    long dueMicros = r.now() + r.waitMicros();
    return Reservation.ofStore(true, permits, now, due, ticker, at -> {
      try {
        boolean back = calls.start(lane, key, lane.math.cancel(wrote, before, dueMicros), false,
            (reply, sentAt) -> reply.applied()).await();
        if (back) {
          forget(lane, key);
        }
        return back;
      } catch (StoreUnavailableException e) {
        return false;
      }
    });
  }

  /** The longest wait a reservation may accept: 2<sup>61</sup> ns, about 73 years. */
  static final long MAX_WAIT_NANOS = 1L << 61;

  /**
   * Unknown for Redis (counting keys would cost a scan of the server).
   *
   * @return -1
   */
  @Override
  public long size() {
    return -1;
  }

  /**
   * Stops taking calls (later ones throw {@link StoreUnavailableException}), waits up to the
   * deadline for the calls in flight, and releases the factory's connection if this was its last
   * store. Idempotent.
   */
  @Override
  public void close() {
    for (Lane<K> lane : lanes.values()) {
      if (lane.leases != null) {
        lane.leases.giveAllBack();
      }
    }
    if (!calls.close()) {
      return;
    }
    for (Lane<K> lane : lanes.values()) {
      if (lane.denyCache != null) {
        lane.denyCache.clear();
      }
    }
    heartbeat.leave();
    connector.release();
  }

  /**
   * The stores of this namespace and limiter name, in any process, that made a decision in the
   * last {@value Heartbeat#TTL_MILLIS} ms by Redis's clock, as Redis last counted them (this one
   * included; 1 until the first count). Counted by one script every few seconds at most,
   * piggy-backed on decisions (see {@code Heartbeat}): while Redis is unreachable, the count it
   * gave last. The limiter's {@code LOCAL} fallback enforces {@code 1/N} of the policy.
   *
   * @return the live nodes, at least 1
   */
  @Override
  public long liveNodes() {
    return heartbeat.nodes();
  }

  /**
   * Times this store found that Redis had lost its namespace's data: the marker key
   * {@code {<namespace>}:epoch} gone or rewritten since its last check (a restart without
   * persistence, {@code FLUSHALL}, {@code FLUSHDB}, a failover to a replica without the data).
   * Each loss is also logged once as a {@code WARNING}. Checked asynchronously, after a
   * {@code NOSCRIPT} reply and at most once a second while the store takes calls, never in a
   * decision's round trip. One deleted bucket cannot be told from one that expired full and is
   * not counted; on a Cluster only the marker's node is watched.
   *
   * @return state losses noticed since the store was created
   */
  @Override
  public long stateLosses() {
    return stats.stateLost.get();
  }

  /**
   * The state of this store's circuit breaker now (each store has its own; see
   * {@link Factory#circuitBreaker}), for health checks and dashboards.
   *
   * @return {@link BreakerState#CLOSED} while calls go to Redis, {@link BreakerState#OPEN} while
   *     they fail at once without touching it (it stays open past its time until a call takes
   *     the probe), {@link BreakerState#HALF_OPEN} while that one probe call is with Redis
   */
  public BreakerState breakerState() {
    return breaker.state();
  }

  /** The states of a store's circuit breaker ({@link #breakerState()}). */
  public enum BreakerState {
    /** Calls go to Redis. */
    CLOSED,
    /** Calls fail at once, without touching Redis. */
    OPEN,
    /** One call probes Redis; the others fail at once. Its success closes the breaker. */
    HALF_OPEN
  }

  @Override
  public String toString() {
    return "RedisStore[" + name + " on " + connector + "]";
  }

  // The store's first policy, for this package's tests.
  Decision decide(K key, long permits) {
    return decide(key, first.policy, permits);
  }

  boolean tryAcquire(K key, long permits) {
    return tryAcquire(key, first.policy, permits);
  }

  CompletionStage<Decision> decideAsync(K key, long permits) {
    return decideAsync(key, first.policy, permits);
  }

  long availablePermits(K key) {
    return availablePermits(key, first.policy);
  }

  void refund(K key, long permits, long heldNanos) {
    refund(key, first.policy, permits, heldNanos);
  }

  /**
   * In one run of the script, by its clock: the permits available in Redis for {@code key} and
   * the permits held by its unexpired leases (every node's).
   */
  long[] availableAndHeld(K key) {
    return availableAndHeld(key, first.policy);
  }

  long[] availableAndHeld(K key, Policy policy) {
    Lane<K> lane = lane(policy);
    return calls.start(lane, key, lane.math.look(), false,
        (reply, sentAt) -> new long[] {lane.math.available(reply), reply.held()}).await();
  }

  /** The permits left in this node's lease of {@code key} (0 if none). */
  long leaseLeft(K key) {
    return first.leases == null ? 0 : first.leases.left(key);
  }

  /** The Redis key of {@code key}'s bucket. */
  byte[] redisKey(K key) {
    return first.keys.of(key);
  }

  /** The Redis key of {@code key}'s bucket under {@code policy}. */
  byte[] redisKey(K key, Policy policy) {
    return lane(policy).keys.of(key);
  }

  private static <K> void forget(Lane<K> lane, K key) {
    if (lane.denyCache != null) {
      lane.denyCache.forget(key);
    }
  }

  /**
   * Checks the arguments of a take; an admission from this node's lease of the key if it has one
   * that serves it, else the deny cache's refusal if it holds one, else null.
   */
  private Decision cached(Lane<K> lane, K key, long permits) {
    Objects.requireNonNull(key, "key");
    if (permits < 1) {
      throw new IllegalArgumentException("permits (" + permits + ") must be at least 1");
    }
    heartbeat.maybeBeat();
    if (lane.leases != null) {
      Decision leased = lane.leases.serve(key, permits, cacheClock.getAsLong());
      if (leased != null) {
        return leased;
      }
    }
    Decision cached = lane.denyCache == null ? null
        : lane.denyCache.lookup(key, permits, cacheClock.getAsLong());
    if (cached != null) {
      stats.cacheHits.incrementAndGet();
    }
    return cached;
  }

  /**
   * A take's decision from the script's reply, remembered by the deny cache before the caller
   * sees it (its next request must find it; a refusal that came after the deadline is still
   * true). An admission changed the bucket, so a refusal remembered for a larger request would
   * now report stale counts: it is forgotten.
   */
  private Call.Outcome<Decision> take(Lane<K> lane, K key, long permits, Leases.Plan plan) {
    DenyCache<K> denyCache = lane.denyCache;
    Leases<K> leases = lane.leases;
    return new Call.Outcome<Decision>() {
      @Override
      public Decision of(KeyReply reply, long sentAt) {
        Decision d = lane.math.decide(reply, permits);
        if (denyCache != null) {
          if (d.allowed()) {
            denyCache.forget(key);
          } else {
            denyCache.remember(key, permits, d, reply, sentAt, cacheClock.getAsLong());
          }
        }
        if (leases != null) {
          leases.answered(key, plan, reply, d, sentAt);
        }
        return d;
      }

      @Override
      public void failed() {
        if (leases != null) {
          leases.failed(key, plan);
        }
      }
    };
  }

  /**
   * Creates {@link RedisStore}s: the connection (or the client, when made from a URI) and the
   * options shared by every store it creates. Options return a new factory sharing the same
   * connection; a factory is immutable and thread-safe.
   */
  public static final class Factory implements RateStoreFactory, AutoCloseable {

    private final Connector connector;
    private final Options options;

    private Factory(Connector connector, Options options) {
      this.connector = connector;
      this.options = options;
    }

    /**
     * The longest a call may take, from the call to its answer, including a {@code NOSCRIPT}
     * reload (default {@value RedisStore#DEFAULT_DEADLINE_MILLIS} ms). Past it the call fails
     * with {@link StoreUnavailableException}.
     *
     * @param deadline between 1 ms and 60 s
     * @return a new factory
     */
    public Factory deadline(Duration deadline) {
      return new Factory(connector, options.withDeadline(deadline));
    }

    /**
     * The first part of every key (default {@value RedisStore#DEFAULT_NAMESPACE}), to keep
     * applications apart on a shared server.
     *
     * @param namespace 1 to 64 characters from {@code [A-Za-z0-9._:-]}
     * @return a new factory
     */
    public Factory namespace(String namespace) {
      return new Factory(connector, options.withNamespace(namespace));
    }

    /**
     * The circuit breaker: after {@code failures} consecutive failed calls, calls fail at once
     * for {@code openFor}, then one probe goes to Redis (default 5 and 250 ms).
     *
     * @param failures 1 to 1,000
     * @param openFor 1 ms to 10 minutes
     * @return a new factory
     */
    public Factory circuitBreaker(int failures, Duration openFor) {
      return new Factory(connector, options.withCircuitBreaker(failures, openFor));
    }

    /**
     * Whether refusals are remembered on this node until their {@code retryAfter} has passed and
     * answered without a round trip (default true). Exact: such a request cannot succeed on any
     * node before then.
     *
     * @param enabled true to cache refusals
     * @return a new factory
     */
    public Factory denyCache(boolean enabled) {
      return new Factory(connector, options.withDenyCache(enabled));
    }

    /**
     * Leases permits of hot keys to this node (off by default): a key with many decisions here
     * takes a batch of permits from its Redis bucket in one of its round trips and serves the
     * next requests from it, with no round trip, for at most {@code life}; what is left is given
     * back. Exact across nodes: Redis counts the permits held by unexpired leases against the
     * capacity, and refills only up to what they leave, so any window admits at most
     * {@code C + W * rate} as without leasing. Decisions served from a lease say
     * {@link Decision.Source#LEASE}. What it costs: a node's lease is permits other nodes cannot
     * take until it is used, given back or expires (a lease is at most a fair share of what the
     * bucket held, {@code remaining / liveNodes()}), and a lease of a node that dies is lost
     * until it expires by Redis's clock. Every store that decides the same limiter must run
     * this version of the script (one that knows leases); with or without leasing on itself.
     * See {@code Leases} and {@code docs/guarantees.md}.
     *
     * @param life how long a lease lives by Redis's clock, from 10 ms to 1 minute
     * @return a new factory
     */
    public Factory leasing(Duration life) {
      return new Factory(connector, options.withLeasing(life));
    }

    /**
     * The clocks of each store this factory creates, from the ticker it is created with, instead
     * of Redis's (see {@link Clocks}). Not public: for tests in this package, which run exact
     * timelines on a caller's clock.
     */
    Factory clocks(Function<Ticker, Clocks> clocks) {
      return new Factory(connector, options.withClocks(clocks));
    }

    /**
     * Creates the store of one limiter. Its buckets are shared with every store of the same
     * namespace and name on the same Redis, in this process or another. Opens the factory's
     * connection if this is its first store (waiting up to two seconds for it; if Redis cannot
     * be reached, the store is created anyway, fails its calls and keeps trying to connect).
     *
     * @param <T> the key type
     * @param name the limiter's name, 1 to 64 characters from {@code [A-Za-z0-9._-]}
     * @param policy the limits
     * @param ticker not used: the script reads Redis's clock
     * @return a new store
     * @throws IllegalArgumentException if the name is invalid or a limit is out of the Redis
     *     range (the message names the bound)
     */
    @Override
    public <T> RedisStore<T> create(String name, Policy policy, Ticker ticker) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(policy, "policy");
      RedisKeys.checkName(name);
      Objects.requireNonNull(ticker, "ticker");
      RedisStore<T> store = new RedisStore<>(name, policy, connector, options, ticker);
      connector.acquire();
      store.heartbeat.maybeBeat();
      return store;
    }

    /**
     * Closes the connection, and the client if the factory made it, at once: calls of the stores
     * still open fail with {@link StoreUnavailableException}. Idempotent.
     */
    @Override
    public void close() {
      connector.close();
    }

    @Override
    public String toString() {
      return "RedisStore.Factory[" + connector + ", " + options + "]";
    }
  }
}
