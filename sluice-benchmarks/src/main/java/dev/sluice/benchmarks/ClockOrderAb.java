package dev.sluice.benchmarks;

import dev.sluice.InMemoryStore;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The clock-order experiment of {@link ClockOrderBenchmark} as a paired A/B loop, for a noisy
 * machine: the stores run in alternating rounds in one JVM over the same keys and the same random
 * order, so background load that changes slowly hits all of them alike; it reports each store's
 * median and best round and the median of the per-round ratios to the first store. Not JMH: use it
 * to decide where to look, and JMH on a quiet machine to confirm.
 *
 * <pre>
 * java -Xms2g -Xmx2g -XX:+AlwaysPreTouch -cp sluice-benchmarks/target/benchmarks.jar \
 *     dev.sluice.benchmarks.ClockOrderAb [rounds] [opsPerRound]
 * </pre>
 */
public final class ClockOrderAb {

  private ClockOrderAb() {}

  /**
   * Runs the rounds and prints one line per store.
   *
   * @param args {@code [rounds] [opsPerRound]}
   */
  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
    int ops = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
    String[] keys = KeyedBenchmark.keys(KeyedBenchmark.KEYS);
    SplittableRandom random = new SplittableRandom(42);
    int[] order = new int[1 << 20];
    for (int i = 0; i < order.length; i++) {
      order[i] = random.nextInt(keys.length);
    }
    Policy policy = Policy.of(KeyedLimiter.sluiceLimit(Rate.STEADY));
    String[] names = {"clock-first", "clock-after-lookup", "shipped"};
    List<RateStore<String>> stores = List.of(
        new ClockOrderStore<>(policy, Ticker.system(), true),
        new ClockOrderStore<>(policy, Ticker.system(), false),
        InMemoryStore.factory().create("ab", policy, Ticker.system()));
    for (RateStore<String> s : stores) {
      for (String key : keys) {
        s.tryAcquire(key, policy, 1);
      }
    }
    double[][] ns = new double[stores.size()][rounds];
    int cursor = 0;
    long sink = 0;
    for (int warm = 0; warm < 5; warm++) {
      for (RateStore<String> s : stores) {
        sink += run(s, policy, keys, order, cursor, ops);
      }
    }
    for (int r = 0; r < rounds; r++) {
      for (int v = 0; v < stores.size(); v++) {
        int which = (r + v) % stores.size(); // rotate who goes first
        long start = System.nanoTime();
        sink += run(stores.get(which), policy, keys, order, cursor, ops);
        ns[which][r] = (double) (System.nanoTime() - start) / ops;
      }
      cursor += ops;
    }
    System.out.printf(Locale.ROOT, "%-20s %10s %10s %16s%n", "store", "median ns", "best ns",
        "median ratio/" + names[0]);
    for (int v = 0; v < stores.size(); v++) {
      double[] ratios = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        ratios[r] = ns[v][r] / ns[0][r];
      }
      System.out.printf(Locale.ROOT, "%-20s %10.1f %10.1f %16.3f%n", names[v], median(ns[v]),
          Arrays.stream(ns[v]).min().orElse(0), median(ratios));
    }
    if (sink == 42) {
      System.out.println();
    }
  }

  private static long run(
      RateStore<String> store, Policy policy, String[] keys, int[] order, int from, int ops) {
    long admitted = 0;
    int mask = order.length - 1;
    for (int i = 0; i < ops; i++) {
      if (store.tryAcquire(keys[order[(from + i) & mask]], policy, 1)) {
        admitted++;
      }
    }
    return admitted;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
