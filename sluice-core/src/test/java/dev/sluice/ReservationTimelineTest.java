package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reservations as timelines on a {@link ManualTicker} (Go's {@code x/time/rate} tables): each row
 * is (time since start, permits, maxWait, granted?, expected delay), run from starts anywhere,
 * including just below {@link Long#MAX_VALUE} so that due instants wrap.
 */
class ReservationTimelineTest {

  private static final long MS = 1_000_000L;

  /** One row: at {@code at} ns from the start, reserve {@code permits} within {@code maxWait}. */
  private record Row(long at, long permits, long maxWait, boolean granted, long delay) {}

  private static void play(TokenBucket bucket, ManualTicker t, long start, List<Row> rows) {
    int i = 0;
    for (Row row : rows) {
      t.set(start + row.at());
      Reservation r = bucket.reserve(row.permits(), Duration.ofNanos(row.maxWait()));
      assertThat(r.granted()).as("row %d %s: %s", i, row, r).isEqualTo(row.granted());
      assertThat(r.delay()).as("row %d %s", i, row).isEqualTo(Duration.ofNanos(row.delay()));
      assertThat(r.dueAt()).as("row %d", i).isEqualTo(start + row.at() + row.delay());
      i++;
    }
  }

  /** 10/s, capacity 2 (T = 100 ms): the burst at once, then one every 100 ms, in order. */
  @ParameterizedTest
  @ValueSource(longs = {0, -7, Long.MAX_VALUE - 150 * MS, Long.MIN_VALUE})
  void reservations_fromFull_dueInOrderOneIntervalApart(long start) {
    ManualTicker t = new ManualTicker(start);
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(10).withCapacity(2)), t);
    long s = Duration.ofSeconds(1).toNanos();
    play(b, t, start, List.of(
        new Row(0, 1, s, true, 0),
        new Row(0, 1, s, true, 0),
        new Row(0, 1, s, true, 100 * MS),
        new Row(0, 1, s, true, 200 * MS),
        new Row(0, 2, s, true, 400 * MS),              // two permits: two intervals after the last
        new Row(50 * MS, 1, s, true, 450 * MS),        // a later caller joins the queue: due at 500
        new Row(50 * MS, 1, 550 * MS, true, 550 * MS), // maxWait exactly the wait: granted
        new Row(50 * MS, 1, 650 * MS - 1, false, 650 * MS), // one ns below: refused, nothing taken
        new Row(50 * MS, 1, 650 * MS, true, 650 * MS), // so the same wait is still the next one
        new Row(750 * MS, 1, 0, false, 50 * MS),       // the queue is debt: a take waits for it too
        new Row(800 * MS, 1, 0, true, 0),              // the last reservation is due: one interval on
        new Row(800 * MS, 1, 0, false, 100 * MS)));
    Reservation never = b.reserve(3, Duration.ofDays(1));
    assertThat(never.granted()).isFalse();
    assertThat(never.exceedsCapacity()).isTrue();
  }

  /** 7/s (T = 142,857,142.857... ns), capacity 1: waits to the nanosecond, rounded up. */
  @ParameterizedTest
  @ValueSource(longs = {0, Long.MAX_VALUE - 1})
  void reservations_fractionalInterval_exactToTheNanosecond(long start) {
    ManualTicker t = new ManualTicker(start);
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(7).withCapacity(1)), t);
    long s = Duration.ofSeconds(10).toNanos();
    play(b, t, start, List.of(
        new Row(0, 1, s, true, 0),
        new Row(0, 1, s, true, 142_857_143),             // 1/7 s = 142,857,142.857 ns, rounded up
        new Row(0, 1, s, true, 285_714_286),             // 2/7 s = 285,714,285.714
        new Row(0, 1, s, true, 428_571_429),             // 3/7 s = 428,571,428.571
        new Row(0, 1, 571_428_571, false, 571_428_572),  // 4/7 s = 571,428,571.429: 1 ns short
        new Row(0, 1, 571_428_572, true, 571_428_572),   // exactly the wait
        new Row(100_000_000, 1, s, true, 614_285_715))); // due 714,285,715, from 100 ms
    assertThat(b.reserve(2, Duration.ofDays(1)).exceedsCapacity()).isTrue();
  }

  /**
   * A queue of four, the third cancelled in the middle: nothing comes back (the fourth was
   * decided after it and is due where it is), so the next reservation queues after the fourth.
   * Cancelling the last gives it back exactly, and then the one before it is the last again.
   */
  @ParameterizedTest
  @ValueSource(longs = {0, Long.MAX_VALUE - 250 * MS})
  void cancel_middleOfQueue_givesNothingBack_latestGivesBackExactly(long start) {
    ManualTicker t = new ManualTicker(start);
    TokenBucket b = TokenBucket.of(Policy.of(Limit.perSecond(10).withCapacity(1)), t);
    Duration wait = Duration.ofSeconds(10);
    Reservation r0 = b.reserve(1, wait);
    Reservation r1 = b.reserve(1, wait);
    Reservation r2 = b.reserve(1, wait);
    Reservation r3 = b.reserve(1, wait);
    assertThat(List.of(r0.delay(), r1.delay(), r2.delay(), r3.delay())).containsExactly(
        Duration.ZERO, Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(300));
    assertThat(r2.cancel()).as("r3 depends on r2").isFalse();
    assertThat(r2.cancel()).as("a second cancel").isFalse();
    assertThat(r3.cancel()).as("the latest, not due").isTrue();
    Reservation r4 = b.reserve(1, wait);
    assertThat(r4.delay()).as("r3's place, exactly").isEqualTo(Duration.ofMillis(300));
    assertThat(r4.cancel()).isTrue();
    assertThat(r1.cancel()).as("r2 (spent) is the latest write again, not r1").isFalse();
    t.advance(250 * MS);
    assertThat(r0.cancel()).as("due already: its permits are used").isFalse();
    Reservation r5 = b.reserve(1, wait);
    assertThat(r5.delay()).as("after r2 at 200 ms: 300 ms from start")
        .isEqualTo(Duration.ofMillis(50));
    t.advance(50 * MS);
    assertThat(r5.cancel()).as("due: nothing back").isFalse();
  }

  /** A cancel after a take moved the bucket gives nothing back, even before its due instant. */
  @ParameterizedTest
  @ValueSource(ints = {0, 1})
  void cancel_afterAnotherWrite_givesNothingBack(int shape) {
    Policy policy = shape == 0 ? Policy.of(Limit.perSecond(10).withCapacity(2))
        : Policy.of(Limit.perSecond(10).withCapacity(2), Limit.perMinute(100));
    ManualTicker t = new ManualTicker(123);
    TokenBucket b = TokenBucket.of(policy, t);
    assertThat(b.tryAcquire(2)).isTrue();
    Reservation r = b.reserve(1, Duration.ofSeconds(1));
    assertThat(r.delay()).isEqualTo(Duration.ofMillis(100));
    t.advance(200 * MS);
    assertThat(b.tryAcquire(1)).as("a take after r's due instant").isTrue();
    t.set(123 + MS); // a clock that went back: r is not due by this reading
    assertThat(r.cancel()).isFalse();
    Reservation later = b.reserve(1, Duration.ofSeconds(1));
    assertThat(later.dueAt()).as("nothing was given back").isEqualTo(123 + 300 * MS);
  }

  /**
   * Refunds and reservations: a bucket with permits reserved for later gives nothing back (the
   * reservation keeps its due instant, so an earlier emptyAt would admit beside it); once every
   * reservation is due, refunds work as before.
   */
  @ParameterizedTest
  @ValueSource(ints = {0, 1})
  void refund_whileReservedForLater_givesNothingBack(int shape) {
    Policy policy = shape == 0 ? Policy.of(Limit.perSecond(1).withCapacity(2))
        : Policy.of(Limit.perSecond(1).withCapacity(2), Limit.perMinute(100));
    ManualTicker t = new ManualTicker(-5);
    TokenBucket b = TokenBucket.of(policy, t);
    assertThat(b.tryAcquire(2)).isTrue();
    Reservation r = b.reserve(2, Duration.ofSeconds(2));
    assertThat(r.delay()).isEqualTo(Duration.ofSeconds(2));
    b.refund(2, Duration.ZERO);
    t.advance(Duration.ofSeconds(2));
    assertThat(b.tryAcquire(1)).as("r's 2 are used at 2 s: the bucket is empty").isFalse();
    b.refund(1, Duration.ZERO); // nothing reserved for later now: r is due
    assertThat(b.tryAcquire(1)).as("the refund now applies").isTrue();
  }

  /**
   * Two limits: a limit that does not bind is charged at the due instant, as the exact bucket
   * is. 1 per 10 ms (capacity 1) binds; 1 per ms (capacity 1) would be full again long before
   * the due instant, and it must be empty right after the permit is used there. Read through a
   * live change to the fast limit alone, which carries each limit's permits over: charged from
   * {@code now}, the fast limit would show a permit at 10 ms, beside the reserved one.
   */
  @ParameterizedTest
  @ValueSource(longs = {0, Long.MAX_VALUE - 5 * MS})
  void twoLimits_nonBindingLimitChargedAtTheDueInstant(long start) {
    ManualTicker t = new ManualTicker(start);
    Limit fast = Limit.of(1, Duration.ofMillis(1));
    Limit slow = Limit.of(1, Duration.ofMillis(10));
    RateLimiter<String> limiter = RateLimiter.builder(Policy.of(fast, slow)).ticker(t).build();
    assertThat(limiter.tryAcquire("k")).isTrue();
    Reservation r = limiter.reserve("k", 1, Duration.ofSeconds(1));
    assertThat(r.delay()).isEqualTo(Duration.ofMillis(10));
    t.advance(10 * MS);
    limiter.updatePolicy(Policy.of(fast));
    assertThat(limiter.tryAcquire("k")).as("the fast limit used its permit at 10 ms").isFalse();
    t.advance(1 * MS);
    assertThat(limiter.tryAcquire("k")).isTrue();
  }
}
