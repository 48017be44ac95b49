package dev.sluice.redis;

import dev.sluice.Decision;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import dev.sluice.spi.StoreUnavailableException;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

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
 * microseconds, rounded up, the grain of Redis's clock. A refusal writes
 * nothing; an admission writes the bucket with {@code PEXPIRE} = time until full, so a full
 * bucket is no key. If Redis answers {@code NOSCRIPT} (after {@code SCRIPT FLUSH}, a restart or
 * a failover) the script is sent once more with {@code EVAL}, which loads and runs it in the
 * same command: a {@code NOSCRIPT} reply means nothing ran, so nothing is counted twice; no
 * other failure is ever retried.
 *
 * <h2>Keys</h2>
 * One key per bucket, {@code {<namespace>:<limiter name>:<h>}}, where {@code h} is the
 * SHA-256 of the key's bytes in unpadded base64url (43 characters). The whole key is the hash
 * tag, so a bucket sits in one Cluster slot, and a key of any size or content (binary,
 * {@code {}}, a megabyte) cannot escape its namespace or choose its slot. A key's bytes are its
 * UTF-8 {@code toString()}, or the array itself for a {@code byte[]}; keys equal by
 * {@code equals} must have equal bytes (true of strings and numbers).
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
 * Redis would have admitted (see {@code DenyCache} for the clock margin).
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

  /** The default namespace, the first part of every key. */
  public static final String DEFAULT_NAMESPACE = "sluice";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern NAMESPACE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
  private static final Duration MIN_DEADLINE = Duration.ofMillis(1);
  private static final Duration MAX_DEADLINE = Duration.ofSeconds(60);
  /** Commands of one store in flight at once (standalone); calls beyond wait to share one. */
  static final int MAX_COMMANDS = 2;
  /** The most calls one command carries. */
  static final int MAX_BATCH = 64;

  static final String SCRIPT = loadScript();
  static final byte[] SCRIPT_BYTES = SCRIPT.getBytes(StandardCharsets.UTF_8);
  static final String SHA = sha1Hex(SCRIPT_BYTES);

  /** Marks a factory whose stores use their ticker as the script's clock (tests only). */
  private static final java.util.function.LongSupplier TICKER_CLOCK = () -> 0;

  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });

  private final String name;
  private final byte[] keyPrefix;
  private final BucketMath math;
  private final Connector connector;
  private final long deadlineNanos;
  private final CircuitBreaker breaker;
  private final DenyCache<K> denyCache;
  /** The deny cache's clock: {@link System#nanoTime()}, or in tests the ticker the script reads. */
  private final java.util.function.LongSupplier cacheClock;
  private final AtomicInteger inFlight = new AtomicInteger();
  /** Standalone: calls wait here for one of {@value #MAX_COMMANDS} command slots. */
  private final boolean batching;
  private final ConcurrentLinkedQueue<Call> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger commandsInFlight = new AtomicInteger();
  private volatile boolean closed;
  /** Tests only: an instant in µs for the script instead of Redis's clock, or null. */
  private final java.util.function.LongSupplier fixedClock;

  final AtomicLong roundTrips = new AtomicLong();
  final AtomicLong cacheHits = new AtomicLong();
  final AtomicLong reloads = new AtomicLong();
  final AtomicLong failures = new AtomicLong();
  /** Calls that missed their deadline after being sent: Redis may or may not have run them. */
  final AtomicLong timeouts = new AtomicLong();
  /** Calls that failed with an error from Redis or the connection (not a deadline, not the breaker). */
  final AtomicLong errors = new AtomicLong();

  private RedisStore(String name, Policy policy, Factory f, Ticker ticker) {
    this.name = name;
    this.math = new BucketMath(policy);
    this.keyPrefix = ("{" + f.namespace + ":" + name + ":").getBytes(StandardCharsets.US_ASCII);
    this.connector = f.connector;
    this.deadlineNanos = f.deadline.toNanos();
    this.breaker = new CircuitBreaker(f.breakerFailures, f.breakerOpen.toNanos());
    this.cacheClock = f.fixedClock == TICKER_CLOCK ? ticker::read : System::nanoTime;
    this.denyCache = f.denyCache
        ? new DenyCache<>(math, math.minCapacity(), cacheClock.getAsLong()) : null;
    if (f.fixedClock == TICKER_CLOCK) {
      // tests only: the limiter's ticker, in µs from an arbitrary origin, as the script's clock
      long origin = ticker.read();
      this.fixedClock = () -> 1_000_000_000_000L + Math.floorDiv(ticker.read() - origin, 1000L);
    } else {
      this.fixedClock = f.fixedClock;
    }
    this.batching = !connector.isCluster();
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
    return new Factory(Connector.of(Objects.requireNonNull(uri, "uri")));
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
    return new Factory(Connector.of(Objects.requireNonNull(client, "client")));
  }

  /**
   * A factory over a Cluster client you own; see {@link #factory(RedisClient)}, and configure it
   * with {@link #clusterClientOptions()}.
   *
   * @param client a Cluster client
   * @return a factory with default options
   */
  public static Factory factory(RedisClusterClient client) {
    return new Factory(Connector.of(Objects.requireNonNull(client, "client")));
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
  public Decision decide(K key, long permits) {
    Objects.requireNonNull(key, "key");
    checkPermits(permits);
    if (denyCache != null) {
      Decision cached = denyCache.lookup(key, permits, cacheClock.getAsLong());
      if (cached != null) {
        cacheHits.incrementAndGet();
        return cached;
      }
    }
    Call call = start(key, permits, true, false);
    return (Decision) call.await();
  }

  @Override
  public boolean tryAcquire(K key, long permits) {
    return decide(key, permits).allowed();
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
  public CompletionStage<Decision> decideAsync(K key, long permits) {
    Objects.requireNonNull(key, "key");
    checkPermits(permits);
    if (denyCache != null) {
      Decision cached = denyCache.lookup(key, permits, cacheClock.getAsLong());
      if (cached != null) {
        cacheHits.incrementAndGet();
        return CompletableFuture.completedFuture(cached);
      }
    }
    Call call;
    try {
      call = start(key, permits, true, true);
    } catch (StoreUnavailableException e) {
      return CompletableFuture.failedFuture(e);
    }
    @SuppressWarnings("unchecked")
    CompletableFuture<Decision> result = (CompletableFuture<Decision>) (CompletableFuture<?>) call.result;
    return result;
  }

  /**
   * Whole permits {@code key} could take now, read from Redis in one round trip, taking none.
   *
   * @param key the key, not null
   * @return permits available
   * @throws StoreUnavailableException if Redis fails or misses the deadline
   */
  @Override
  public long availablePermits(K key) {
    Objects.requireNonNull(key, "key");
    return (Long) start(key, 0, false, false).await();
  }

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
    if (closed) {
      return;
    }
    closed = true;
    long end = System.nanoTime() + deadlineNanos;
    while (inFlight.get() > 0 && end - System.nanoTime() > 0) {
      LockSupport.parkNanos(100_000L);
    }
    if (denyCache != null) {
      denyCache.clear();
    }
    connector.release();
  }

  @Override
  public String toString() {
    return "RedisStore[" + name + " on " + connector + "]";
  }

  /** The Redis key of {@code key}'s bucket. */
  byte[] redisKey(K key) {
    byte[] bytes = key instanceof byte[] ? (byte[]) key
        : key.toString().getBytes(StandardCharsets.UTF_8);
    byte[] hash = Base64.getUrlEncoder().withoutPadding().encode(SHA256.get().digest(bytes));
    byte[] out = new byte[keyPrefix.length + hash.length + 1];
    System.arraycopy(keyPrefix, 0, out, 0, keyPrefix.length);
    System.arraycopy(hash, 0, out, keyPrefix.length, hash.length);
    out[out.length - 1] = '}';
    return out;
  }

  /** Whether the circuit breaker currently fails calls without touching Redis. */
  boolean breakerOpen() {
    return breaker.isOpen();
  }

  /**
   * Starts one decision ({@code take}) or look ({@code permits} 0): checks the store can call
   * Redis, registers the deadline of an asynchronous call, then sends it, alone (Cluster) or
   * in the next batch (standalone).
   */
  private Call start(K key, long permits, boolean take, boolean async) {
    if (closed) {
      throw new StoreUnavailableException("the Redis store " + name + " is closed");
    }
    if (!breaker.allow()) {
      failures.incrementAndGet();
      throw new StoreUnavailableException(
          "the circuit breaker of the Redis store " + name + " is open");
    }
    RedisScriptingAsyncCommands<byte[], byte[]> commands = connector.commands();
    if (commands == null) {
      breaker.onFailure();
      failures.incrementAndGet();
      throw new StoreUnavailableException("not connected to " + connector);
    }
    Call call = new Call(key, permits, take, redisKey(key), take ? math.take(permits) : math.look());
    inFlight.incrementAndGet();
    if (async) {
      Deadlines deadlines = connector.deadlines();
      if (deadlines == null) {
        call.fail(new StoreUnavailableException("the Redis store " + name + " is closed"));
        return call;
      }
      deadlines.add(deadlineNanos, call);
    }
    if (batching) {
      queue.offer(call);
      pump(commands);
    } else {
      new Batch(commands, List.of(call), false).send(false);
    }
    return call;
  }

  /**
   * Sends the queued calls, as many per command as are waiting (up to {@value #MAX_BATCH}),
   * while fewer than {@value #MAX_COMMANDS} of this store's commands are in flight. Called after
   * every enqueue and every completed command, so a call never waits for more than the
   * commands ahead of it.
   */
  private void pump(RedisScriptingAsyncCommands<byte[], byte[]> commands) {
    for (;;) {
      int n = commandsInFlight.get();
      if (n >= MAX_COMMANDS || queue.isEmpty()) {
        return;
      }
      if (!commandsInFlight.compareAndSet(n, n + 1)) {
        continue;
      }
      List<Call> calls = new ArrayList<>();
      Call c;
      while (calls.size() < MAX_BATCH && (c = queue.poll()) != null) {
        if (!c.result.isDone()) {
          calls.add(c);
        }
      }
      if (calls.isEmpty()) {
        commandsInFlight.decrementAndGet();
        continue;
      }
      new Batch(commands, calls, true).send(false);
    }
  }

  /**
   * One command: EVALSHA of the script for one or more calls (at most one EVAL after NOSCRIPT),
   * whose reply completes each of them.
   */
  private final class Batch implements BiConsumer<Object, Throwable> {

    final RedisScriptingAsyncCommands<byte[], byte[]> commands;
    final List<Call> calls;
    final boolean counted;
    final byte[][] keys;
    final byte[][] args;
    final AtomicBoolean released = new AtomicBoolean();
    volatile long sent;
    volatile RedisFuture<List<Object>> pending;
    /** {@link #sent} on the deny cache's clock. */
    volatile long sentOnCacheClock;
    volatile boolean reloaded;

    Batch(RedisScriptingAsyncCommands<byte[], byte[]> commands, List<Call> calls, boolean counted) {
      this.commands = commands;
      this.calls = calls;
      this.counted = counted;
      byte[][] head = math.head();
      int per = calls.get(0).keyArgs.length;
      keys = new byte[calls.size()][];
      args = new byte[head.length + per * calls.size() + (fixedClock != null ? 1 : 0)][];
      System.arraycopy(head, 0, args, 0, head.length);
      for (int i = 0; i < calls.size(); i++) {
        Call c = calls.get(i);
        keys[i] = c.redisKey;
        System.arraycopy(c.keyArgs, 0, args, head.length + per * i, per);
        c.batch = this;
      }
      if (fixedClock != null) {
        args[args.length - 1] = BucketMath.ascii(fixedClock.getAsLong());
      }
    }

    void send(boolean reload) {
      RedisFuture<List<Object>> f;
      sent = System.nanoTime();
      sentOnCacheClock = cacheClock.getAsLong();
      roundTrips.incrementAndGet();
      for (Call c : calls) {
        c.sent = true;
      }
      try {
        f = reload
            ? commands.eval(SCRIPT_BYTES, ScriptOutputType.MULTI, keys, args)
            : commands.evalsha(SHA, ScriptOutputType.MULTI, keys, args);
      } catch (RuntimeException e) {
        failAll(e);
        release();
        return;
      }
      pending = f;
      if (allDone()) {
        f.cancel(false);
      }
      f.whenComplete(this);
    }

    /** The reply of EVALSHA or EVAL. */
    @Override
    public void accept(Object reply, Throwable error) {
      if (error != null) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null
            ? error.getCause() : error;
        if (!reloaded && isNoScript(cause) && !allDone()) {
          reloaded = true;
          reloads.incrementAndGet();
          send(true);
          return;
        }
        failAll(cause);
        release();
        return;
      }
      List<?> list = (List<?>) reply;
      int width = math.replyWidth();
      for (int i = 0; i < calls.size(); i++) {
        Call c = calls.get(i);
        Object value;
        try {
          value = c.permits == 0 ? (Object) math.available(list, i * width)
              : math.decide(list, i * width, c.permits);
        } catch (RuntimeException e) {
          c.fail(new StoreUnavailableException("unexpected reply from " + connector + ": " + e, e));
          continue;
        }
        c.succeed(value, list, i * width, sentOnCacheClock);
      }
      release();
    }

    private void failAll(Throwable cause) {
      StoreUnavailableException e = unavailable(cause);
      for (Call c : calls) {
        if (c.fail(e)) {
          errors.incrementAndGet();
        }
      }
    }

    boolean allDone() {
      for (Call c : calls) {
        if (!c.result.isDone()) {
          return false;
        }
      }
      return true;
    }

    /** Every call of this command missed its deadline: stop waiting for it. */
    void cancel() {
      RedisFuture<List<Object>> f = pending;
      if (f != null) {
        f.cancel(false);
      }
    }

    /** Frees this command's slot and sends what queued up meanwhile. */
    private void release() {
      if (counted && released.compareAndSet(false, true)) {
        commandsInFlight.decrementAndGet();
        pump(commands);
      }
    }
  }

  /**
   * One decision (or look) in flight. Completes {@link #result} exactly once, with a
   * {@link Decision} (or the available permits for a look) or a
   * {@link StoreUnavailableException}.
   */
  private final class Call implements Deadlines.Pending {

    final CompletableFuture<Object> result = new CompletableFuture<>();
    final K key;
    final long permits;
    final boolean take;
    final byte[] redisKey;
    final byte[][] keyArgs;
    final long begun = System.nanoTime();
    volatile boolean sent;
    volatile Batch batch;

    Call(K key, long permits, boolean take, byte[] redisKey, byte[][] keyArgs) {
      this.key = key;
      this.permits = permits;
      this.take = take;
      this.redisKey = redisKey;
      this.keyArgs = keyArgs;
    }

    @Override
    public long expiresAt() {
      return begun + deadlineNanos;
    }

    @Override
    public boolean isDone() {
      return result.isDone();
    }

    /** The deadline passed (seen by the deadline thread, or the sync caller's wait ran out). */
    @Override
    public void expire() {
      if (fail(new StoreUnavailableException(
          "no answer from " + connector + " within the deadline of "
              + Duration.ofNanos(deadlineNanos).toMillis() + " ms"))) {
        if (sent) {
          timeouts.incrementAndGet();
        }
        Batch b = batch;
        if (b != null && b.allDone()) {
          b.cancel();
        }
      }
    }

    void succeed(Object value, List<?> reply, int at, long sentAt) {
      if (take && denyCache != null) {
        // before completing: the caller's next request must find it (and a refusal that came
        // after the deadline is still true); an admission changed the bucket, so a refusal
        // remembered for a larger request would now report stale counts: forget it
        if (((Decision) value).allowed()) {
          denyCache.forget(key);
        } else {
          denyCache.remember(key, permits, (Decision) value, math.spans(reply, at), sentAt,
              cacheClock.getAsLong());
        }
      }
      if (result.complete(value)) {
        breaker.onSuccess();
        inFlight.decrementAndGet();
      }
    }

    boolean fail(StoreUnavailableException e) {
      if (result.completeExceptionally(e)) {
        breaker.onFailure();
        failures.incrementAndGet();
        inFlight.decrementAndGet();
        return true;
      }
      return false;
    }

    /** Waits for the result within the deadline, on the caller's thread. */
    Object await() {
      long left = deadlineNanos - (System.nanoTime() - begun);
      try {
        return result.get(Math.max(left, 0), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        expire();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        fail(new StoreUnavailableException("interrupted while waiting for " + connector, e));
      } catch (ExecutionException e) {
        throw rethrow(e.getCause());
      }
      try {
        return result.join();
      } catch (CompletionException | CancellationException e) {
        throw rethrow(e.getCause() != null ? e.getCause() : e);
      }
    }
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof StoreUnavailableException) {
      return (StoreUnavailableException) t;
    }
    return new StoreUnavailableException(String.valueOf(t), t);
  }

  private StoreUnavailableException unavailable(Throwable cause) {
    if (cause instanceof StoreUnavailableException) {
      return (StoreUnavailableException) cause;
    }
    return new StoreUnavailableException(connector + " failed: " + cause, cause);
  }

  private static boolean isNoScript(Throwable t) {
    return t instanceof RedisNoScriptException
        || (t.getMessage() != null && t.getMessage().startsWith("NOSCRIPT"));
  }

  private static long checkPermits(long permits) {
    if (permits < 1) {
      throw new IllegalArgumentException("permits (" + permits + ") must be at least 1");
    }
    return permits;
  }

  private static String loadScript() {
    try (InputStream in = RedisStore.class.getResourceAsStream("bucket.lua")) {
      if (in == null) {
        throw new IllegalStateException("bucket.lua is missing from sluice-redis");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String sha1Hex(byte[] bytes) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-1").digest(bytes);
      StringBuilder sb = new StringBuilder(40);
      for (byte b : d) {
        sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      return sb.toString();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Creates {@link RedisStore}s: the connection (or the client, when made from a URI) and the
   * options shared by every store it creates. Options return a new factory sharing the same
   * connection; a factory is immutable and thread-safe.
   */
  public static final class Factory implements RateStoreFactory, AutoCloseable {

    private final Connector connector;
    private final Duration deadline;
    private final String namespace;
    private final int breakerFailures;
    private final Duration breakerOpen;
    private final boolean denyCache;
    private final java.util.function.LongSupplier fixedClock;

    private Factory(Connector connector) {
      this(connector, Duration.ofMillis(DEFAULT_DEADLINE_MILLIS), DEFAULT_NAMESPACE, 5,
          Duration.ofMillis(250), true, null);
    }

    private Factory(Connector connector, Duration deadline, String namespace, int breakerFailures,
        Duration breakerOpen, boolean denyCache, java.util.function.LongSupplier fixedClock) {
      this.connector = connector;
      this.deadline = deadline;
      this.namespace = namespace;
      this.breakerFailures = breakerFailures;
      this.breakerOpen = breakerOpen;
      this.denyCache = denyCache;
      this.fixedClock = fixedClock;
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
      Objects.requireNonNull(deadline, "deadline");
      if (deadline.compareTo(MIN_DEADLINE) < 0 || deadline.compareTo(MAX_DEADLINE) > 0) {
        throw new IllegalArgumentException(
            "deadline (" + deadline + ") must be between " + MIN_DEADLINE + " and " + MAX_DEADLINE);
      }
      return new Factory(connector, deadline, namespace, breakerFailures, breakerOpen, denyCache,
          fixedClock);
    }

    /**
     * The first part of every key (default {@value RedisStore#DEFAULT_NAMESPACE}), to keep
     * applications apart on a shared server.
     *
     * @param namespace 1 to 64 characters from {@code [A-Za-z0-9._:-]}
     * @return a new factory
     */
    public Factory namespace(String namespace) {
      Objects.requireNonNull(namespace, "namespace");
      if (!NAMESPACE.matcher(namespace).matches()) {
        throw new IllegalArgumentException(
            "namespace (\"" + namespace + "\") must be 1 to 64 characters from [A-Za-z0-9._:-]");
      }
      return new Factory(connector, deadline, namespace, breakerFailures, breakerOpen, denyCache,
          fixedClock);
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
      Objects.requireNonNull(openFor, "openFor");
      if (failures < 1 || failures > 1_000) {
        throw new IllegalArgumentException(
            "circuit breaker failures (" + failures + ") must be between 1 and 1000");
      }
      if (openFor.compareTo(Duration.ofMillis(1)) < 0 || openFor.compareTo(Duration.ofMinutes(10)) > 0) {
        throw new IllegalArgumentException(
            "circuit breaker openFor (" + openFor + ") must be between PT0.001S and PT10M");
      }
      return new Factory(connector, deadline, namespace, failures, openFor, denyCache, fixedClock);
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
      return new Factory(connector, deadline, namespace, breakerFailures, breakerOpen, enabled,
          fixedClock);
    }

    /** Tests only: the script reads each store's ticker (in µs) instead of Redis's clock. */
    Factory tickerClock() {
      return fixedClock(TICKER_CLOCK);
    }

    /** Tests only: the script uses this instant (µs since 2025-01-01) instead of Redis's clock. */
    Factory fixedClock(java.util.function.LongSupplier micros) {
      return new Factory(connector, deadline, namespace, breakerFailures, breakerOpen, denyCache,
          micros);
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
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "name (\"" + name + "\") must be 1 to 64 characters from [A-Za-z0-9._-]");
      }
      RedisStore<T> store = new RedisStore<>(name, policy, this, Objects.requireNonNull(ticker, "ticker"));
      connector.acquire();
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
      return "RedisStore.Factory[" + connector + ", deadline=" + deadline.toMillis() + "ms"
          + ", namespace=" + namespace + ", circuitBreaker=" + breakerFailures + "/"
          + breakerOpen.toMillis() + "ms, denyCache=" + denyCache + "]";
    }
  }
}
