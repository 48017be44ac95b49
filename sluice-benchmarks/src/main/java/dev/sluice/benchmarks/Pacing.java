package dev.sluice.benchmarks;

import dev.sluice.Limit;
import dev.sluice.Reservation;
import dev.sluice.TokenBucket;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongFunction;
import java.util.function.ToDoubleFunction;

/**
 * Pacing: how exactly, and at what CPU cost, a blocking acquire holds a configured rate. Not a JMH
 * throughput benchmark: for each limiter and each rate, {@code threads} threads call the
 * limiter's blocking acquire of one permit in a loop for {@code seconds}, and the harness reports:
 *
 * <ul>
 *   <li><b>achieved rate</b> = permits whose acquire <i>returned</i> in {@code [t0, t0 + D)},
 *       divided by {@code D}, where {@code t0} is the instant the limiter is created and the
 *       waiting threads are released (they spin on a field, so they start within microseconds) and
 *       {@code D} the run's length (a limiter that took more than 100 µs to build, because the
 *       thread was descheduled, is built again with a new {@code t0}). Every limiter starts with
 *       one permit available at {@code t0},
 *       so an exact pacer returns exactly {@code rate × D} permits in the window (the permits due at
 *       {@code t0 + k/rate} for {@code k = 0 … rate·D − 1}); the error is
 *       {@code achieved / rate − 1}. An acquire that returns at or after {@code t0 + D} is not
 *       counted.</li>
 *   <li><b>CPU per permit</b>: the acquiring threads' CPU time
 *       ({@code ThreadMXBean.getCurrentThreadCpuTime}, summed) and the whole process's
 *       ({@code com.sun.management.OperatingSystemMXBean.getProcessCpuTime}: JIT, GC and
 *       the harness included) over the run, divided by the permits counted.</li>
 *   <li><b>lateness</b>: the return instants of all threads, sorted; the {@code i}-th (from 0) is
 *       compared with its ideal instant {@code t0 + i/rate}. p50, p99 and max in microseconds;
 *       a limiter that falls behind the rate shows it as a lateness that grows with the run.</li>
 * </ul>
 *
 * <p>The limiters, each built fresh at {@code t0} after a warm-up run of its own on another
 * instance (2 s, discarded), then run in turn, {@code rounds} times, so that the machine's load
 * falls on all of them alike; the last table is the median of each column over the rounds:
 * <ul>
 *   <li>{@code sluice}: {@code TokenBucket.of(Limit.perSecond(rate).withInitialPermits(1))
 *       .acquire(1)} (capacity one second of permits, like Guava's default burst);</li>
 *   <li>{@code guava}: {@code RateLimiter.create(rate).acquire()} (Guava 33.5, SmoothBursty, one
 *       second of stored permits);</li>
 *   <li>{@code r4j}: Resilience4j 2.3 {@code AtomicRateLimiter}, one permit per {@code 1/rate}
 *       period, {@code acquirePermission()} with a 1 s timeout;</li>
 *   <li>{@code r4j-1ms}: the same with a 1 ms period of {@code rate/1000} permits, the
 *       configuration a Resilience4j user would pick at high rates (its permits come in bursts at
 *       each period's start, so they can be early against the ideal instants);</li>
 *   <li>{@code sluice-1ms}, an experiment: Sluice's {@code reserve} waited out with parks of at
 *       least 1 ms, as Guava's {@code acquire} waits on JDK 17 (its {@code Thread.sleep} of less
 *       than a millisecond sleeps one), to show what that costs and saves.</li>
 * </ul>
 *
 * <p>Run, from the repository root, after
 * {@code mvn -q -pl sluice-benchmarks -am package -DskipTests}:
 * <pre>
 * java -cp sluice-benchmarks/target/benchmarks.jar dev.sluice.benchmarks.Pacing \
 *     [seconds=10] [threads=1] [rounds=3] [rates=1000,100000] [limiters=sluice,guava,r4j,r4j-1ms,sluice-1ms]
 * </pre>
 */
public final class Pacing {

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final com.sun.management.OperatingSystemMXBean OS =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private Pacing() {}

  /** One blocking acquire of one permit; throws if the limiter refused. */
  @FunctionalInterface
  interface Pacer {
    void acquire();
  }

