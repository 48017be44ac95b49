package dev.sluice.benchmarks;

import dev.sluice.Limit;
import dev.sluice.Plans;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import java.time.Duration;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What plans cost on the hot path: a limiter whose keys are spread over three plans
 * ({@link Plans}, the assignment a function of the key's cached hash) beside a limiter with one
 * policy, on one key and on 100,000 keys hit at random. Every policy is one limit with a
 * whole-nanosecond interval (the one-CAS engine) and a capacity no run exhausts, so every
 * decision is an admission; no key changes policy during a run, so the difference is the plan
 * function, its map lookup and the policy read, against the one policy's volatile read.
 *
 * <p>Run, from the repository root:
 * <pre>
 * java -jar sluice-benchmarks/target/benchmarks.jar PlansBenchmark -t 1
 * </pre>
 * Add {@code -prof gc} to see that neither allocates per decision. Keyed figures move between
 * forks: compare rows of one run only.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
public class PlansBenchmark {

  private static final int ORDER_SIZE = 1 << 20;
  private static final int ORDER_MASK = ORDER_SIZE - 1;
  private static final String[] PLANS = {"free", "pro", "team"};

  /** {@code one-policy} or {@code plans-3}. */
  @Param({"one-policy", "plans-3"})
  public String limiter;

  /** Keys hit: 1 or 100,000. */
  @Param({"1", "100000"})
  public int keys;

  String[] keyNames;
  int[] order;
  RateLimiter<String> rateLimiter;

  /**
   * A limit no run exhausts: 10^15 permits, one every 4,611 ns (a fill time just under 2^62 ns),
   * {@code plan} making the three plans' policies distinct.
   */
  static Policy policy(int plan) {
    return Policy.of(new Limit(Limit.MAX_CAPACITY - plan, 1, Duration.ofNanos(4611),
        Limit.MAX_CAPACITY - plan));
  }

  /** Builds the keys, the random order and the limiter, every key holding a bucket. */
  @Setup(Level.Trial)
  public void setUp() {
    keyNames = KeyedBenchmark.keys(keys);
    SplittableRandom random = new SplittableRandom(42);
    order = new int[ORDER_SIZE];
    for (int i = 0; i < ORDER_SIZE; i++) {
      order[i] = random.nextInt(keys);
    }
    switch (limiter) {
      case "one-policy" -> rateLimiter = RateLimiter.builder(policy(0)).build();
      case "plans-3" -> {
        Plans.Builder<String> plans = Plans.builder();
        for (int i = 0; i < PLANS.length; i++) {
          plans.plan(PLANS[i], policy(i));
        }
        plans.assign(key -> PLANS[(key.hashCode() & Integer.MAX_VALUE) % PLANS.length]);
        rateLimiter = RateLimiter.builder(plans.build()).build();
      }
      default -> throw new IllegalArgumentException("unknown limiter: " + limiter);
    }
    for (String key : keyNames) {
      if (!rateLimiter.tryAcquire(key)) {
        throw new IllegalStateException(limiter + " denied " + key);
      }
    }
  }

  /** Closes the limiter. */
  @TearDown(Level.Trial)
  public void tearDown() {
    rateLimiter.close();
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

  /** One decision for a random existing key (the only one, with one key). */
  @Benchmark
  public boolean tryAcquire(Cursor cursor) {
    return rateLimiter.tryAcquire(keyNames[order[cursor.next++ & ORDER_MASK]]);
  }
}
