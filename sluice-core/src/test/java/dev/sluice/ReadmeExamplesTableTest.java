package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The README's examples as timelines, in the style of Go's {@code x/time/rate} tests: each row is
 * a call at an instant (an offset from the start), with the decision it must get. Every expected
 * value is worked out by hand in the row's comment, not computed by Sluice. Each table runs from
 * several start instants, among them {@code Long.MAX_VALUE - 1}, so the ticker wraps inside the
 * table.
 */
class ReadmeExamplesTableTest {

  private static final long MS = 1_000_000L;
  private static final long S = 1_000_000_000L;
  private static final long MIN = 60 * S;
  private static final long DAY = 86_400 * S;
  private static final long NEVER = -1;

  /** A call at {@code at} ns after the start: decide(permits), or availablePermits() if permits is 0. */
  record Row(long at, long permits, boolean allowed, long remaining, long limit, long retryAfter,
      long resetAfter) {
    @Override
    public String toString() {
      return permits == 0
          ? "at +" + at + "ns available == " + remaining
          : "at +" + at + "ns decide(" + permits + ") -> " + (allowed ? "allowed" : "denied")
              + " remaining=" + remaining + " limit=" + limit + " retryAfter=" + retryAfter
              + " resetAfter=" + resetAfter;
    }
  }

  record Table(String name, Policy policy, List<Row> rows) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static Row allow(long at, long permits, long remaining, long limit, long resetAfter) {
    return new Row(at, permits, true, remaining, limit, 0, resetAfter);
  }

  private static Row deny(long at, long permits, long remaining, long limit, long retryAfter,
      long resetAfter) {
    return new Row(at, permits, false, remaining, limit, retryAfter, resetAfter);
  }

  private static Row available(long at, long permits) {
    return new Row(at, 0, false, permits, 0, 0, 0);
  }

  /** (a) {@code Limit.perSecond(10).withCapacity(50)}: one permit every 100 ms, bursts of 50. */
  static Table burst() {
    Policy p = Policy.of(Limit.perSecond(10).withCapacity(50));
    List<Row> rows = new ArrayList<>();
    rows.add(available(0, 50));
    // drain at t=0: the i-th permit leaves 50-i, and the bucket is full again i*100ms later
    for (int i = 1; i <= 50; i++) {
      rows.add(allow(0, 1, 50 - i, 50, i * 100 * MS));
    }
    rows.addAll(List.of(
        // empty: the next permit comes at 100 ms, the bucket is full at 5 s
        deny(0, 1, 0, 50, 100 * MS, 5 * S),
        deny(99_999_999, 1, 0, 50, 1, 5 * S - 99_999_999),
        available(99_999_999, 0),
        available(100 * MS, 1),
        // one permit at 100 ms; full 5 s after the empty instant (100 ms) = 5.1 s, i.e. 5 s away
        allow(100 * MS, 1, 0, 50, 5 * S),
        deny(100 * MS, 1, 0, 50, 100 * MS, 5 * S),
        // at 350 ms: 2.5 permits, so 2 whole; 3 are ready at 400 ms
        available(350 * MS, 2),
        deny(350 * MS, 3, 2, 50, 50 * MS, 4_750 * MS),
        allow(400 * MS, 3, 0, 50, 5 * S),
        // one permit every 100 ms, taken as it comes, for ten seconds
        allow(500 * MS, 1, 0, 50, 5 * S),
        allow(600 * MS, 1, 0, 50, 5 * S),
        deny(650 * MS, 1, 0, 50, 50 * MS, 4_950 * MS),
        allow(700 * MS, 1, 0, 50, 5 * S),
        // idle 5 s after the empty instant (700 ms): full again, exactly 50
        available(5_699 * MS, 49),
        available(5_700 * MS, 50),
        allow(5_700 * MS, 50, 0, 50, 5 * S),
        // idle for a day: still 50, never more
        available(5_700 * MS + DAY, 50),
        allow(5_700 * MS + DAY, 20, 30, 50, 2 * S)));
    return new Table("(a) perSecond(10).withCapacity(50)", p, rows);
  }

