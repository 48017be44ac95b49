package dev.sluice.benchmarks;

import dev.sluice.TokenBucket;
import io.github.bucket4j.Bucket;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;

/**
 * {@link SingleBucketBenchmark}'s comparison as a paired loop, for a machine that other work is
 * loading: in one JVM, every implementation runs in short rounds, in rotating order, so load that
 * changes more slowly than a round hits them all alike; per implementation it reports the median
 * and the 10th percentile of its rounds and the median of the per-round ratios to
 * {@code System.nanoTime()} and to Sluice. Each implementation has its own loop method (a direct,
 * monomorphic call, as in the JMH benchmark); the loops sum their results so nothing is
 * eliminated. JMH on a quiet machine is the reference; this is the cross-check when no machine is
 * quiet.
 *
 * <pre>
 * java -Xms2g -Xmx2g -XX:+AlwaysPreTouch -cp sluice-benchmarks/target/benchmarks.jar \
 *     dev.sluice.benchmarks.PairedSingleBucket [rounds] [opsPerRound]
 * </pre>
 */
public final class PairedSingleBucket {

  private static final String[] NAMES = {
    "nanoTime", "sluice", "bucket4jLockFree", "bucket4jSynchronized", "guava", "resilience4j"
  };

  private PairedSingleBucket() {}

  /**
   * Runs every path and thread count and prints one table each.
   *
   * @param args {@code [rounds] [opsPerRound]}
   * @throws Exception if a worker fails
   */
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 150;
    int ops = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
    System.out.printf(Locale.ROOT, "%d rounds of %,d decisions per thread per implementation%n",
        rounds, ops);
    for (String path : new String[] {"allowed", "denied"}) {
      for (int threads = 1; threads <= 2; threads++) {
        run(path, threads, rounds, ops);
      }
    }
  }

  private static void run(String path, int threads, int rounds, int ops) throws Exception {
    SingleBucketBenchmark b = new SingleBucketBenchmark();
    b.path = path;
    b.setUp();
    double[][] ns = new double[NAMES.length][rounds];
    long[] sink = new long[threads];
    double[] perThread = new double[threads];
    int[] current = new int[1];
    CyclicBarrier start = new CyclicBarrier(threads + 1);
    CyclicBarrier end = new CyclicBarrier(threads + 1);
    int total = 10 + rounds; // 10 warm-up rounds
    Thread[] workers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      int id = t;
      workers[t] = new Thread(() -> {
        try {
          for (int r = 0; r < total * NAMES.length; r++) {
            start.await();
            long t0 = System.nanoTime();
            sink[id] += loop(b, current[0], ops);
            perThread[id] = (double) (System.nanoTime() - t0) / ops;
            end.await();
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, "paired-" + t);
      workers[t].start();
    }
    for (int r = 0; r < total; r++) {
      for (int v = 0; v < NAMES.length; v++) {
        int which = (r + v) % NAMES.length;
        current[0] = which;
        start.await();
        end.await();
        if (r >= 10) {
          double sum = 0;
          for (double p : perThread) {
            sum += p;
          }
          ns[which][r - 10] = sum / threads;
        }
      }
    }
    for (Thread w : workers) {
      w.join();
    }
    System.out.printf(Locale.ROOT, "%n%s path, %d thread(s), ns per decision (per thread):%n",
        path, threads);
    System.out.printf(Locale.ROOT, "%-22s %9s %9s %14s %14s%n", "implementation", "median", "p10",
        "ratio/nanoTime", "ratio/sluice");
    for (int v = 0; v < NAMES.length; v++) {
      System.out.printf(Locale.ROOT, "%-22s %9.1f %9.1f %14.2f %14.2f%n", NAMES[v],
          percentile(ns[v], 50), percentile(ns[v], 10), medianRatio(ns[v], ns[0]),
          medianRatio(ns[v], ns[1]));
    }
    if (Arrays.stream(sink).sum() == 42) {
      System.out.println();
    }
  }

  private static long loop(SingleBucketBenchmark b, int which, int ops) {
    switch (which) {
      case 0:
        return nanoTime(ops);
      case 1:
        return sluice(b.sluice, ops);
      case 2:
        return bucket4j(b.bucket4jLockFree, ops);
      case 3:
        return bucket4jSynchronized(b.bucket4jSynchronized, ops);
      case 4:
        return guava(b.guava, ops);
      default:
        return resilience4j(b.resilience4j, ops);
    }
  }

  private static long nanoTime(int ops) {
    long s = 0;
    for (int i = 0; i < ops; i++) {
      s += System.nanoTime();
    }
    return s;
  }

  private static long sluice(TokenBucket bucket, int ops) {
    long s = 0;
    for (int i = 0; i < ops; i++) {
      s += bucket.tryAcquire() ? 1 : 0;
    }
    return s;
  }

  private static long bucket4j(Bucket bucket, int ops) {
    long s = 0;
    for (int i = 0; i < ops; i++) {
      s += bucket.tryConsume(1) ? 1 : 0;
    }
    return s;
  }

  // A second copy, so that the lock-free and synchronized buckets each get their own loop profile.
  private static long bucket4jSynchronized(Bucket bucket, int ops) {
    long s = 0;
    for (int i = 0; i < ops; i++) {
      s += bucket.tryConsume(1) ? 1 : 0;
    }
    return s;
  }

  private static long guava(com.google.common.util.concurrent.RateLimiter limiter, int ops) {
    long s = 0;
    for (int i = 0; i < ops; i++) {
      s += limiter.tryAcquire() ? 1 : 0;
    }
    return s;
  }

  private static long resilience4j(AtomicRateLimiter limiter, int ops) {
    long s = 0;
    for (int i = 0; i < ops; i++) {
      s += limiter.acquirePermission() ? 1 : 0;
    }
    return s;
  }

  private static double percentile(double[] values, int p) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[Math.min(sorted.length - 1, sorted.length * p / 100)];
  }

  private static double medianRatio(double[] a, double[] b) {
    double[] r = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = a[i] / b[i];
    }
    return percentile(r, 50);
  }
}
