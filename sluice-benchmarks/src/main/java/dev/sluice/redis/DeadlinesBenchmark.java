package dev.sluice.redis;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a deadline costs an asynchronous Redis call that answers in time: a future watched for
 * the store's default deadline (50 ms), then completed. Two ways to watch it:
 * <ul>
 *   <li>{@code reaper}: the store's {@link Deadlines} (one FIFO queue per deadline, one daemon
 *       thread looking at the heads): registering is one lock-free enqueue, cancelling is only
 *       completing the future, which the thread drops when it passes it;</li>
 *   <li>{@code orTimeout}: {@code CompletableFuture.orTimeout}, the JDK's way: a task in a shared
 *       {@code ScheduledThreadPoolExecutor} (a heap under a lock), removed again by the
 *       completion.</li>
 * </ul>
 * The future is a subclass carrying its expiry, as the store's {@code Call} is; each call
 * allocates it, so the bytes per operation include it for both. Run, from the repository root,
 * with one thread and with two (all threads share one reaper, as a connection's calls do):
 * <pre>
 * java -jar sluice-benchmarks/target/benchmarks.jar DeadlinesBenchmark -t 1 -prof gc
 * java -jar sluice-benchmarks/target/benchmarks.jar DeadlinesBenchmark -t 2 -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"-Xms2g", "-Xmx2g", "-XX:+AlwaysPreTouch"})
@State(Scope.Benchmark)
public class DeadlinesBenchmark {

  /** The store's default deadline, {@link RedisStore#DEFAULT_DEADLINE_MILLIS}. */
  static final long DEADLINE_NANOS =
      TimeUnit.MILLISECONDS.toNanos(RedisStore.DEFAULT_DEADLINE_MILLIS);

  private Deadlines deadlines;

  /** Starts the reaper thread. */
  @Setup(Level.Trial)
  public void setUp() {
    deadlines = new Deadlines();
  }

  /** Stops it. */
  @TearDown(Level.Trial)
  public void tearDown() {
    deadlines.stop();
  }

  /** Registers a call with the reaper, then completes it (the reaper drops it later). */
  @Benchmark
  public Object reaper() {
    Watched w = new Watched(System.nanoTime() + DEADLINE_NANOS);
    deadlines.add(DEADLINE_NANOS, w);
    w.complete(Boolean.TRUE);
    return w;
  }

  /** Watches a call with {@code orTimeout}, then completes it (which cancels the timer task). */
  @Benchmark
  public Object orTimeout() {
    Watched w = new Watched(System.nanoTime() + DEADLINE_NANOS);
    w.orTimeout(DEADLINE_NANOS, TimeUnit.NANOSECONDS);
    w.complete(Boolean.TRUE);
    return w;
  }

  /** A call's future with its expiry, as {@code Call} is to the reaper. */
  static final class Watched extends CompletableFuture<Boolean> implements Deadlines.Pending {
    private final long expiresAt;

    Watched(long expiresAt) {
      this.expiresAt = expiresAt;
    }

    @Override
    public long expiresAt() {
      return expiresAt;
    }

    @Override
    public void expire() {
      completeExceptionally(new TimeoutException());
    }
  }
}
