package dev.sluice.benchmarks;

import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.TokenBucket;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.local.SynchronizationStrategy;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One bucket shared by every benchmark thread: the cost of a single decision, Sluice beside its
 * competitors and beside a bare {@code System.nanoTime()} (the floor: a decision reads the clock).
 *
 * <ul>
 *   <li>{@code path=allowed}: 10^9 permits per second, capacity 10^15 (Guava: {@code create(1e9)},
 *       it has no burst setting; Resilience4j: 10^9 per 1 s cycle); it never denies.</li>
 *   <li>{@code path=denied}: one permit per day, taken in {@code @Setup}; every call is denied.</li>
 * </ul>
 * Competitors: Bucket4j 8 local buckets with its default lock-free (CAS) strategy and with
 * {@code SynchronizationStrategy.SYNCHRONIZED}, both with Bucket4j's default millisecond clock;
 * Guava {@code RateLimiter.tryAcquire()}; Resilience4j {@code AtomicRateLimiter} with a zero
 * timeout ({@code acquirePermission()}).
 *
 * <p>Run, from the repository root, once per thread count (the README table uses both):
 * <pre>
 * java -jar sluice-benchmarks/target/benchmarks.jar SingleBucketBenchmark -t 1
 * java -jar sluice-benchmarks/target/benchmarks.jar SingleBucketBenchmark -t 2
 * </pre>
 * Add {@code -prof gc} for bytes allocated per decision ({@code gc.alloc.rate.norm}).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
public class SingleBucketBenchmark {

  /** {@code allowed}: a limit that never denies; {@code denied}: a limit that is always empty. */
  @Param({"allowed", "denied"})
  public String path;

  TokenBucket sluice;
  Bucket bucket4jLockFree;
  Bucket bucket4jSynchronized;
  com.google.common.util.concurrent.RateLimiter guava;
  AtomicRateLimiter resilience4j;

  /** Builds every limiter; on the denied path, takes each one's only permit. */
  @Setup(Level.Trial)
  public void setUp() {
    boolean allowed = path.equals("allowed");
    Rate rate = allowed ? Rate.NEVER_DENIES : Rate.ONE_PER_DAY;
    sluice = TokenBucket.of(Policy.of(KeyedLimiter.sluiceLimit(rate)), Ticker.system());
    bucket4jLockFree = Bucket.builder().addLimit(KeyedLimiter.bucket4jLimit(rate)).build();
    bucket4jSynchronized = Bucket.builder().addLimit(KeyedLimiter.bucket4jLimit(rate))
        .withSynchronizationStrategy(SynchronizationStrategy.SYNCHRONIZED).build();
    guava = com.google.common.util.concurrent.RateLimiter.create(rate.guavaPerSecond());
    resilience4j = new AtomicRateLimiter("bench", RateLimiterConfig.custom()
        .limitForPeriod(allowed ? 1_000_000_000 : 1)
        .limitRefreshPeriod(allowed ? Duration.ofSeconds(1) : Duration.ofDays(1))
        .timeoutDuration(Duration.ZERO)
        .build());
    if (!allowed) {
      // Guava's first permit is free and prepays the next day; the others start with one permit.
      sluice.tryAcquire();
      bucket4jLockFree.tryConsume(1);
      bucket4jSynchronized.tryConsume(1);
      guava.tryAcquire();
      resilience4j.acquirePermission();
    }
    boolean[] expected = {
      sluice.tryAcquire(), bucket4jLockFree.tryConsume(1), bucket4jSynchronized.tryConsume(1),
      guava.tryAcquire(), resilience4j.acquirePermission()
    };
    for (boolean b : expected) {
      if (b != allowed) {
        throw new IllegalStateException("a limiter is not on the " + path + " path");
      }
    }
  }

  /** The floor: one clock read, what every decision needs at least. */
  @Benchmark
  public long nanoTime() {
    return System.nanoTime();
  }

  /** Sluice {@code TokenBucket.tryAcquire()}: one clock read, one CAS when admitted. */
  @Benchmark
  public boolean sluice() {
    return sluice.tryAcquire();
  }

  /** Bucket4j local bucket, default lock-free strategy. */
  @Benchmark
  public boolean bucket4jLockFree() {
    return bucket4jLockFree.tryConsume(1);
  }

  /** Bucket4j local bucket, synchronized strategy. */
  @Benchmark
  public boolean bucket4jSynchronized() {
    return bucket4jSynchronized.tryConsume(1);
  }

  /** Guava {@code RateLimiter.tryAcquire()} (no wait). */
  @Benchmark
  public boolean guava() {
    return guava.tryAcquire();
  }

  /** Resilience4j {@code AtomicRateLimiter.acquirePermission()} with a zero timeout. */
  @Benchmark
  public boolean resilience4j() {
    return resilience4j.acquirePermission();
  }
}
