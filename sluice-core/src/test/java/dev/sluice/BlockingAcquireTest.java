package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Blocking acquire, with the parking injected: the tests' parker moves a {@link ManualTicker}
 * instead of sleeping, returns early on purpose (spurious wakeups), or interrupts. No sleeps; the
 * threaded test waits on conditions with timeouts that only a hang reaches.
 */
class BlockingAcquireTest {

  private static final long MS = 1_000_000L;

  /** A parker that advances the ticker by a fraction of each requested park, and records it. */
  private static final class StepParker implements Parker {
    final ManualTicker ticker;
    final long divisor;
    final List<Long> parks = new ArrayList<>();

    StepParker(ManualTicker ticker, long divisor) {
      this.ticker = ticker;
      this.divisor = divisor;
    }

    @Override
    public void park(long nanos) {
      parks.add(nanos);
      ticker.advance(Math.max(1, nanos / divisor)); // divisor > 1: wakes early, every time
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {0, Long.MAX_VALUE - 50 * MS})
  void acquire_waitsExactlyUntilDue_parkingByTheTicker(long start) {
    ManualTicker t = new ManualTicker(start);
    StepParker parker = new StepParker(t, 1);
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(10).withCapacity(1)), t, parker,
        Scheduler.manual(t));
    assertThat(b.acquire(1)).isTrue();
    assertThat(parker.parks).as("the first permit is there").isEmpty();
    assertThat(b.acquire(1)).isTrue();
    assertThat(parker.parks).containsExactly(100 * MS);
    assertThat(t.read()).isEqualTo(start + 100 * MS);
  }

  @Test
  void acquire_spuriousWakeups_parksAgainAndNeverReturnsEarly() {
    ManualTicker t = new ManualTicker(5);
    StepParker parker = new StepParker(t, 3);
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(7).withCapacity(1)), t, parker,
        Scheduler.manual(t));
    b.tryAcquire(1);
    assertThat(b.acquire(1, Duration.ofSeconds(1))).isTrue();
    assertThat(t.read() - 5).as("not before 1/7 s, rounded up").isGreaterThanOrEqualTo(142_857_143);
    assertThat(parker.parks.size()).as("woke early, parked again").isGreaterThan(3);
    assertThat(parker.parks.get(0)).isEqualTo(142_857_143);
  }

  @Test
  void acquire_timeoutShorterThanTheWait_falseAtOnceTakingNothing() {
    ManualTicker t = new ManualTicker();
    StepParker parker = new StepParker(t, 1);
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(10).withCapacity(1)), t, parker,
        Scheduler.manual(t));
    b.tryAcquire(1);
    assertThat(b.acquire(1, Duration.ofMillis(100).minusNanos(1))).isFalse();
    assertThat(b.acquire(2, Duration.ofDays(1))).as("above the capacity").isFalse();
    assertThat(b.acquire(2)).as("above the capacity, no timeout: never, at once").isFalse();
    assertThat(parker.parks).isEmpty();
    assertThat(b.reserve(1, Duration.ofSeconds(1)).delay()).as("nothing was taken")
        .isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void acquire_interrupted_cancelsTheReservationAndKeepsTheFlag() {
    ManualTicker t = new ManualTicker();
    Parker interrupting = nanos -> Thread.currentThread().interrupt();
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(10).withCapacity(1)), t,
        interrupting, Scheduler.manual(t));
    b.tryAcquire(1);
    try {
      assertThat(b.acquire(1)).isFalse();
      assertThat(Thread.currentThread().isInterrupted()).as("flag restored").isTrue();
      assertThat(b.acquire(1, Duration.ZERO)).as("no wait: no interruption point").isFalse();
    } finally {
      Thread.interrupted();
    }
    assertThat(b.reserve(1, Duration.ofSeconds(1)).delay())
        .as("the interrupted reservation was given back").isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void rateLimiterAcquire_waitsPerKey_interruptCancels() {
    ManualTicker t = new ManualTicker(77);
    StepParker parker = new StepParker(t, 1);
    RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10).withCapacity(1))
        .ticker(t).parker(parker).build();
    assertThat(limiter.acquire("a", 1)).isTrue();
    assertThat(limiter.acquire("b", 1)).as("another key is not queued behind a").isTrue();
    assertThat(parker.parks).isEmpty();
    assertThat(limiter.acquire("a", 1, Duration.ofMillis(100))).isTrue();
    assertThat(parker.parks).containsExactly(100 * MS);
    assertThat(limiter.acquire("a", 2, Duration.ofDays(1))).as("above the capacity").isFalse();
  }

  /**
   * 64 threads acquire one permit each on one key of a limiter at 1 per ms, capacity 1, the clock
   * frozen while they queue: every one is served, each due at a distinct instant (exactly 0, 1,
   * ..., 63 ms, one per permit), and none returns before its instant. The parker re-reads the
   * clock every 0.1 ms of real time; the test moves the clock only once all 63 waiters parked.
   */
  @Test
  void acquire_64ThreadsOneKey_allServedAtDistinctInstantsNoneEarly() throws Exception {
    int threads = 64;
    long start = Long.MAX_VALUE - 20 * MS;
    ManualTicker t = new ManualTicker(start);
    ConcurrentHashMap<Thread, Long> dueOf = new ConcurrentHashMap<>();
    AtomicInteger parked = new AtomicInteger();
    Parker parker = nanos -> {
      if (dueOf.putIfAbsent(Thread.currentThread(), t.read() + nanos) == null) {
        parked.incrementAndGet();
      }
      LockSupport.parkNanos(100_000);
    };
    RateLimiter<String> limiter = RateLimiter.builder(Limit.of(1, Duration.ofMillis(1)))
        .ticker(t).parker(parker).build();
    CountDownLatch done = new CountDownLatch(threads);
    ConcurrentHashMap<Thread, Long> returnedAt = new ConcurrentHashMap<>();
    AtomicInteger served = new AtomicInteger();
    List<Thread> all = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      Thread th = new Thread(() -> {
        if (limiter.acquire("k", 1)) {
          returnedAt.put(Thread.currentThread(), t.read());
          served.incrementAndGet();
        }
        done.countDown();
      });
      all.add(th);
      th.start();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (parked.get() < threads - 1 && System.nanoTime() < deadline) {
      LockSupport.parkNanos(1_000_000);
    }
    assertThat(parked.get()).as("all but the first queue").isEqualTo(threads - 1);
    while (done.getCount() > 0 && System.nanoTime() < deadline) {
      t.advance(MS / 4);
      done.await(1, TimeUnit.MILLISECONDS);
    }
    assertThat(done.getCount()).as("no hang").isZero();
    assertThat(served.get()).isEqualTo(threads);
    Set<Long> dues = new TreeSet<>();
    for (Thread th : all) {
      long due = dueOf.getOrDefault(th, start);
      assertThat(dues.add(due - start)).as("distinct due instants").isTrue();
      assertThat(returnedAt.get(th) - due).as("none early").isGreaterThanOrEqualTo(0);
    }
    List<Long> expected = new ArrayList<>();
    for (long i = 0; i < threads; i++) {
      expected.add(i * MS);
    }
    assertThat(dues).containsExactlyElementsOf(expected);
  }
}
