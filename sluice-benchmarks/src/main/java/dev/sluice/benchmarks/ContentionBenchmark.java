package dev.sluice.benchmarks;

import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.TokenBucket;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * An experiment for the core's contended path: one bucket, two threads, the allowed path (every
 * decision is a CAS on one {@code long}). {@code sluice} is the shipped {@code TokenBucket};
 * the others are a replica of its one-{@code long} engine (same arithmetic, same CAS) that, after
 * a failed CAS, retries at once ({@code none}, what the core does), spins a few
 * {@code Thread.onSpinWait()} first ({@code spin}), or parks for the shortest time like
 * Resilience4j's {@code AtomicRateLimiter} ({@code park}). Whether a backoff pays is the question.
 *
 * <pre>
 * java -jar sluice-benchmarks/target/benchmarks.jar ContentionBenchmark
 * java -jar sluice-benchmarks/target/benchmarks.jar ContentionBenchmark -bm sample
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@Threads(2)
@State(Scope.Benchmark)
public class ContentionBenchmark {

  /** {@code sluice} (shipped) or the replica with backoff {@code none}, {@code spin}, {@code park}. */
  @Param({"sluice", "none", "spin", "park"})
  public String variant;

  TokenBucket sluice;
  Replica replica;
  boolean shipped;

  /** Builds the bucket: 10^9 per second, capacity 10^15 (never denies). */
  @Setup(Level.Trial)
  public void setUp() {
    sluice = TokenBucket.of(Policy.of(KeyedLimiter.sluiceLimit(Rate.NEVER_DENIES)), Ticker.system());
    shipped = variant.equals("sluice");
    int mode = variant.equals("spin") ? 1 : variant.equals("park") ? 2 : 0;
    replica = new Replica(1, 1_000_000_000_000_000L, System.nanoTime(), mode);
  }

  /** One admitted decision on the shared bucket. */
  @Benchmark
  public boolean tryAcquire() {
    return shipped ? sluice.tryAcquire() : replica.tryAcquire(System.nanoTime());
  }

  /** The one-long engine's admission path, with a choice of backoff after a failed CAS. */
  static final class Replica {
    private static final VarHandle E;

    static {
      try {
        E = MethodHandles.lookup().findVarHandle(Replica.class, "emptyAt", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    private final long interval;
    private final long fill;
    private final int mode;
    volatile long emptyAt;

    Replica(long interval, long capacity, long now, int mode) {
      this.interval = interval;
      this.fill = interval * capacity;
      this.mode = mode;
      this.emptyAt = now - fill;
    }

    boolean tryAcquire(long now) {
      long low = now - fill;
      long e = emptyAt;
      for (int failures = 0; ; failures++) {
        long next = (e - low < 0 ? low : e) + interval;
        if (next - now > 0) {
          return false;
        }
        long witness = (long) E.compareAndExchange(this, e, next);
        if (witness == e) {
          return true;
        }
        if (mode == 1) {
          for (int i = 0, n = 1 << Math.min(failures, 6); i < n; i++) {
            Thread.onSpinWait();
          }
          e = emptyAt;
        } else if (mode == 2) {
          LockSupport.parkNanos(1);
          e = emptyAt;
        } else {
          e = witness;
        }
      }
    }
  }
}
