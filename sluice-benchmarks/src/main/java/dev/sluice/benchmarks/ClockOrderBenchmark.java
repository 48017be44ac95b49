package dev.sluice.benchmarks;

import dev.sluice.InMemoryStore;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
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
 * An experiment for the core's decision path: 100,000 keys at random (as {@link KeyedBenchmark}),
 * the shipped {@link InMemoryStore} beside {@link ClockOrderStore} reading the ticker before the
 * map lookup ({@code clock-first}, the shipped order, a control) and after it
 * ({@code clock-after-lookup}). Stores are called directly, without the {@code RateLimiter}.
 *
 * <p>Run, from the repository root:
 * <pre>
 * java -jar sluice-benchmarks/target/benchmarks.jar ClockOrderBenchmark -t 1
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
public class ClockOrderBenchmark {

  private static final int ORDER_SIZE = 1 << 20;
  private static final int ORDER_MASK = ORDER_SIZE - 1;

  /** {@code shipped}, {@code clock-first} or {@code clock-after-lookup}. */
  @Param({"shipped", "clock-first", "clock-after-lookup"})
  public String store;

  String[] keys;
  int[] order;
  RateStore<String> rateStore;
  Policy policy;

  /** Builds the keys, the random order, and the store with every key present. */
  @Setup(Level.Trial)
  public void setUp() {
    keys = KeyedBenchmark.keys(KeyedBenchmark.KEYS);
    SplittableRandom random = new SplittableRandom(42);
    order = new int[ORDER_SIZE];
    for (int i = 0; i < ORDER_SIZE; i++) {
      order[i] = random.nextInt(keys.length);
    }
    policy = Policy.of(KeyedLimiter.sluiceLimit(Rate.STEADY));
    switch (store) {
      case "shipped":
        rateStore = InMemoryStore.factory().create("bench", policy, Ticker.system());
        break;
      case "clock-first":
        rateStore = new ClockOrderStore<>(policy, Ticker.system(), true);
        break;
      case "clock-after-lookup":
        rateStore = new ClockOrderStore<>(policy, Ticker.system(), false);
        break;
      default:
        throw new IllegalArgumentException("unknown store: " + store);
    }
    for (String key : keys) {
      if (!rateStore.tryAcquire(key, policy, 1)) {
        throw new IllegalStateException(store + " denied " + key);
      }
    }
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
    return rateStore.tryAcquire(keys[order[cursor.next++ & ORDER_MASK]], policy, 1);
  }
}