  /**
   * Runs every limiter at every rate, {@code rounds} times in turn, and prints a markdown table of
   * every run and one of the medians over the rounds (each column's median on its own).
   *
   * @param args {@code [seconds] [threads] [rounds] [rates] [limiters]}, each with a default
   * @throws InterruptedException if interrupted while joining the threads
   */
  public static void main(String[] args) throws InterruptedException {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 10;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    long[] rates = Arrays.stream((args.length > 3 ? args[3] : "1000,100000").split(","))
        .mapToLong(Long::parseLong).toArray();
    List<String> limiters = Arrays.asList(
        (args.length > 4 ? args[4] : "sluice,guava,r4j,r4j-1ms,sluice-1ms").split(","));
    System.out.printf(Locale.ROOT, "# %d cores, %s %s, load average %.1f, %s s per run, %d thread(s),"
        + " %d round(s)%n", Runtime.getRuntime().availableProcessors(),
        System.getProperty("java.vm.name"), System.getProperty("java.version"),
        OS.getSystemLoadAverage(), seconds, threads, rounds);
    String header = "| limiter | rate/s | permits | achieved/s | error | CPU µs/permit (threads)"
        + " | CPU µs/permit (process) | lateness p50 µs | p99 µs | max µs |\n"
        + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|";
    System.out.println(header);
    List<String> medians = new ArrayList<>();
    for (long rate : rates) {
      for (String name : limiters) {
        run(factory(name), rate, Math.min(seconds, 2), threads); // warm-up, discarded
      }
      List<List<Result>> results = new ArrayList<>();
      limiters.forEach(name -> results.add(new ArrayList<>()));
      for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < limiters.size(); i++) {
          Result r = run(factory(limiters.get(i)), rate, seconds, threads);
          results.get(i).add(r);
          System.out.println(row(limiters.get(i), rate, r));
        }
      }
      for (int i = 0; i < limiters.size(); i++) {
        medians.add(row(limiters.get(i), rate, Result.median(results.get(i))));
      }
    }
    System.out.printf(Locale.ROOT, "%n# medians over %d round(s), load average now %.1f%n", rounds,
        OS.getSystemLoadAverage());
    System.out.println(header);
    medians.forEach(System.out::println);
  }

  private static String row(String name, long rate, Result r) {
    return String.format(Locale.ROOT,
        "| %s | %,d | %,d | %,.1f | %+.3f%% | %.2f | %.2f | %.1f | %.1f | %.1f |",
        name, rate, r.permits, r.achieved, r.error * 100, r.threadCpuPerPermit / 1e3,
        r.processCpuPerPermit / 1e3, r.p50 / 1e3, r.p99 / 1e3, r.max / 1e3);
  }

  static LongFunction<Pacer> factory(String name) {
    switch (name) {
      case "sluice":
        return rate -> {
          TokenBucket bucket = TokenBucket.of(Limit.perSecond(rate).withInitialPermits(1));
          return () -> check(bucket.acquire(1), name);
        };
      case "sluice-1ms":
        // experiment, not an API: Sluice's reservation waited out as Guava waits on JDK 17, where
        // Thread.sleep of less than 1 ms sleeps 1 ms (so each wait is at least 1 ms)
        return rate -> {
          TokenBucket bucket = TokenBucket.of(Limit.perSecond(rate).withInitialPermits(1));
          return () -> {
            Reservation r = bucket.reserve(1, Duration.ofSeconds(10));
            check(r.granted(), name);
            for (long left; (left = r.dueAt() - System.nanoTime()) > 0; ) {
              LockSupport.parkNanos(Math.max(left, 1_000_000L));
            }
          };
        };
      case "guava":
        return rate -> {
          com.google.common.util.concurrent.RateLimiter guava =
              com.google.common.util.concurrent.RateLimiter.create(rate);
          return guava::acquire;
        };
      case "r4j":
        return rate -> resilience4j(Duration.ofNanos(1_000_000_000L / rate), 1, name);
      case "r4j-1ms":
        return rate -> resilience4j(Duration.ofMillis(1), (int) Math.max(1, rate / 1000), name);
      default:
        throw new IllegalArgumentException("limiter (" + name
            + ") must be one of sluice, sluice-1ms, guava, r4j, r4j-1ms");
    }
  }

  private static Pacer resilience4j(Duration period, int perPeriod, String name) {
    AtomicRateLimiter limiter = new AtomicRateLimiter("pacing", RateLimiterConfig.custom()
        .limitRefreshPeriod(period)
        .limitForPeriod(perPeriod)
        .timeoutDuration(Duration.ofSeconds(1))
        .build());
    return () -> check(limiter.acquirePermission(), name);
  }

  private static void check(boolean granted, String name) {
    if (!granted) {
      throw new IllegalStateException(name + " refused a blocking acquire");
    }
  }

  record Result(long permits, double achieved, double error, double threadCpuPerPermit,
      double processCpuPerPermit, double p50, double p99, double max) {

    static Result median(List<Result> rs) {
      return new Result(
          (long) median(rs, r -> r.permits), median(rs, r -> r.achieved), median(rs, r -> r.error),
          median(rs, r -> r.threadCpuPerPermit), median(rs, r -> r.processCpuPerPermit),
          median(rs, r -> r.p50), median(rs, r -> r.p99), median(rs, r -> r.max));
    }

    private static double median(List<Result> rs, ToDoubleFunction<Result> f) {
      double[] v = rs.stream().mapToDouble(f).sorted().toArray();
      return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
  }

  /** The threads' shared start instant; 0 until released. */
  private static volatile long start;

  static Result run(LongFunction<Pacer> factory, long rate, double seconds, int threads)
      throws InterruptedException {
    long durationNanos = (long) (seconds * 1e9);
    int perThread = (int) Math.min(Integer.MAX_VALUE - 8, rate * seconds * 1.1 + 1024);
    long[][] times = new long[threads][perThread];
    int[] counts = new int[threads];
    long[] cpu = new long[threads];
    Pacer[] pacer = new Pacer[1];
    start = 0;
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread worker = new Thread(() -> {
        long t0;
        while ((t0 = start) == 0) {
          Thread.onSpinWait();
        }
        long cpu0 = THREADS.getCurrentThreadCpuTime();
        long end = t0 + durationNanos;
        long[] mine = times[id];
        Pacer p = pacer[0];
        int n = 0;
        while (System.nanoTime() - end < 0 && n < mine.length) {
          p.acquire();
          long now = System.nanoTime();
          if (now - end >= 0) {
            break;
          }
          mine[n++] = now;
        }
        counts[id] = n;
        cpu[id] = THREADS.getCurrentThreadCpuTime() - cpu0;
      }, "pacing-" + t);
      workers.add(worker);
      worker.start();
    }
    long process0 = OS.getProcessCpuTime();
    long t0;
    do { // created at or after t0, so its first permit is not before t0; and built within 100 µs
      t0 = System.nanoTime(); // (else a descheduled build would make every permit look late)
      pacer[0] = factory.apply(rate);
    } while (System.nanoTime() - t0 > 100_000);
    start = t0; // volatile write: publishes pacer[0] to the workers
    for (Thread worker : workers) {
      worker.join();
    }
    long processCpu = OS.getProcessCpuTime() - process0;
    long permits = 0;
    long threadCpu = 0;
    for (int t = 0; t < threads; t++) {
      permits += counts[t];
      threadCpu += cpu[t];
    }
    long[] all = new long[(int) permits];
    int at = 0;
    for (int t = 0; t < threads; t++) {
      System.arraycopy(times[t], 0, all, at, counts[t]);
      at += counts[t];
    }
    Arrays.sort(all);
    double interval = 1e9 / rate;
    double[] late = new double[all.length];
    for (int i = 0; i < all.length; i++) {
      late[i] = (all[i] - t0) - i * interval;
    }
    Arrays.sort(late);
    double achieved = permits / (durationNanos / 1e9);
    return new Result(permits, achieved, achieved / rate - 1,
        (double) threadCpu / permits, (double) processCpu / permits,
        percentile(late, 0.50), percentile(late, 0.99), late[late.length - 1]);
  }

  private static double percentile(double[] sorted, double q) {
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  }
}
