package dev.sluice;

import java.time.Duration;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Test;

/**
 * Linearizability, checked by Lincheck: every concurrent history of {@link TokenBucket} (one-CAS
 * path, fractional path, two limits) and of {@link RateLimiter} on three keys (the in-memory
 * store; one policy, and plans with keys converting to another policy), decisions, reads and
 * refunds mixed, and reservations with cancels (one bucket, two limits, a key of a limiter), must
 * equal some sequential history of the same calls. A plain write in place of either
 * engine's CAS makes the model-checking runs fail (tried; not committed).
 *
 * <h2>What "at the store's time" means here</h2>
 * A call reads its ticker once, on entry, and is then applied atomically at that reading (the
 * {@code RateStore} contract). So each operation takes its reading as a parameter ({@code at}, in
 * steps of {@value #STEP} ns) and the bucket's ticker returns it through a thread-local: a
 * sequential run of the same calls is deterministic, and readings need not be monotone across
 * threads (a call that read its time earlier may take effect later; the engines treat that as a
 * clock going backwards). A shared ticker moved by a {@code tick()} operation cannot be used
 * instead: it would ask the clock read and the state change to be one atomic step, which no
 * implementation that reads the clock on entry (Sluice, like Go's {@code x/time/rate}) gives; a
 * thread that read {@code t} and was then preempted across another thread's tick and admission
 * sees fewer permits than any sequential order, which is conservative, never an over-admission.
 *
 * <p>Model checking explores interleavings systematically; the stress run adds real
 * parallelism. Sizes are small so that the whole class runs in well under a minute.
 */
public class LinearizabilityTest {

  /** Readings are {@code START + at * STEP}: near the end of {@code long}, so they wrap. */
  static final long START = Long.MAX_VALUE - 150;

  /** One step of the readings, in nanoseconds. */
  static final long STEP = 100;

  /** The reading the calling thread's next call uses. */
  static final ThreadLocal<long[]> READING = ThreadLocal.withInitial(() -> new long[] {START});

  /** A ticker that returns the calling thread's reading. */
  static final Ticker THREAD_TICKER = () -> READING.get()[0];

  /** For the lint: this class is public for Lincheck. */
  public LinearizabilityTest() {}

  static void at(int step) {
    READING.get()[0] = START + step * STEP;
  }

  /** The operations on one bucket, shared by the three policies. */
  @Param(name = "n", gen = IntGen.class, conf = "1:4")
  @Param(name = "at", gen = IntGen.class, conf = "0:4")
  public abstract static class BucketOps {

    private final TokenBucket bucket;

    BucketOps(Policy policy) {
      at(0);
      this.bucket = TokenBucket.of(policy, THREAD_TICKER);
    }

    /**
     * Takes permits at a reading.
     *
     * @param n permits
     * @param step the reading, in steps
     * @return whether taken
     */
    @Operation
    public boolean tryAcquire(@Param(name = "n") int n, @Param(name = "at") int step) {
      at(step);
      return bucket.tryAcquire(n);
    }

    /**
     * Decides at a reading.
     *
     * @param n permits
     * @param step the reading, in steps
     * @return the decision, as text
     */
    @Operation
    public String decide(@Param(name = "n") int n, @Param(name = "at") int step) {
      at(step);
      return bucket.decide(n).toString();
    }

    /**
     * Reads the permits available at a reading.
     *
     * @param step the reading, in steps
     * @return permits available
     */
    @Operation
    public long available(@Param(name = "at") int step) {
      at(step);
      return bucket.availablePermits();
    }

    /**
     * Gives permits back at a reading, as if taken just then (held 0: the exact undo).
     *
     * @param n permits, at most the smallest capacity (3)
     * @param step the reading, in steps
     */
    @Operation
    public void refund(@Param(name = "n") int n, @Param(name = "at") int step) {
      at(step);
      bucket.refund(Math.min(n, 3), Duration.ZERO);
    }
  }

  /** One limit, whole-nanosecond interval (LongEngine): 3 permits, one per 100 ns. */
  public static class LongBucket extends BucketOps {
    /** A fresh bucket. */
    public LongBucket() {
      super(Policy.of(Limit.of(3, Duration.ofNanos(300))));
    }
  }

  /** One limit, fractional interval 500/7 ns (GeneralEngine). */
  public static class FractionalBucket extends BucketOps {
    /** A fresh bucket. */
    public FractionalBucket() {
      super(Policy.of(new Limit(3, 7, Duration.ofNanos(500), 3)));
    }
  }

