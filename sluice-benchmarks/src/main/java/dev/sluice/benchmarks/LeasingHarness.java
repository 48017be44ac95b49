package dev.sluice.benchmarks;

import dev.sluice.Decision;
import dev.sluice.Limit;
import dev.sluice.RateLimiter;
import dev.sluice.redis.RedisStore;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Leasing of hot keys on Redis ({@code RedisStore.Factory.leasing}), measured: one hot key, a
 * limit far above the demand (10<sup>7</sup> per second), {@code threads} threads deciding as
 * fast as they can for {@code seconds}, once without leasing and once with (a lease life of 1 s).
 * Prints, per mode: decisions per second, Redis calls per decision (the {@code EVALSHA} and
 * {@code EVAL} calls of Redis's {@code INFO commandstats} over the run, so the heartbeat counts
 * too), the share of decisions served from leases, and the p50 and p99 latency of a decision,
 * overall and of those served from a lease (every 16th decision timed).
 *
 * <p>Needs a Redis at {@code -Dsluice.redis.uri} (default {@code redis://127.0.0.1:6379}); see
 * {@link RedisBenchmark} for one to start. Run, from the repository root:
 * <pre>
 * java -Dsluice.redis.uri=redis://127.0.0.1:6399 -cp sluice-benchmarks/target/benchmarks.jar \
 *     dev.sluice.benchmarks.LeasingHarness [seconds] [threads]
 * </pre>
 * Redis, Lettuce's I/O thread and the deciding threads share the machine's cores: compare the
 * rows of one run only.
 */
public final class LeasingHarness {

  private static final int SAMPLE_EVERY = 16;

  private LeasingHarness() {}

  /**
   * Runs both modes and prints a table.
   *
   * @param args {@code [seconds] [threads]} (default 5 and 2)
   */
  public static void main(String[] args) throws InterruptedException {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    String uri = System.getProperty("sluice.redis.uri", "redis://127.0.0.1:6379");
    System.out.println("| mode | decisions/s | Redis calls per decision | from leases | p50 µs"
        + " | p99 µs | p99 µs, leased |");
    System.out.println("|---|---:|---:|---:|---:|---:|---:|");
    RedisClient client = RedisClient.create(uri);
    try (StatefulRedisConnection<String, String> info = client.connect()) {
      for (boolean leasing : new boolean[] {false, true}) {
        run(uri, info, leasing, seconds, threads);
      }
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    }
  }

  private static void run(String uri, StatefulRedisConnection<String, String> info,
      boolean leasing, int seconds, int threads) throws InterruptedException {
    RedisStore.Factory factory = RedisStore.factory(uri);
    if (leasing) {
      factory = factory.leasing(Duration.ofSeconds(1));
    }
    String name = "leasing-harness-" + ThreadLocalRandom.current().nextInt(1 << 30);
    try (RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10_000_000))
        .name(name).store(factory).build()) {
      // warm up: connection, script, and (with leasing) the key turns hot
      for (int i = 0; i < 20_000; i++) {
        limiter.decide("hot", 1);
      }
      long calls = scriptCalls(info.sync().info("commandstats"));
      long[] decisions = new long[threads];
      long[] leased = new long[threads];
      List<long[]> all = new ArrayList<>();
      List<long[]> fromLeases = new ArrayList<>();
      int[] counts = new int[threads];
      int[] leasedCounts = new int[threads];
      long end = System.nanoTime() + seconds * 1_000_000_000L;
      CountDownLatch done = new CountDownLatch(threads);
      long start = System.nanoTime();
      for (int t = 0; t < threads; t++) {
        int me = t;
        long[] samples = new long[1 << 20];
        long[] leaseSamples = new long[1 << 20];
        all.add(samples);
        fromLeases.add(leaseSamples);
        Thread thread = new Thread(() -> {
          long n = 0;
          long l = 0;
          int c = 0;
          int lc = 0;
          while (true) {
            boolean timed = (n & (SAMPLE_EVERY - 1)) == 0;
            long t0 = timed ? System.nanoTime() : 0;
            Decision d = limiter.decide("hot", 1);
            boolean fromLease = d.source() == Decision.Source.LEASE;
            if (timed) {
              long t1 = System.nanoTime();
              if (c < samples.length) {
                samples[c++] = t1 - t0;
              }
              if (fromLease && lc < leaseSamples.length) {
                leaseSamples[lc++] = t1 - t0;
              }
              if (t1 - end >= 0) {
                break;
              }
            }
            n++;
            if (fromLease) {
              l++;
            }
          }
          decisions[me] = n;
          leased[me] = l;
          counts[me] = c;
          leasedCounts[me] = lc;
          done.countDown();
        }, "leasing-harness-" + t);
        thread.start();
      }
      done.await();
      double elapsed = (System.nanoTime() - start) / 1e9;
      long redisCalls = scriptCalls(info.sync().info("commandstats")) - calls;
      long total = Arrays.stream(decisions).sum();
      long totalLeased = Arrays.stream(leased).sum();
      long[] lat = merge(all, counts);
      long[] leaseLat = merge(fromLeases, leasedCounts);
      System.out.printf(Locale.ROOT, "| %s | %,.0f | %.2g (%,d for %,d) | %.3f%% | %.1f | %.1f | %s |%n",
          leasing ? "leasing 1 s" : "no leasing", total / elapsed, (double) redisCalls / total,
          redisCalls, total, 100.0 * totalLeased / total, pct(lat, 0.50) / 1e3, pct(lat, 0.99) / 1e3,
          leaseLat.length == 0 ? "–" : String.format(Locale.ROOT, "%.2f", pct(leaseLat, 0.99) / 1e3));
    } finally {
      factory.close();
    }
  }

  private static long[] merge(List<long[]> samples, int[] counts) {
    int n = Arrays.stream(counts).sum();
    long[] out = new long[n];
    int at = 0;
    for (int i = 0; i < counts.length; i++) {
      System.arraycopy(samples.get(i), 0, out, at, counts[i]);
      at += counts[i];
    }
    Arrays.sort(out);
    return out;
  }

  private static double pct(long[] sorted, double p) {
    return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, p * sorted.length)];
  }

  /** The {@code EVALSHA} and {@code EVAL} calls in an {@code INFO commandstats} reply. */
  private static long scriptCalls(String info) {
    long calls = 0;
    for (String line : info.split("\r?\n")) {
      if (line.startsWith("cmdstat_evalsha:calls=") || line.startsWith("cmdstat_eval:calls=")) {
        String v = line.substring(line.indexOf('=') + 1);
        calls += Long.parseLong(v.substring(0, v.indexOf(',')));
      }
    }
    return calls;
  }
}
