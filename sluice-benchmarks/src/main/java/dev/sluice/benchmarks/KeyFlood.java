package dev.sluice.benchmarks;

import java.lang.ref.Reference;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A flood of distinct keys, as from an attacker spraying client ids: {@code T} "attacker" keys
 * (default 1,000) first drain their buckets (100 per day, so they stay throttled for the whole
 * run), then {@code F} fresh keys (default 10,000,000) take one permit each. Reports, per
 * implementation: the time per flood decision, keys held, evictions, the heap after a full GC,
 * and how many of the throttled keys are still throttled afterwards (an evicted throttled key comes
 * back with a fresh, full bucket: the attacker reset its own limit).
 *
 * <p>Run, from the repository root, one JVM per implementation (an unbounded one may run out of
 * heap, which is reported, not hidden):
 * <pre>
 * for impl in sluice sluice-caffeine-store bucket4j-caffeine; do
 *   java -Xms2g -Xmx2g -XX:+AlwaysPreTouch -cp sluice-benchmarks/target/benchmarks.jar \
 *       dev.sluice.benchmarks.KeyFlood $impl [floodKeys] [throttledKeys]
 * done
 * </pre>
 */
public final class KeyFlood {

  private KeyFlood() {}

  /**
   * Floods one implementation (or each named, in this JVM) and prints one line each.
   *
   * @param args {@code impl [floodKeys] [throttledKeys]}
   */
  public static void main(String[] args) {
    List<String> impls = args.length > 0
        ? Arrays.asList(args[0].split(","))
        : List.of(KeyedLimiter.SLUICE);
    long flood = args.length > 1 ? Long.parseLong(args[1]) : 10_000_000L;
    int throttled = args.length > 2 ? Integer.parseInt(args[2]) : 1_000;
    System.out.println("| store | flood keys | ns per key | keys held | evictions | heap after GC (MiB)"
        + " | throttled keys still throttled |");
    System.out.println("|---|---:|---:|---:|---:|---:|---:|");
    for (String impl : impls) {
      run(impl, flood, throttled);
    }
  }

  private static void run(String impl, long flood, int throttled) {
    long heapBefore = MemoryPerKey.usedHeapAfterGc();
    KeyedLimiter limiter = KeyedLimiter.create(impl, Rate.IDLE);
    String[] attackers = new String[throttled];
    for (int i = 0; i < throttled; i++) {
      attackers[i] = "attacker-" + i;
      int taken = 0;
      while (limiter.tryAcquire(attackers[i])) {
        taken++;
      }
      if (taken != Rate.IDLE.capacity()) {
        throw new IllegalStateException(impl + ": " + attackers[i] + " took " + taken);
      }
    }
    long admitted = 0;
    long done = 0;
    long start = System.nanoTime();
    String failure = "";
    try {
      for (; done < flood; done++) {
        if (limiter.tryAcquire("flood-" + done)) {
          admitted++;
        }
      }
    } catch (OutOfMemoryError e) {
      failure = "  OutOfMemoryError after " + done + " keys";
    }
    long nanos = System.nanoTime() - start;
    limiter.cleanUp();
    long heap = MemoryPerKey.usedHeapAfterGc() - heapBefore;
    int stillThrottled = 0;
    for (String attacker : attackers) {
      if (!limiter.tryAcquire(attacker)) {
        stillThrottled++;
      }
    }
    if (admitted != done) {
      failure += "  (" + (done - admitted) + " fresh keys denied)";
    }
    System.out.printf(Locale.ROOT, "| %s | %d | %.0f | %d | %s | %.1f | %d / %d |%s%n", impl, done,
        done == 0 ? 0.0 : (double) nanos / done, limiter.size(),
        limiter.evictions() < 0 ? "n/a" : Long.toString(limiter.evictions()),
        heap / 1048576.0, stillThrottled, throttled, failure);
    Reference.reachabilityFence(limiter);
  }
}