  /** Two limits checked all-or-nothing (GeneralEngine). */
  public static class TwoLimitBucket extends BucketOps {
    /** A fresh bucket. */
    public TwoLimitBucket() {
      super(Policy.of(Limit.of(3, Duration.ofNanos(300)), new Limit(4, 1, Duration.ofNanos(150), 2)));
    }
  }

  /**
   * A keyed limiter on the in-memory store: keys 0 and 1 get their buckets when the limiter is
   * built, key 2 when an operation first uses it. (Lincheck's model checker does not see a
   * holder created inside an operation and published through a {@code ConcurrentHashMap} as
   * shared, so it explores no interleavings on it: with buckets made only lazily, a plain write
   * in place of the engine's CAS went unnoticed; with keys 0 and 1 made up front it is caught.
   * Racing creation of one key is checked in {@code ConcurrencyTest}.)
   */
  @Param(name = "key", gen = IntGen.class, conf = "0:2")
  @Param(name = "n", gen = IntGen.class, conf = "1:2")
  @Param(name = "at", gen = IntGen.class, conf = "0:3")
  public static class Keyed {

    private final RateLimiter<Integer> limiter;

    /** A fresh limiter, keys 0 and 1 holding 2 permits each. */
    public Keyed() {
      at(0);
      this.limiter = RateLimiter.builder(Limit.of(3, Duration.ofNanos(300)))
          .ticker(THREAD_TICKER).build();
      limiter.tryAcquire(0, 1);
      limiter.tryAcquire(1, 1);
    }

    /**
     * Takes permits for a key at a reading.
     *
     * @param key the key
     * @param n permits
     * @param step the reading, in steps
     * @return whether taken
     */
    @Operation
    public boolean tryAcquire(@Param(name = "key") int key, @Param(name = "n") int n,
        @Param(name = "at") int step) {
      at(step);
      return limiter.tryAcquire(key, n);
    }

    /**
     * Decides for a key at a reading.
     *
     * @param key the key
     * @param n permits
     * @param step the reading, in steps
     * @return the decision, as text
     */
    @Operation
    public String decide(@Param(name = "key") int key, @Param(name = "n") int n,
        @Param(name = "at") int step) {
      at(step);
      return limiter.decide(key, n).toString();
    }

    /**
     * Reads a key's permits at a reading.
     *
     * @param key the key
     * @param step the reading, in steps
     * @return permits available
     */
    @Operation
    public long available(@Param(name = "key") int key, @Param(name = "at") int step) {
      at(step);
      return limiter.availablePermits(key);
    }

    /**
     * Gives a key's permits back at a reading (held 0).
     *
     * @param key the key
     * @param n permits
     * @param step the reading, in steps
     * @return whether the store applied it
     */
    @Operation
    public boolean refund(@Param(name = "key") int key, @Param(name = "n") int n,
        @Param(name = "at") int step) {
      at(step);
      return limiter.refund(key, n, Duration.ZERO);
    }
  }

  /**
   * A limiter with plans: keys 0 and 1 got their buckets under plan {@code a} (3 per 300 ns, the
   * one-CAS engine) and were then moved to plan {@code b} (4 per 500 ns in sevenths of 500 ns: a
   * fractional interval), key 2 is on {@code b} from the start. So the first operations on keys
   * 0 and 1 race to convert their buckets by the carry-over rule (the conversion's
   * compare-and-set and the map replacement) while other operations decide, refund and read.
   * The plans do not change during the run: a policy changed concurrently with a decision that
   * has already read the old one is not linearizable this way (that decision may land after the
   * conversion and convert the key back), and is checked by {@code LiveChangeConcurrencyTest}.
   */
  @Param(name = "key", gen = IntGen.class, conf = "0:2")
  @Param(name = "n", gen = IntGen.class, conf = "1:2")
  @Param(name = "at", gen = IntGen.class, conf = "0:3")
  public static class PlansKeyed {

    private final RateLimiter<Integer> limiter;

    /** A fresh limiter; keys 0 and 1 hold buckets of plan a, and are assigned plan b. */
    public PlansKeyed() {
      at(0);
      boolean[] moved = {false};
      Plans<Integer> plans = Plans.<Integer>builder()
          .plan("a", Policy.of(Limit.of(3, Duration.ofNanos(300))))
          .plan("b", Policy.of(new Limit(4, 7, Duration.ofNanos(500), 4)))
          .assign(key -> key == 2 || moved[0] ? "b" : "a")
          .build();
      this.limiter = RateLimiter.builder(plans).ticker(THREAD_TICKER).build();
      limiter.tryAcquire(0, 1);
      limiter.tryAcquire(1, 2);
      moved[0] = true; // before the threads start, which publishes it
    }