  /**
   * (b) {@code Limit.perSecond(7)}: the interval is 1/7 s = 142,857,142 6/7 ns, so the k-th permit
   * after a drain at 0 appears at ceil(k * 10^9 / 7) ns: 142,857,143; 285,714,286; 428,571,429;
   * 571,428,572; 714,285,715; 857,142,858; and the 7th at exactly 1 s.
   */
  static Table fractional() {
    Policy p = Policy.of(Limit.perSecond(7));
    long[] arrives = {0, 142_857_143, 285_714_286, 428_571_429, 571_428_572, 714_285_715,
        857_142_858, 1_000_000_000};
    List<Row> rows = new ArrayList<>();
    rows.add(allow(0, 7, 0, 7, S));
    rows.add(deny(0, 1, 0, 7, 142_857_143, S));
    for (int k = 1; k <= 7; k++) {
      long t = arrives[k];
      rows.add(available(t - 1, k - 1));
      // k permits are ready 1 ns later; full at 1 s
      rows.add(deny(t - 1, k, k - 1, 7, 1, S - (t - 1)));
      rows.add(available(t, k));
    }
    // take the 7 at 1 s; the next permit is 142,857,143 ns away again (no drift)
    rows.add(allow(S, 7, 0, 7, S));
    rows.add(deny(S, 1, 0, 7, 142_857_143, S));
    // taking each permit as it appears, for 2 more seconds: the k-th after 1 s comes at
    // t = 1 s + ceil(k/7 s). Just before it, the bucket (empty at 1 s + (k-1)/7 s) is full at
    // 2 s + (k-1)/7 s, which is ceil(6/7 s + 1 + k/7 s - ceil(k/7 s)) = 857,142,858 ns after t - 1,
    // or 857,142,859 when k/7 s is whole. After taking it the bucket is empty at exactly
    // 1 s + k/7 s, so full 1 s later: ceil(1 s - (t - (1 s + k/7 s))) = 1 s away.
    for (int k = 1; k <= 14; k++) {
      long t = S + (k / 7) * S + arrives[k % 7];
      rows.add(deny(t - 1, 1, 0, 7, 1, k % 7 == 0 ? 857_142_859 : 857_142_858));
      rows.add(allow(t, 1, 0, 7, S));
    }
    // 3 s: empty at exactly 3 s; half an interval later, still nothing
    rows.add(available(3 * S + 71_428_571, 0));
    // 2 s idle: full, exactly 7
    rows.add(available(5 * S, 7));
    rows.add(allow(5 * S, 4, 3, 7, 571_428_572));
    return new Table("(b) perSecond(7)", p, rows);
  }

  /**
   * (c) {@code Policy.of(Limit.perSecond(10), Limit.perMinute(100))}: 100 ms and 600 ms
   * intervals, all-or-nothing. Taking 10 every second empties the minute limit: it holds
   * 100 - 10k + 10k/6 before the k-th take.
   */
  static Table twoLimits() {
    Policy p = Policy.of(Limit.perSecond(10), Limit.perMinute(100));
    List<Row> rows = new ArrayList<>(List.of(
        // second limit 0 left (full in 1 s), minute limit 90 (full in 6 s)
        allow(0, 10, 0, 10, 6 * S),
        // refused by the second limit (ready in 100 ms); the minute limit is not charged: its
        // reset stays 6 s (it would be 9 s if the 5 had been taken from it)
        deny(0, 5, 0, 10, 500 * MS, 6 * S),
        deny(0, 1, 0, 10, 100 * MS, 6 * S),
        // 1 s later: second limit full; minute limit 90 + 1 s/600 ms = 91.67, 81.67 after the take:
        // empty instant -48 s, full at 12 s, so 11 s away
        allow(S, 10, 0, 10, 11 * S)));
    // k = 2..10 at k seconds: minute limit holds 100 - 10k + 10k/6 >= 10 before each take;
    // after the take its empty instant is -60 s + 6(k+1) s, full 60 s later
    for (int k = 2; k <= 10; k++) {
      rows.add(allow(k * S, 10, 0, 10, (6 * (k + 1) - k) * S));
    }
    rows.addAll(List.of(
        // 11 s: second limit full (10), minute limit 100 - 110 + 18.33 = 8.33, empty instant 6 s
        available(11 * S, 8),
        // 10 refused by the minute limit: 10 * 600 ms after 6 s = 12 s, 1 s away; the second
        // limit has 10, so the minute limit (8) is the fewest: limit 100, full at 6 s + 60 s
        deny(11 * S, 10, 8, 100, S, 55 * S),
        // 9 refused too: ready at 6 s + 5.4 s = 11.4 s
        deny(11 * S, 9, 8, 100, 400 * MS, 55 * S),
        // the second limit was charged nothing by those two refusals: 8 fit in both (10 and 8.33),
        // leaving 2 and 0.33; the minute limit is the fewest; full at 6 s + 4.8 s + 60 s
        allow(11 * S, 8, 0, 100, 59_800 * MS),
        // 1 more: the second limit has 2, the minute limit 0.33 (ready at 11.4 s)
        deny(11 * S, 1, 0, 100, 400 * MS, 59_800 * MS),
        allow(11_400 * MS, 1, 0, 100, 60 * S),
        // a minute of idle refills both: exactly min(10, 100) = 10 available
        available(72 * S, 10),
        allow(72 * S, 10, 0, 10, 6 * S)));
    return new Table("(c) perSecond(10) and perMinute(100)", p, rows);
  }

  /** (d) more than the capacity: refused, no retryAfter, and nothing taken. */
  static Table overCapacity() {
    Policy p = Policy.of(Limit.perSecond(10).withCapacity(50));
    return new Table("(d) 51 from a capacity of 50", p, List.of(
        deny(0, 51, 50, 50, NEVER, 0),
        deny(0, Long.MAX_VALUE, 50, 50, NEVER, 0),
        allow(0, 20, 30, 50, 2 * S),
        deny(0, 51, 30, 50, NEVER, 2 * S),
        // still 30 after the refusal, and 31 another 100 ms later
        available(0, 30),
        deny(100 * MS, 51, 31, 50, NEVER, 1_900 * MS),
        allow(100 * MS, 31, 0, 50, 5 * S),
        deny(100 * MS, 51, 0, 50, NEVER, 5 * S),
        // a request that fits gets a finite wait
        deny(100 * MS, 50, 0, 50, 5 * S, 5 * S)));
  }

