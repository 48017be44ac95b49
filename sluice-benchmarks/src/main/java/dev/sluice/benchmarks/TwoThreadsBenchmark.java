package dev.sluice.benchmarks;

import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.TokenBucket;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Two threads admitting on one key, the limit far above demand (10^9 per second, capacity
 * 10^15: every call is admitted, so every call writes the shared state):
 * <ul>
 *   <li>{@code floor}: the hand-written one-{@code AtomicLong} GCRA ({@link ContentionBenchmark}'s
 *       replica of the core's engine, retrying a failed CAS at once): one clock read and one CAS
 *       on one cache line, the least an exact bucket can do;</li>
 *   <li>{@code sluice}: {@code TokenBucket.tryAcquire()};</li>
 *   <li>{@code resilience4j}: {@code AtomicRateLimiter.acquirePermission()}, zero timeout (it
 *       parks a thread after a failed CAS, so the other runs alone: compare the tails).</li>
 * </ul>
 * Fork-to-fork spread on one shared cache line is large, so {@link TwoThreads} runs this with
 * five forks or more and reports the median of the fork means, their range, and the p99 and
 * p99.9 of a {@code SampleTime} run:
 * <pre>
 * java -cp sluice-benchmarks/target/benchmarks.jar dev.sluice.benchmarks.TwoThreads 5
 * java -jar sluice-benchmarks/target/benchmarks.jar TwoThreadsBenchmark -f 5
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 5, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Threads(2)
@State(Scope.Benchmark)
public class TwoThreadsBenchmark {

  ContentionBenchmark.Replica floor;
  TokenBucket sluice;
  AtomicRateLimiter resilience4j;

  /** Builds the three limiters and checks that each admits. */
  @Setup(Level.Trial)
  public void setUp() {
    Rate rate = Rate.NEVER_DENIES;
    floor = new ContentionBenchmark.Replica(rate.period().toNanos() / rate.permits(),
        rate.capacity(), System.nanoTime(), 0);
    sluice = TokenBucket.of(Policy.of(KeyedLimiter.sluiceLimit(rate)), Ticker.system());
    resilience4j = new AtomicRateLimiter("two-threads", RateLimiterConfig.custom()
        .limitForPeriod((int) rate.permits())
        .limitRefreshPeriod(rate.period())
        .timeoutDuration(Duration.ZERO)
        .build());
    if (!floor.tryAcquire(System.nanoTime()) || !sluice.tryAcquire()
        || !resilience4j.acquirePermission()) {
      throw new IllegalStateException("a limiter refused: it must admit every call");
    }
  }

  /** The floor: one clock read and one CAS on the shared {@code long}. */
  @Benchmark
  public boolean floor() {
    return floor.tryAcquire(System.nanoTime());
  }

  /** Sluice {@code TokenBucket.tryAcquire()}. */
  @Benchmark
  public boolean sluice() {
    return sluice.tryAcquire();
  }

  /** Resilience4j {@code AtomicRateLimiter.acquirePermission()}, zero timeout. */
  @Benchmark
  public boolean resilience4j() {
    return resilience4j.acquirePermission();
  }
}