    /**
     * Decides for a key at a reading.
     *
     * @param key the key
     * @param n permits
     * @param step the reading, in steps
     * @return the decision, as text
     */
    @Operation
    public String decide(@Param(name = "key") int key, @Param(name = "n") int n,
        @Param(name = "at") int step) {
      at(step);
      return limiter.decide(key, n).toString();
    }

    /**
     * Gives a key's permits back at a reading (held 0).
     *
     * @param key the key
     * @param n permits
     * @param step the reading, in steps
     * @return whether the store applied it
     */
    @Operation
    public boolean refund(@Param(name = "key") int key, @Param(name = "n") int n,
        @Param(name = "at") int step) {
      at(step);
      return limiter.refund(key, n, Duration.ZERO);
    }

    /**
     * Reads a key's permits at a reading.
     *
     * @param key the key
     * @param step the reading, in steps
     * @return permits available
     */
    @Operation
    public long available(@Param(name = "key") int key, @Param(name = "at") int step) {
      at(step);
      return limiter.availablePermits(key);
    }
  }

  /**
   * Reservations and cancels beside takes, reads and refunds. Every reservation is made, and
   * cancelled, by one thread (the {@code waiting} group never runs in parallel with itself), so
   * "cancel the latest reservation" names the same reservation in the concurrent run and in
   * every sequential order: the cancel's rule (it gives back only while not due and still the
   * bucket's latest write) is then checked against all the interleavings of the other threads'
   * writes. {@code wait} is the reservation's bound, in steps.
   */
  @Param(name = "n", gen = IntGen.class, conf = "1:4")
  @Param(name = "at", gen = IntGen.class, conf = "0:4")
  @Param(name = "wait", gen = IntGen.class, conf = "0:3")
  public abstract static class ReservingOps {

    private final Waitable target;
    private Reservation latest;

    ReservingOps(Waitable target) {
      this.target = target;
    }

    /** What the operations call: a bucket, or one key of a limiter. */
    interface Waitable {
      boolean tryAcquire(long n);

      long available();

      Reservation reserve(long n, Duration maxWait);

      void refund(long n);
    }

    /**
     * Takes permits at a reading.
     *
     * @param n permits
     * @param step the reading, in steps
     * @return whether taken
     */
    @Operation
    public boolean tryAcquire(@Param(name = "n") int n, @Param(name = "at") int step) {
      at(step);
      return target.tryAcquire(n);
    }

    /**
     * Reads the permits available at a reading.
     *
     * @param step the reading, in steps
     * @return permits available
     */
    @Operation
    public long available(@Param(name = "at") int step) {
      at(step);
      return target.available();
    }

    /**
     * Gives permits back at a reading (held 0).
     *
     * @param n permits, at most the capacity (3)
     * @param step the reading, in steps
     */
    @Operation
    public void refund(@Param(name = "n") int n, @Param(name = "at") int step) {
      at(step);
      target.refund(Math.min(n, 3));
    }

    /**
     * Reserves permits at a reading, within a bound.
     *
     * @param n permits (4 is more than the capacity)
     * @param wait the bound, in steps
     * @param step the reading, in steps
     * @return the outcome and due instant, as text
     */
    @Operation(nonParallelGroup = "waiting")
    public String reserve(@Param(name = "n") int n, @Param(name = "wait") int wait,
        @Param(name = "at") int step) {
      at(step);
      Reservation r = target.reserve(n, Duration.ofNanos(wait * STEP));
      if (r.exceedsCapacity()) {
        return "never";
      }
      latest = r.granted() ? r : latest;
      return (r.granted() ? "granted, due " : "refused, due ") + (r.dueAt() - START);
    }

    /**
     * Cancels the latest granted reservation at a reading.
     *
     * @param step the reading, in steps
     * @return whether it gave its permits back
     */
    @Operation(nonParallelGroup = "waiting")
    public boolean cancelLatest(@Param(name = "at") int step) {
      at(step);
      return latest != null && latest.cancel();
    }
  }

  /** Reservations on one bucket, 3 permits, one per 100 ns (LongEngine). */
  public static class ReservingBucket extends ReservingOps {
    /** A fresh bucket. */
    public ReservingBucket() {
      super(waitable(TokenBucket.of(Policy.of(Limit.of(3, Duration.ofNanos(300))),
          startTicker())));
    }
  }