  /** (e) {@code Limit.of(1, Duration.ofDays(1))}: one permit a day. */
  static Table onePerDay() {
    Policy p = Policy.of(Limit.of(1, Duration.ofDays(1)));
    return new Table("(e) one per day", p, List.of(
        allow(0, 1, 0, 1, DAY),
        deny(0, 1, 0, 1, DAY, DAY),
        deny(12 * 3600 * S, 1, 0, 1, DAY / 2, DAY / 2),
        deny(DAY - 1, 1, 0, 1, 1, 1),
        available(DAY - 1, 0),
        available(DAY, 1),
        allow(DAY, 1, 0, 1, DAY),
        deny(DAY, 2, 0, 1, NEVER, DAY),
        // ten years idle: one permit, not 3652
        available(DAY + 3652 * DAY, 1),
        allow(DAY + 3652 * DAY, 1, 0, 1, DAY)));
  }

  static Stream<Arguments> tables() {
    Random rnd = new Random(20_261_127L);
    long[] starts = {0, -1, Long.MAX_VALUE - 1, Long.MAX_VALUE - 3 * S, Long.MIN_VALUE,
        rnd.nextLong(), rnd.nextLong()};
    List<Table> tables = List.of(burst(), fractional(), twoLimits(), overCapacity(), onePerDay());
    return tables.stream().flatMap(t -> LongStream.of(starts).mapToObj(s -> Arguments.of(t, s)));
  }

  @ParameterizedTest(name = "{0} from {1}")
  @MethodSource("tables")
  void tokenBucket_readmeTimeline_matchesTable(Table table, long start) {
    ManualTicker ticker = new ManualTicker(start);
    TokenBucket bucket = TokenBucket.of(table.policy(), ticker);
    run(table, start, ticker, bucket::decide, bucket::availablePermits, bucket::tryAcquire);
  }

  @ParameterizedTest(name = "{0} from {1}")
  @MethodSource("tables")
  void rateLimiter_readmeTimeline_matchesTableForEachKey(Table table, long start) {
    ManualTicker ticker = new ManualTicker(start);
    try (RateLimiter<String> limiter = RateLimiter.builder(table.policy()).ticker(ticker).build()) {
      // the key is touched first at the table's first instant, as a TokenBucket is created then
      run(table, start, ticker, n -> limiter.decide("a", n), () -> limiter.availablePermits("a"),
          n -> limiter.tryAcquire("a", n));
      // an untouched key is full, whatever happened to "a"
      assertThat(limiter.availablePermits("b")).isEqualTo(table.policy().maxPermitsPerRequest());
    }
  }

  interface Decide {
    Decision decide(long permits);
  }

  interface Available {
    long get();
  }

  interface TryAcquire {
    boolean tryAcquire(long permits);
  }

  private static void run(Table table, long start, ManualTicker ticker, Decide decide,
      Available available, TryAcquire tryAcquire) {
    long[] capacities = table.policy().limits().stream().mapToLong(Limit::capacity).toArray();
    int i = 0;
    for (Row row : table.rows()) {
      i++;
      ticker.set(start + row.at());
      String where = table + " row " + i + ": " + row;
      if (row.permits() == 0) {
        assertThat(available.get()).as(where).isEqualTo(row.remaining());
        continue;
      }
      Decision d = decide.decide(row.permits());
      assertThat(d.allowed()).as(where + " got " + d).isEqualTo(row.allowed());
      assertThat(d.remaining()).as(where + " got " + d).isEqualTo(row.remaining());
      assertThat(d.limit()).as(where + " got " + d).isEqualTo(row.limit());
      assertThat(d.retryAfterNanos()).as(where + " got " + d).isEqualTo(row.retryAfter());
      assertThat(d.resetAfterNanos()).as(where + " got " + d).isEqualTo(row.resetAfter());
      assertThat(d.canEverSucceed()).as(where).isEqualTo(row.retryAfter() != NEVER);
      if (row.retryAfter() == NEVER) {
        assertThat(d.retryAfter()).as(where).isEmpty();
        // the boolean path agrees, and takes nothing either
        assertThat(tryAcquire.tryAcquire(row.permits())).as(where).isFalse();
      } else {
        assertThat(d.retryAfter()).as(where).contains(Duration.ofNanos(row.retryAfter()));
      }
      assertThat(d.resetAfter()).as(where).isEqualTo(Duration.ofNanos(row.resetAfter()));
      assertThat(d.remaining()).as(where).isLessThanOrEqualTo(d.limit());
      assertThat(capacities).as(where).contains(d.limit());
    }
  }
}
