package dev.sluice.benchmarks;

import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * A limiter per key, 100,000 keys hit at random: Sluice's {@code RateLimiter} beside Bucket4j
 * buckets in a {@code ConcurrentHashMap} ({@code computeIfAbsent}) and in a bounded Caffeine cache
 * (max 1M keys, expire after access 1 h), and Guava limiters in a {@code ConcurrentHashMap}.
 * {@code sluice-caffeine-store} is the alternative store design (Sluice's holders and engine in
 * Caffeine, {@link CaffeineStore}) beside the shipped hand-written map.
 *
 * <ul>
 *   <li>{@code limit=steady}: every key present and staying present (capacity 10^6, one permit
 *       per hour: never denied, never full again during a run; see {@link Rate#STEADY}). The
 *       steady state of a busy service: a lookup plus an admitted decision.</li>
 *   <li>{@code limit=100/s}: 100 per second, burst 100 (Guava the same). Each key sees tens of
 *       requests a second, so some are denied and many buckets are full again between two
 *       requests: a store that drops full buckets re-creates them (allocation, insertion).</li>
 * </ul>
 * Every key is created in {@code @Setup}. Keys are pre-built Strings (hash cached); each thread
 * walks a pre-generated random index array from its own random offset, so the measured loop
 * allocates nothing of its own.
 *
 * <p>Run, from the repository root, once per thread count:
 * <pre>
 * java -jar sluice-benchmarks/target/benchmarks.jar KeyedBenchmark -t 1
 * java -jar sluice-benchmarks/target/benchmarks.jar KeyedBenchmark -t 2
 * </pre>
 * Add {@code -prof gc} for bytes allocated per decision. Keyed figures move between forks (cache
 * and heap layout): compare rows of one run only.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
public class KeyedBenchmark {

  static final int KEYS = 100_000;
  private static final int ORDER_SIZE = 1 << 20;
  private static final int ORDER_MASK = ORDER_SIZE - 1;

  /** Which limiter-per-key implementation. */
  @Param({
    KeyedLimiter.SLUICE, KeyedLimiter.SLUICE_CAFFEINE, KeyedLimiter.BUCKET4J_CHM,
    KeyedLimiter.BUCKET4J_CAFFEINE, KeyedLimiter.GUAVA_CHM
  })
  public String impl;

  /** {@code steady} (keys present, never denied) or {@code 100/s} (a typical per-client limit). */
  @Param({"steady", "100/s"})
  public String limit;

  String[] keys;
  int[] order;
  KeyedLimiter limiter;

  /** Builds the keys, the random order, and the limiter with every key present. */
  @Setup(Level.Trial)
  public void setUp() {
    keys = keys(KEYS);
    SplittableRandom random = new SplittableRandom(42);
    order = new int[ORDER_SIZE];
    for (int i = 0; i < ORDER_SIZE; i++) {
      order[i] = random.nextInt(KEYS);
    }
    boolean steady = limit.equals("steady");
    limiter = KeyedLimiter.create(impl, steady ? Rate.STEADY : Rate.HUNDRED_PER_SECOND);
    for (String key : keys) {
      if (!limiter.tryAcquire(key)) {
        throw new IllegalStateException(impl + " denied " + key);
      }
    }
    if (steady && limiter.size() != KEYS) {
      throw new IllegalStateException(impl + " holds " + limiter.size() + " keys, not " + KEYS);
    }
  }

  static String[] keys(int n) {
    String[] keys = new String[n];
    for (int i = 0; i < n; i++) {
      keys[i] = "client-" + i;
      keys[i].hashCode();
    }
    return keys;
  }

  /** Each thread's position in the shared random order. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;

    /** Starts each thread at its own random offset. */
    @Setup(Level.Trial)
    public void setUp() {
      next = ThreadLocalRandom.current().nextInt(ORDER_SIZE);
    }
  }

  /** One decision for a random existing key. */
  @Benchmark
  public boolean tryAcquire(Cursor cursor) {
    return limiter.tryAcquire(keys[order[cursor.next++ & ORDER_MASK]]);
  }
}
