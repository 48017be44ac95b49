package dev.sluice.benchmarks;

import java.lang.ref.Reference;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.openjdk.jol.info.GraphLayout;

/**
 * Retained memory per idle key: {@code n} keys (default 100,000) each take one permit of a
 * 100-per-day limit (so no bucket is full and none may be dropped), then the limiter's reachable
 * graph is measured with JOL, minus the key Strings themselves (the caller's, and the same for
 * everyone), minus the same limiter with no keys; divided by {@code n}. A second figure, the heap
 * delta after {@code System.gc()}, cross-checks it (keys excluded too: they exist before the
 * baseline).
 *
 * <p>Run, from the repository root (all implementations, or the ones named):
 * <pre>
 * java -Xms2g -Xmx2g -XX:+AlwaysPreTouch -Djdk.attach.allowAttachSelf=true \
 *     -cp sluice-benchmarks/target/benchmarks.jar \
 *     dev.sluice.benchmarks.MemoryPerKey [n] [impl ...]
 * </pre>
 */
public final class MemoryPerKey {

  private MemoryPerKey() {}

  /**
   * Prints bytes per idle key for each implementation.
   *
   * @param args {@code [n] [impl ...]}
   */
  public static void main(String[] args) {
    // JOL cannot take field offsets of records and hidden classes through Unsafe on JDK 17
    // without this (Caffeine's graph reaches lambdas); it must be set before JOL starts.
    if (System.getProperty("jol.magicFieldOffset") == null) {
      System.setProperty("jol.magicFieldOffset", "true");
    }
    int n = args.length > 0 ? Integer.parseInt(args[0]) : KeyedBenchmark.KEYS;
    List<String> impls = args.length > 1
        ? Arrays.asList(args).subList(1, args.length)
        : List.of(KeyedLimiter.SLUICE, KeyedLimiter.SLUICE_CAFFEINE, KeyedLimiter.BUCKET4J_CHM,
            KeyedLimiter.BUCKET4J_CAFFEINE, KeyedLimiter.GUAVA_CHM);
    String[] keys = KeyedBenchmark.keys(n);
    GraphLayout keyGraph = GraphLayout.parseInstance((Object) keys);
    System.out.println("| limiter (" + n + " idle keys) | bytes per key (JOL) | heap delta per key |");
    System.out.println("|---|---:|---:|");
    for (String impl : impls) {
      KeyedLimiter empty = KeyedLimiter.create(impl, Rate.IDLE);
      long emptyBytes = GraphLayout.parseInstance(empty.root()).subtract(keyGraph).totalSize();

      long heapBefore = usedHeapAfterGc();
      KeyedLimiter limiter = KeyedLimiter.create(impl, Rate.IDLE);
      for (String key : keys) {
        if (!limiter.tryAcquire(key)) {
          throw new IllegalStateException(impl + " denied " + key);
        }
      }
      limiter.cleanUp();
      long heapAfter = usedHeapAfterGc();
      long bytes = GraphLayout.parseInstance(limiter.root()).subtract(keyGraph).totalSize();
      if (limiter.size() != n) {
        throw new IllegalStateException(impl + " holds " + limiter.size() + " keys, not " + n);
      }
      System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f |%n", impl,
          (double) (bytes - emptyBytes) / n, (double) (heapAfter - heapBefore) / n);
      Reference.reachabilityFence(limiter);
      Reference.reachabilityFence(empty);
    }
  }

  static long usedHeapAfterGc() {
    Runtime rt = Runtime.getRuntime();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      used = Math.min(used, rt.totalMemory() - rt.freeMemory());
    }
    return used;
  }
}
