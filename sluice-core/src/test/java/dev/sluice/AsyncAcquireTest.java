package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Asynchronous acquire: one scheduler completes every waiter at its due instant, in due order,
 * with no thread per waiter. Driven by a {@link ManualTicker}: without a thread (the test runs
 * the due waiters), or with the scheduler's own thread re-reading the manual clock.
 */
class AsyncAcquireTest {

  private static final int WAITERS = 100_000;
  private static final long US = 1_000L;

  /**
   * 100,000 waiters on one bucket at 1 per µs, capacity 1: each completes only once the clock
   * has reached its due instant (k µs for the k-th), all of them in the order they queued, and
   * after each step of the clock exactly the waiters due by then are complete.
   */
  @Test
  void acquireAsync_100kWaiters_completeInDueOrderNoneEarly() {
    long start = Long.MAX_VALUE - 30_000 * US;
    ManualTicker t = new ManualTicker(start);
    Scheduler scheduler = Scheduler.manual(t);
    TokenBucket b = TokenBucket.of(Policy.of(Limit.of(1, Duration.ofNanos(US))), t,
        Parker.SYSTEM, scheduler);
    int threadsBefore = Thread.activeCount();
    List<Integer> order = new ArrayList<>(WAITERS);
    AtomicInteger early = new AtomicInteger();
    List<CompletableFuture<Boolean>> futures = new ArrayList<>(WAITERS);
    for (int i = 0; i < WAITERS; i++) {
      int k = i;
      CompletableFuture<Boolean> f =
          b.acquireAsync(1, Duration.ofSeconds(1)).toCompletableFuture();
      f.thenAccept(granted -> {
        if (t.read() - (start + k * US) < 0) {
          early.incrementAndGet();
        }
        order.add(k);
      });
      futures.add(f);
    }
    assertThat(futures.get(0)).as("the first is due at once").isCompletedWithValue(true);
    assertThat(scheduler.pending()).isEqualTo(WAITERS - 1);
    long elapsed = 0;
    long step = 7 * US + 3;
    while (scheduler.pending() > 0) {
      t.advance(step);
      elapsed += step;
      scheduler.runDue();
      long dueBy = elapsed / US; // waiters 0..dueBy are due
      int check = (int) Math.min(WAITERS - 1, dueBy + 1);
      assertThat(futures.get((int) Math.min(WAITERS - 1, dueBy))).isDone();
      if (dueBy + 1 < WAITERS) {
        assertThat(futures.get(check)).as("not due yet at %d ns", elapsed).isNotDone();
      }
    }
    assertThat(early.get()).isZero();
    assertThat(order).hasSize(WAITERS);
    for (int i = 0; i < WAITERS; i++) {
      assertThat(order.get(i)).isEqualTo(i);
    }
    assertThat(Thread.activeCount()).as("no thread per waiter").isLessThanOrEqualTo(threadsBefore);
  }

