package dev.sluice.benchmarks;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.redis.RedisStore;
import dev.sluice.redis.StoreCommand;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.distributed.AsyncBucketProxy;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.AsyncProxyManager;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decisions per second against one local Redis with {@code depth} requests in flight (1, 8, 64),
 * one issuing thread, over 1,024 keys and a limit that never refuses (so every call is a full
 * decision in Redis, and Sluice's deny cache never answers):
 * <ul>
 *   <li>{@code sluice}: {@code RateLimiter.decideAsync} on {@code RedisStore} (the bucket script,
 *       deadline, circuit breaker, a full {@link Decision}; the store keeps two commands in
 *       flight and the calls that arrive meanwhile share the next EVALSHA, so past two in flight
 *       one command carries several decisions);</li>
 *   <li>{@code bucket4j}: Bucket4j's Lettuce integration ({@code Bucket4jLettuce.casBasedBuilder},
 *       {@code AsyncBucketProxy.tryConsume(1)}), the compare-and-swap design: a GET and an EVAL
 *       per decision;</li>
 *   <li>{@code raw-evalsha}: the one-command-per-decision ceiling: a bare Lettuce loop sending
 *       EVALSHA of Sluice's script with exactly the keys and arguments the store sends for one
 *       permit ({@link #rawArgs}, checked in set-up against the store's own code, and each
 *       set-up reply checked to be an admitting decision, not an error), ignoring the reply: no
 *       decoding, no deadline, no breaker, no sharing of commands.</li>
 * </ul>
 * {@link #decide} keeps a window of {@code depth} permits: each call takes one, sends one
 * request, and the reply gives it back, so the score is completed decisions per second.
 * {@link #decideBlocking} is the synchronous path ({@code RateLimiter.decide}, what
 * {@code tryAcquire} runs), one call at a time; compare it at {@code depth=1}.
 *
 * <p>Needs a Redis at {@code -Dsluice.redis.uri} (default {@code redis://127.0.0.1:6379}), e.g.
 * Debian's {@code redis-server} on a port of its own, killed by its PID afterwards:
 * <pre>
 * redis-server --port 6399 --save "" --appendonly no &amp;
 * java -Dsluice.redis.uri=redis://127.0.0.1:6399 -jar sluice-benchmarks/target/benchmarks.jar RedisBenchmark
 * java -Dsluice.redis.uri=redis://127.0.0.1:6399 -jar sluice-benchmarks/target/benchmarks.jar \
 *     'RedisBenchmark.decide$' -p depth=1 -p impl=sluice,raw-evalsha \
 *     -f 2 -wi 3 -i 5 -w 1s -r 1s
 * java -Dsluice.redis.uri=redis://127.0.0.1:6399 -jar sluice-benchmarks/target/benchmarks.jar \
 *     'RedisBenchmark.decideBlocking' -p depth=1 -p impl=sluice,raw-evalsha \
 *     -f 2 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 * (or the binary that the {@code embedded-redis} test jar of sluice-redis ships, see
 * {@code RedisServer} in its tests). Redis, the Lettuce I/O thread and the issuing thread share
 * the machine's cores: compare rows of one run only.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Threads(1)
@State(Scope.Benchmark)
public class RedisBenchmark {

  static final int KEYS = 1024;
  static final String URI = System.getProperty("sluice.redis.uri", "redis://127.0.0.1:6379");

  /** Requests in flight. */
  @Param({"1", "8", "64"})
  public int depth;

  /** Which client. */
  @Param({"sluice", "bucket4j", "raw-evalsha"})
  public String impl;

  private Semaphore window;
  private final AtomicLong errors = new AtomicLong();
  private BiConsumer<Object, Throwable> release;
  private String[] keys;
  private byte[][] keyBytes;
  private int next;

  private RateLimiter<String> sluice;
  private RedisStore.Factory sluiceFactory;

  private RedisClient client;
  private StatefulRedisConnection<byte[], byte[]> connection;
  private AsyncBucketProxy[] buckets;

  private RedisAsyncCommands<byte[], byte[]> raw;
  private String rawSha;
  private byte[][] rawArgs;

  /** Connects the chosen client and touches every key once. */
  @Setup(Level.Trial)
  public void setUp() throws Exception {
    window = new Semaphore(depth);
    release = (r, e) -> {
      if (e != null) {
        errors.incrementAndGet();
      }
      window.release();
    };
    keys = new String[KEYS];
    keyBytes = new byte[KEYS][];
    String run = Long.toString(System.nanoTime(), 36);
    for (int i = 0; i < KEYS; i++) {
      keys[i] = "user-" + run + "-" + i;
      keyBytes[i] = ("{bench:" + run + ":" + i + "}").getBytes(StandardCharsets.US_ASCII);
    }
    // never refuses: 10^9 per second, a capacity of 10^12
    Limit limit = Limit.of(1_000_000_000L, Duration.ofSeconds(1)).withCapacity(1_000_000_000_000L);
    switch (impl) {
      case "sluice":
        sluiceFactory = RedisStore.factory(URI).deadline(Duration.ofSeconds(1));
        sluice = RateLimiter.builder(limit).name("bench-" + run).store(sluiceFactory).build();
        for (String k : keys) {
          check(sluice.decideAsync(k, 1).toCompletableFuture().get().source() == Decision.Source.STORE);
        }
        break;
      case "bucket4j":
        client = RedisClient.create(URI);
        connection = client.connect(ByteArrayCodec.INSTANCE);
        AsyncProxyManager<byte[]> manager = Bucket4jLettuce.casBasedBuilder(connection)
            .expirationAfterWrite(
                ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
            .build().asAsync();
        BucketConfiguration config = BucketConfiguration.builder()
            .addLimit(b -> b.capacity(1_000_000_000_000L).refillGreedy(1_000_000_000L, Duration.ofSeconds(1)))
            .build();
        buckets = new AsyncBucketProxy[KEYS];
        for (int i = 0; i < KEYS; i++) {
          buckets[i] = manager.builder().build(keyBytes[i],
              () -> CompletableFuture.completedFuture(config));
          check(buckets[i].tryConsume(1).get());
        }
        break;
      case "raw-evalsha":
        client = RedisClient.create(URI);
        connection = client.connect(ByteArrayCodec.INSTANCE);
        raw = connection.async();
        rawSha = raw.scriptLoad(StoreCommand.script()).get();
        check(rawSha.equals(StoreCommand.sha()), "the loaded script is not the store's");
        rawArgs = rawArgs(Policy.of(limit));
        for (int i = 0; i < KEYS; i++) {
          keyBytes[i] = StoreCommand.key(RedisStore.DEFAULT_NAMESPACE, "raw-" + run,
              Policy.of(limit), keys[i]);
          Object reply = raw.evalsha(rawSha, ScriptOutputType.MULTI,
              new byte[][] {keyBytes[i]}, rawArgs).get();
          checkDecision(reply);
        }
        break;
      default:
        throw new IllegalArgumentException(impl);
    }
  }

  /** Sends one decision once a slot in the window is free. */
  @Benchmark
  public void decide() {
    window.acquireUninterruptibly();
    int i = next++ & (KEYS - 1);
    CompletionStage<?> f;
    switch (impl) {
      case "sluice":
        f = sluice.decideAsync(keys[i], 1);
        break;
      case "bucket4j":
        f = buckets[i].tryConsume(1);
        break;
      default:
        f = raw.evalsha(rawSha, ScriptOutputType.MULTI, new byte[][] {keyBytes[i]}, rawArgs);
        break;
    }
    f.whenComplete(release);
  }

  /**
   * One synchronous decision, waited for on this thread: Sluice's {@code RateLimiter.decide} (the
   * path of {@code tryAcquire}, bounded by the store's deadline on the caller's thread, no deadline
   * thread), Bucket4j's and the raw loop's futures joined. One in flight whatever {@code depth}
   * says: run it with {@code -p depth=1}.
   */
  @Benchmark
  public Object decideBlocking() throws Exception {
    int i = next++ & (KEYS - 1);
    switch (impl) {
      case "sluice":
        return sluice.decide(keys[i], 1);
      case "bucket4j":
        return buckets[i].tryConsume(1).get();
      default:
        return raw.evalsha(rawSha, ScriptOutputType.MULTI, new byte[][] {keyBytes[i]}, rawArgs)
            .get();
    }
  }

  /** Waits for the requests in flight, reports errors, closes. */
  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (!window.tryAcquire(depth, 10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("requests still in flight after 10 s");
    }
    if (errors.get() > 0) {
      throw new IllegalStateException(impl + ": " + errors.get() + " calls failed");
    }
    if (sluice != null) {
      sluice.close();
      sluiceFactory.close();
    }
    if (connection != null) {
      connection.close();
    }
    if (client != null) {
      client.shutdown();
    }
  }

  private static void check(boolean ok) {
    check(ok, "set-up decision was not admitted by Redis");
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException(what);
    }
  }

  /**
   * The store's ARGV for one permit of {@code policy}'s one limit, as literals, checked against
   * what the store's own code builds ({@link StoreCommand#takeOne}), so a change of the script's
   * layout fails here rather than measuring an error reply. For 10^9 per second, capacity 10^12:
   * T = 1 ns = 0 + 1/1000 µs, so den 1000; fill C*T = 10^9 µs; the initial permits are the
   * capacity, so init = fill.
   */
  static byte[][] rawArgs(Policy policy) {
    byte[][] args = ascii(
        "1", "", StoreCommand.fingerprint(policy),      // L, Redis's clock, the fingerprint
        "1000", "1000000000", "0", "1000000000", "0",    // den fillQ fillR initQ initR
        "0", "0",                                       // no conversion, no other policies
        "1", "0", "1");                                 // take, cost Q R
    byte[][] store = StoreCommand.takeOne(policy);
    if (!Arrays.deepEquals(args, store)) {
      throw new IllegalStateException("the raw arguments are not the store's: "
          + text(args) + " against " + text(store));
    }
    return args;
  }

  /** The reply to one take of one limit: {@code [1, a, r]} with {@code 1} = admitted. */
  private static void checkDecision(Object reply) {
    check(reply instanceof List && ((List<?>) reply).size() == 3
        && ((List<?>) reply).stream().allMatch(Long.class::isInstance)
        && (Long) ((List<?>) reply).get(0) == 1L,
        "raw EVALSHA did not return an admitting decision [1, a, r]: " + reply);
  }

  private static String text(byte[][] args) {
    StringBuilder sb = new StringBuilder("[");
    for (byte[] a : args) {
      sb.append(sb.length() > 1 ? ", " : "").append('"')
          .append(new String(a, StandardCharsets.US_ASCII)).append('"');
    }
    return sb.append(']').toString();
  }

  private static byte[][] ascii(String... values) {
    byte[][] out = new byte[values.length][];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i].getBytes(StandardCharsets.US_ASCII);
    }
    return out;
  }
}
