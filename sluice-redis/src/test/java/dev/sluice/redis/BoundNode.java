package dev.sluice.redis;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.RateLimiter;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One app node of {@link ClusterWideBoundTest}, run in its own JVM: a limiter on Redis with a
 * ticker skewed by the given nanoseconds, hammering one key from several threads between the
 * lines {@code GO} and {@code STOP} on its standard input, then printing what it admitted.
 *
 * <p>Arguments: uri, limiter name, key, permits, period in ms, capacity, skew in ns, threads.
 */
public final class BoundNode {

  private BoundNode() {}

  /**
   * Runs the node.
   *
   * @param args see the class comment
   * @throws Exception on any failure (the test then fails)
   */
  public static void main(String[] args) throws Exception {
    String uri = args[0];
    String name = args[1];
    String key = args[2];
    Limit limit = Limit.of(Long.parseLong(args[3]), Duration.ofMillis(Long.parseLong(args[4])))
        .withCapacity(Long.parseLong(args[5]));
    long skew = Long.parseLong(args[6]);
    int threads = Integer.parseInt(args[7]);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    RedisStore.Factory factory = RedisStore.factory(uri).deadline(Duration.ofMillis(500));
    try (RateLimiter<String> limiter = RateLimiter.builder(limit).name(name).store(factory)
        .ticker(() -> System.nanoTime() + skew).failureMode(FailureMode.CLOSED).build()) {
      limiter.decide("warm-up", 1);
      System.out.println("READY");
      System.out.flush();
      if (!"GO".equals(in.readLine())) {
        return;
      }
      Hammer hammer = new Hammer(limiter, key, threads);
      hammer.start();
      in.readLine(); // STOP, or the end of the input
      hammer.stop();
      System.out.println("ADMITTED " + hammer.admitted.get() + " FAILED " + hammer.failed.get()
          + " CALLS " + hammer.calls.get());
      System.out.flush();
    } finally {
      factory.close();
    }
  }

  /** Threads calling {@code decide(key, 1)} as fast as they can until stopped. */
  static final class Hammer {
    final AtomicLong admitted = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong calls = new AtomicLong();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;

    Hammer(RateLimiter<String> limiter, String key, int count) {
      for (int t = 0; t < count; t++) {
        threads.add(new Thread(() -> {
          while (running) {
            Decision d = limiter.decide(key, 1);
            calls.incrementAndGet();
            if (d.source() != Decision.Source.STORE) {
              failed.incrementAndGet();
            } else if (d.allowed()) {
              admitted.incrementAndGet();
            }
          }
        }, "hammer"));
      }
    }

    void start() {
      for (Thread t : threads) {
        t.start();
      }
    }

    void stop() throws InterruptedException {
      running = false;
      for (Thread t : threads) {
        t.join();
      }
    }
  }
}