  /**
   * The same 100,000 waiters completed by a scheduler thread: one thread more at most while they
   * wait, completions in due order, none early. The scheduler re-reads the manual clock every
   * 0.2 ms of real time; the test moves it and waits for completion with a timeout only a hang
   * reaches.
   */
  @Test
  void acquireAsync_100kWaitersOnTheSchedulerThread_boundedThreadsInOrder() throws Exception {
    ManualTicker t = new ManualTicker(-3);
    Scheduler scheduler = Scheduler.threaded(t, 200_000, "sluice-scheduler-test");
    RateLimiter<String> limiter = RateLimiter.builder(Limit.of(1, Duration.ofNanos(US)))
        .ticker(t).scheduler(scheduler).build();
    int threadsBefore = Thread.activeCount();
    CountDownLatch done = new CountDownLatch(WAITERS);
    AtomicLong lastDue = new AtomicLong(Long.MIN_VALUE);
    AtomicInteger outOfOrder = new AtomicInteger();
    AtomicInteger early = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    for (int i = 0; i < WAITERS; i++) {
      long due = -3 + i * US;
      limiter.acquireAsync("k", 1, Duration.ofSeconds(1)).thenAccept(granted -> {
        if (!granted) {
          refused.incrementAndGet();
        }
        if (t.read() - due < 0) {
          early.incrementAndGet();
        }
        long previous = lastDue.getAndSet(due);
        if (previous != Long.MIN_VALUE && due - previous < 0) {
          outOfOrder.incrementAndGet();
        }
        done.countDown();
      });
    }
    assertThat(Thread.activeCount()).as("one scheduler thread for all the waiters")
        .isLessThanOrEqualTo(threadsBefore + 1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (done.getCount() > 0 && System.nanoTime() < deadline) {
      t.advance(5_000 * US);
      done.await(5, TimeUnit.MILLISECONDS);
    }
    scheduler.shutdown();
    assertThat(done.getCount()).as("no hang").isZero();
    assertThat(refused.get()).isZero();
    assertThat(early.get()).isZero();
    assertThat(outOfOrder.get()).isZero();
  }

  /**
   * On the shared scheduler and the system ticker (500 waiters 20 µs apart): every waiter
   * completes, none before its due instant by {@code System.nanoTime()}, the scheduler's in due
   * order, all on one thread. Asserts no timing: only order and "not early".
   */
  @Test
  void acquireAsync_sharedSchedulerSystemTicker_completesInOrderNeverEarly() throws Exception {
    TokenBucket b = TokenBucket.of(Policy.of(Limit.of(1, Duration.ofNanos(20 * US))),
        Ticker.system());
    int n = 500;
    CountDownLatch done = new CountDownLatch(n);
    AtomicInteger early = new AtomicInteger();
    AtomicInteger outOfOrder = new AtomicInteger();
    AtomicLong last = new AtomicLong(Long.MIN_VALUE);
    for (int i = 0; i < n; i++) {
      Reservation r = b.reserve(1, Duration.ofSeconds(60));
      long due = r.dueAt();
      Waiting.async(r, Scheduler.shared()).thenAccept(granted -> { // acquireAsync's path
        if (System.nanoTime() - due < 0) {
          early.incrementAndGet();
        }
        // waiters due at once complete on this thread as they are made; the order is the
        // scheduler's, among those it completes
        if (Thread.currentThread().getName().equals("sluice-scheduler")) {
          long previous = last.getAndSet(due);
          if (previous != Long.MIN_VALUE && due - previous < 0) {
            outOfOrder.incrementAndGet();
          }
        }
        done.countDown();
      });
    }
    assertThat(done.await(60, TimeUnit.SECONDS)).as("no hang").isTrue();
    assertThat(early.get()).isZero();
    assertThat(outOfOrder.get()).isZero();
    assertThat(Thread.getAllStackTraces().keySet().stream()
        .filter(th -> th.getName().equals("sluice-scheduler")).count())
        .as("one shared scheduler thread").isEqualTo(1);
  }

  @Test
  void acquireAsync_refusedOrCancelled_falseAtOnceAndGivenBack() {
    ManualTicker t = new ManualTicker(9);
    Scheduler scheduler = Scheduler.manual(t);
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(10).withCapacity(1)), t,
        Parker.SYSTEM, scheduler);
    assertThat(b.acquireAsync(1, Duration.ZERO).toCompletableFuture()).isCompletedWithValue(true);
    assertThat(b.acquireAsync(1, Duration.ofMillis(99)).toCompletableFuture())
        .as("would wait 100 ms").isCompletedWithValue(false);
    assertThat(b.acquireAsync(2, Duration.ofDays(1)).toCompletableFuture())
        .as("above the capacity").isCompletedWithValue(false);
    CompletableFuture<Boolean> waiting =
        b.acquireAsync(1, Duration.ofSeconds(1)).toCompletableFuture();
    assertThat(waiting).isNotDone();
    waiting.cancel(false);
    assertThat(b.reserve(1, Duration.ofSeconds(1)).delay())
        .as("the cancelled waiter gave its place back").isEqualTo(Duration.ofMillis(100));
    t.advance(Duration.ofSeconds(1));
    assertThat(scheduler.runDue()).isEqualTo(1);
  }

  /** A bucket on another ticker than the scheduler's is checked again on its own ticker. */
  @Test
  void acquireAsync_bucketTickerSlowerThanSchedulerClock_notCompletedEarly() {
    ManualTicker clock = new ManualTicker(1_000);
    ManualTicker bucketTicker = new ManualTicker(-50);
    Scheduler scheduler = Scheduler.manual(clock);
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(10).withCapacity(1)), bucketTicker,
        Parker.SYSTEM, scheduler);
    b.tryAcquire(1);
    CompletableFuture<Boolean> f = b.acquireAsync(1, Duration.ofSeconds(1)).toCompletableFuture();
    clock.advance(Duration.ofMillis(100));
    bucketTicker.advance(Duration.ofMillis(60));
    scheduler.runDue();
    assertThat(f).as("the scheduler's clock says due, the bucket's does not").isNotDone();
    clock.advance(Duration.ofMillis(40));
    bucketTicker.advance(Duration.ofMillis(40));
    scheduler.runDue();
    assertThat(f).isCompletedWithValue(true);
  }
}