  /** Reservations on one bucket of two limits, one fractional (GeneralEngine). */
  public static class ReservingTwoLimits extends ReservingOps {
    /** A fresh bucket. */
    public ReservingTwoLimits() {
      super(waitable(TokenBucket.of(Policy.of(Limit.of(3, Duration.ofNanos(300)),
          new Limit(4, 7, Duration.ofNanos(500), 3)), startTicker())));
    }
  }

  /** Reservations on a key of a keyed limiter (the in-memory store), its bucket made up front. */
  public static class ReservingKey extends ReservingOps {
    /** A fresh limiter, the key holding 2 of its 3 permits. */
    public ReservingKey() {
      super(waitable(keyed()));
    }

    private static RateLimiter<Integer> keyed() {
      RateLimiter<Integer> limiter = RateLimiter.builder(Limit.of(3, Duration.ofNanos(300)))
          .ticker(startTicker()).build();
      limiter.tryAcquire(0, 1);
      return limiter;
    }
  }

  private static Ticker startTicker() {
    at(0);
    return THREAD_TICKER;
  }

  private static ReservingOps.Waitable waitable(TokenBucket b) {
    return new ReservingOps.Waitable() {
      @Override
      public boolean tryAcquire(long n) {
        return b.tryAcquire(n);
      }

      @Override
      public long available() {
        return b.availablePermits();
      }

      @Override
      public Reservation reserve(long n, Duration maxWait) {
        return b.reserve(n, maxWait);
      }

      @Override
      public void refund(long n) {
        b.refund(n, Duration.ZERO);
      }
    };
  }

  private static ReservingOps.Waitable waitable(RateLimiter<Integer> l) {
    return new ReservingOps.Waitable() {
      @Override
      public boolean tryAcquire(long n) {
        return l.tryAcquire(0, n);
      }

      @Override
      public long available() {
        return l.availablePermits(0);
      }

      @Override
      public Reservation reserve(long n, Duration maxWait) {
        return l.reserve(0, n, maxWait);
      }

      @Override
      public void refund(long n) {
        l.refund(0, n, Duration.ZERO);
      }
    };
  }

  private static ModelCheckingOptions modelChecking() {
    return new ModelCheckingOptions().iterations(12).invocationsPerIteration(400)
        .threads(2).actorsPerThread(3).actorsBefore(2).actorsAfter(1);
  }

  private static StressOptions stress() {
    return new StressOptions().iterations(10).invocationsPerIteration(2_000)
        .threads(3).actorsPerThread(3).actorsBefore(1).actorsAfter(1);
  }

  @Test
  void tokenBucketWholeNanos_modelChecking_linearizable() {
    modelChecking().check(LongBucket.class);
  }

  @Test
  void tokenBucketFractional_modelChecking_linearizable() {
    modelChecking().check(FractionalBucket.class);
  }

  @Test
  void tokenBucketTwoLimits_modelChecking_linearizable() {
    modelChecking().check(TwoLimitBucket.class);
  }

  @Test
  void rateLimiterThreeKeys_modelChecking_linearizable() {
    modelChecking().check(Keyed.class);
  }

  @Test
  void rateLimiterPlansKeysConverting_modelChecking_linearizable() {
    // fewer scenarios than the others (the three operations on two converting keys make each
    // one slow to explore); a conversion published before its call was applied fails it
    modelChecking().iterations(6).invocationsPerIteration(300).check(PlansKeyed.class);
  }

  @Test
  void rateLimiterPlansKeysConverting_stress_linearizable() {
    stress().check(PlansKeyed.class);
  }

  @Test
  void reservationsOnABucket_modelChecking_linearizable() {
    // more scenarios than the others: a cancel that compares and then writes in two steps
    // (a take or refund between them lost) was found in 3 of 3 runs at 50 iterations, missed at 12
    modelChecking().iterations(50).check(ReservingBucket.class);
  }

  @Test
  void reservationsTwoLimits_modelChecking_linearizable() {
    modelChecking().iterations(8).check(ReservingTwoLimits.class);
  }

  @Test
  void reservationsOnAKey_modelChecking_linearizable() {
    modelChecking().iterations(8).check(ReservingKey.class);
  }

  @Test
  void reservationsOnABucket_stress_linearizable() {
    stress().check(ReservingBucket.class);
  }

  @Test
  void tokenBucketWholeNanos_stress_linearizable() {
    stress().check(LongBucket.class);
  }

  @Test
  void rateLimiterThreeKeys_stress_linearizable() {
    stress().check(Keyed.class);
  }
}
