package dev.sluice.benchmarks;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;

/**
 * {@link KeyedBenchmark}'s comparison as a paired loop, for a machine that other work is loading
 * (see {@link PairedSingleBucket}): all implementations hold the same 100,000 keys in one JVM and
 * run in short rotating rounds over the same random order; it reports each one's median and 10th
 * percentile round and the median per-round ratio to Sluice. The call through
 * {@link KeyedLimiter} is megamorphic here (a few ns, against hundreds per decision); JMH, one
 * implementation per fork, is the reference.
 *
 * <pre>
 * java -Xms2g -Xmx2g -XX:+AlwaysPreTouch -cp sluice-benchmarks/target/benchmarks.jar \
 *     dev.sluice.benchmarks.PairedKeyed [rounds] [opsPerRound]
 * </pre>
 */
public final class PairedKeyed {

  private static final List<String> IMPLS = List.of(KeyedLimiter.SLUICE,
      KeyedLimiter.SLUICE_CAFFEINE, KeyedLimiter.BUCKET4J_CHM, KeyedLimiter.BUCKET4J_CAFFEINE,
      KeyedLimiter.GUAVA_CHM);

  private PairedKeyed() {}

  /**
   * Runs both limits and both thread counts and prints one table each.
   *
   * @param args {@code [rounds] [opsPerRound]}
   * @throws Exception if a worker fails
   */
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 40;
    int ops = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    String[] keys = KeyedBenchmark.keys(KeyedBenchmark.KEYS);
    SplittableRandom random = new SplittableRandom(42);
    int[] order = new int[1 << 20];
    for (int i = 0; i < order.length; i++) {
      order[i] = random.nextInt(keys.length);
    }
    System.out.printf(Locale.ROOT, "%d rounds of %,d decisions per thread per implementation%n",
        rounds, ops);
    for (String limit : new String[] {"steady", "100/s"}) {
      for (int threads = 1; threads <= 2; threads++) {
        run(limit, threads, rounds, ops, keys, order);
      }
    }
  }

  private static void run(String limit, int threads, int rounds, int ops, String[] keys,
      int[] order) throws Exception {
    Rate rate = limit.equals("steady") ? Rate.STEADY : Rate.HUNDRED_PER_SECOND;
    KeyedLimiter[] limiters = new KeyedLimiter[IMPLS.size()];
    for (int v = 0; v < limiters.length; v++) {
      limiters[v] = KeyedLimiter.create(IMPLS.get(v), rate);
      for (String key : keys) {
        limiters[v].tryAcquire(key);
      }
    }
    double[][] ns = new double[limiters.length][rounds];
    long[] sink = new long[threads];
    double[] perThread = new double[threads];
    int[] current = new int[1];
    int[] cursor = new int[threads];
    CyclicBarrier start = new CyclicBarrier(threads + 1);
    CyclicBarrier end = new CyclicBarrier(threads + 1);
    int warm = 5;
    int total = warm + rounds;
    Thread[] workers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      int id = t;
      cursor[t] = t * (order.length / 2);
      workers[t] = new Thread(() -> {
        try {
          for (int r = 0; r < total * limiters.length; r++) {
            start.await();
            KeyedLimiter l = limiters[current[0]];
            int mask = order.length - 1;
            int c = cursor[id];
            long s = 0;
            long t0 = System.nanoTime();
            for (int i = 0; i < ops; i++) {
              s += l.tryAcquire(keys[order[(c + i) & mask]]) ? 1 : 0;
            }
            perThread[id] = (double) (System.nanoTime() - t0) / ops;
            sink[id] += s;
            end.await();
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, "paired-" + t);
      workers[t].start();
    }
    for (int r = 0; r < total; r++) {
      for (int v = 0; v < limiters.length; v++) {
        int which = (r + v) % limiters.length;
        current[0] = which;
        start.await();
        end.await();
        if (r >= warm) {
          ns[which][r - warm] = Arrays.stream(perThread).sum() / threads;
        }
      }
      for (int t = 0; t < threads; t++) {
        cursor[t] += ops;
      }
    }
    for (Thread w : workers) {
      w.join();
    }
    System.out.printf(Locale.ROOT, "%nkeyed %s, %d thread(s), ns per decision (per thread):%n",
        limit, threads);
    System.out.printf(Locale.ROOT, "%-24s %9s %9s %14s%n", "implementation", "median", "p10",
        "ratio/sluice");
    for (int v = 0; v < limiters.length; v++) {
      double[] ratios = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        ratios[r] = ns[v][r] / ns[0][r];
      }
      System.out.printf(Locale.ROOT, "%-24s %9.1f %9.1f %14.2f%n", IMPLS.get(v),
          percentile(ns[v], 50), percentile(ns[v], 10), percentile(ratios, 50));
    }
    if (Arrays.stream(sink).sum() == 42) {
      System.out.println();
    }
  }

  private static double percentile(double[] values, int p) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[Math.min(sorted.length - 1, sorted.length * p / 100)];
  }
}
