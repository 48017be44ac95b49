package dev.sluice.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.RateLimiter;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Redis slow by 2 s on every command (a {@link ChaosProxy} holding each one), under 1,000
 * requests per second for 5 s against a 50 ms deadline: the callers never wait for Redis. The
 * figures: p99 of the time from call to answer at most the deadline + 20 ms, the slowest at most
 * the deadline + 450 ms (what a busy machine may add to any wait; see {@code FaultTest}); every
 * answer is the failure mode's; the commands sent to the slow Redis and not yet answered never
 * exceed what the store allows ({@link Batcher#MAX_COMMANDS} per deadline for as long as a
 * command is held: 2 × (2 s / 50 ms + 1) = 82), and no thread is added while it lasts. Once Redis
 * is fast again, it decides again.
 */
class SlowRedisTest {

  static final Duration DEADLINE = Duration.ofMillis(50);
  static final Duration SLOW_BY = Duration.ofSeconds(2);
  static final int PER_SECOND = 1_000;
  static final Duration RUN = Duration.ofSeconds(5);

  private ChaosProxy proxy;
  private RedisStore.Factory factory;
  private RateLimiter<String> limiter;

  @AfterEach
  void stop() {
    if (limiter != null) {
      limiter.close();
    }
    if (factory != null) {
      factory.close();
    }
    if (proxy != null) {
      proxy.close();
    }
  }

  @Test
  void slowBy2s_1000PerSecond_callersAnswerWithinTheDeadlineAndNothingPilesUp() {
    proxy = ChaosProxy.to(SharedRedis.uri());
    factory = RedisStore.factory(proxy.uri()).deadline(DEADLINE);
    AtomicReference<RedisStore<String>> store = new AtomicReference<>();
    limiter = RateLimiter.builder(Limit.perSecond(1_000_000)).name(SharedRedis.uniqueName("slow"))
        .store(NoReplayTest.capturing(factory, store)).failureMode(FailureMode.CLOSED).build();
    Await.until(Duration.ofSeconds(10), 5_000,
        () -> limiter.decide("warm", 1).source() == Decision.Source.STORE, "connected");
    int threadsBefore = Thread.getAllStackTraces().size();

    proxy.delay(SLOW_BY.toNanos());
    int total = (int) (PER_SECOND * RUN.toSeconds());
    long[] latency = new long[total];
    Arrays.fill(latency, -1);
    AtomicInteger answered = new AtomicInteger();
    ConcurrentLinkedQueue<Decision.Source> sources = new ConcurrentLinkedQueue<>();
    int mostThreads = 0;
    long begin = System.nanoTime();
    long period = 1_000_000_000L / PER_SECOND;
    for (int i = 0; i < total; i++) {
      long due = begin + i * period;
      long wait = due - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait);
      }
      int index = i;
      long start = System.nanoTime();
      limiter.decideAsync("k" + (i % 64), 1).whenComplete((d, e) -> {
        latency[index] = System.nanoTime() - start;
        sources.add(d != null ? d.source() : Decision.Source.STORE);
        answered.incrementAndGet();
      });
      if (i % 100 == 0) {
        mostThreads = Math.max(mostThreads, Thread.getAllStackTraces().size());
      }
    }
    Await.until(Duration.ofSeconds(5), 1_000, () -> answered.get() == total, "every call answered");
    long sent = proxy.scripts();
    long mostHeld = proxy.maxHeld();

    long[] sorted = latency.clone();
    Arrays.sort(sorted);
    long p99 = sorted[(int) Math.ceil(total * 0.99) - 1];
    long max = sorted[total - 1];
    long bound = (long) Batcher.MAX_COMMANDS * (SLOW_BY.toMillis() / DEADLINE.toMillis() + 1);
    System.out.printf("SLOW %d calls in %.0f ms: p50 %.2f ms, p99 %.2f ms, max %.2f ms;"
            + " %d commands sent, at most %d held at once (bound %d); threads %d before, at most"
            + " %d during%n",
        total, (System.nanoTime() - begin) / 1e6, sorted[total / 2] / 1e6, p99 / 1e6, max / 1e6,
        sent, mostHeld, bound, threadsBefore, mostThreads);

    assertThat(sources).containsOnly(Decision.Source.FAILURE_CLOSED);
    assertThat(Duration.ofNanos(p99)).isLessThanOrEqualTo(DEADLINE.plusMillis(20));
    assertThat(Duration.ofNanos(max)).isLessThanOrEqualTo(DEADLINE.plusMillis(450));
    assertThat(mostHeld).as("commands held by the slow Redis at once").isLessThanOrEqualTo(bound);
    assertThat(mostThreads).as("threads while Redis is slow").isLessThanOrEqualTo(threadsBefore);

    proxy.delay(0);
    Await.until(Duration.ofSeconds(10), 5_000,
        () -> limiter.decide("after", 1).source() == Decision.Source.STORE, "Redis deciding again");
  }
}
