package dev.sluice.redis;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.RateLimiter;
import dev.sluice.Ticker;
import dev.sluice.spi.RateStore;
import dev.sluice.spi.RateStoreFactory;
import dev.sluice.spi.StoreUnavailableException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One app node of {@link ClusterWideBoundTest}, run in its own JVM (or, as {@link Node} and
 * {@link Hammer}, in the test's): a limiter on Redis with a ticker skewed by the given
 * nanoseconds. It prints {@code READY} once Redis has decided one of its requests (a cold JVM
 * on a loaded machine may take seconds to connect), or {@code UNREADY <reason>} if that did not
 * happen within a minute; then it hammers one key from several threads between the lines
 * {@code GO} and {@code STOP} on its standard input, and prints its {@link Hammer#report()}.
 *
 * <p>Arguments: uri, limiter name, key, permits, period in ms, capacity, skew in ns, threads.
 */
public final class BoundNode {

  static final Duration DEADLINE = Duration.ofSeconds(2);
  static final Duration READY_WITHIN = Duration.ofSeconds(60);

  private BoundNode() {}

  /**
   * Runs the node.
   *
   * @param args see the class comment
   * @throws Exception on any failure (the test then fails)
   */
  public static void main(String[] args) throws Exception {
    Limit limit = Limit.of(Long.parseLong(args[3]), Duration.ofMillis(Long.parseLong(args[4])))
        .withCapacity(Long.parseLong(args[5]));
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try (Node node = new Node(args[0], args[1], limit, Long.parseLong(args[6]))) {
      String unready = node.awaitReady();
      System.out.println(unready == null ? "READY" : "UNREADY " + unready);
      System.out.flush();
      if (unready != null || !"GO".equals(in.readLine())) {
        return;
      }
      Hammer hammer = new Hammer(node, args[2], Integer.parseInt(args[7]));
      hammer.start(System.nanoTime());
      in.readLine(); // STOP, or the end of the input
      hammer.stop();
      System.out.println(hammer.report());
      System.out.flush();
    }
  }

  /** A limiter on its own factory (its own connection), failing closed. */
  static final class Node implements AutoCloseable {
    final RateLimiter<String> limiter;
    final Limit limit;
    private final RedisStore.Factory factory;
    private final AtomicReference<RedisStore<String>> store = new AtomicReference<>();

    Node(String uri, String name, Limit limit, long skew) {
      this.limit = limit;
      factory = RedisStore.factory(uri).deadline(DEADLINE);
      RateStoreFactory capturing = new RateStoreFactory() {
        @Override
        public <K> RateStore<K> create(String n, Policy policy, Ticker ticker) {
          RedisStore<K> s = factory.create(n, policy, ticker);
          @SuppressWarnings("unchecked")
          RedisStore<String> typed = (RedisStore<String>) s;
          store.set(typed);
          return s;
        }
      };
      limiter = RateLimiter.builder(limit).name(name).store(capturing)
          .ticker(() -> System.nanoTime() + skew).failureMode(FailureMode.CLOSED).build();
    }

    /**
     * Asks Redis (on another key) until it decides once, within {@link #READY_WITHIN}.
     *
     * @return null once ready, else the last failure
     */
    String awaitReady() {
      long end = System.nanoTime() + READY_WITHIN.toNanos();
      String last = "no attempt";
      while (System.nanoTime() - end < 0) {
        try {
          store.get().decide("warm-up", 1);
          return null;
        } catch (StoreUnavailableException e) {
          last = e.getMessage();
          LockSupport.parkNanos(20_000_000L);
        }
      }
      return last;
    }

    /** Calls that may have taken permits in Redis without the caller learning it. */
    long ambiguous() {
      Stats stats = store.get().stats;
      return stats.timeouts.get() + stats.errors.get();
    }

    @Override
    public void close() {
      limiter.close();
      factory.close();
    }
  }

  /**
   * Threads calling {@code decide(key, 1)} until stopped, counting decisions by where they came
   * from, and each recording what its decisions vouch for ({@link Coverage}).
   */
  static final class Hammer {
    final AtomicLong admitted = new AtomicLong();
    /** Decisions by the store (Redis, or the deny cache on Redis's word). */
    final AtomicLong decided = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong calls = new AtomicLong();
    private final List<Coverage> coverage = new ArrayList<>();
    private final Node node;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;
    private volatile long runStart;

    Hammer(Node node, String key, int count) {
      this.node = node;
      Limit limit = node.limit;
      for (int t = 0; t < count; t++) {
        Coverage c = new Coverage(limit.capacity(), limit.refillPermits(),
            limit.refillPeriod().toNanos());
        coverage.add(c);
        threads.add(new Thread(() -> {
          c.begin(runStart);
          while (running) {
            long start = System.nanoTime();
            Decision d = node.limiter.decide(key, 1);
            long end = System.nanoTime();
            calls.incrementAndGet();
            if (d.source() != Decision.Source.STORE && d.source() != Decision.Source.DENY_CACHE) {
              failed.incrementAndGet();
            } else {
              decided.incrementAndGet();
              c.decided(start, end, d);
              if (d.allowed()) {
                admitted.incrementAndGet();
              }
            }
            // as fast as it can, but let runnable threads (Lettuce's I/O) go first
            Thread.yield();
          }
        }, "hammer"));
      }
    }

    /** Starts the threads; {@code runStart} (nanoTime) is where the run began, for all nodes. */
    void start(long runStart) {
      this.runStart = runStart;
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

    /** What each thread vouched for ({@link Coverage}); read after {@link #stop()}. */
    List<Coverage> coverage() {
      return coverage;
    }

    /** What this node did: {@code ADMITTED a DECIDED d FAILED f CALLS c AMBIGUOUS x}. */
    String report() {
      return "ADMITTED " + admitted.get() + " DECIDED " + decided.get() + " FAILED " + failed.get()
          + " CALLS " + calls.get() + " AMBIGUOUS " + node.ambiguous();
    }
  }
}
