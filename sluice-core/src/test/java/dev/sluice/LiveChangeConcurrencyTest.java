package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A key's policy replaced while 8 threads hammer it, the clock frozen: real threads released
 * together ({@link ConcurrencyTest#together}), bounded loops, no sleeps.
 *
 * <h2>The exact figure</h2>
 * The bucket starts full under {@code P1} (capacity {@code C1}). Say {@code k} requests are
 * admitted before the first decision under {@code P2} converts the bucket: it then holds
 * {@code C1 - k}, of which it carries {@code x = min(C2, C1 - k)}; the clock is frozen, so
 * nothing refills and every later admission, under either policy, draws from those {@code x}
 * (a request that read {@code P1} just before the change and reaches the store after the
 * conversion converts the key back, but every count is then at most {@code x <= C2}, below both
 * capacities, so no conversion caps or rounds anything). In all: {@code k + min(C2, C1 - k) =
 * min(C1, k + C2)}. And {@code k} is observable: under a frozen clock each admission under
 * {@code P1} before the conversion reports a distinct remaining count {@code C1 - 1 ... C1 - k},
 * while any admission after it reports fewer than {@code C2}; so the {@code P1} admissions that
 * report at least {@code C2} remaining number {@code min(k, C1 - C2)}, call it {@code k'}, and
 * {@code min(C1, k' + C2)} equals the total in both cases ({@code k <= C1 - C2}: it is {@code k
 * + C2}; otherwise {@code C1}). For an upgrade ({@code C2 >= C1}) that is {@code C1} exactly.
 * The capacities of the two policies differ, so a decision's {@link Decision#limit()} says which
 * policy made it.
 */
class LiveChangeConcurrencyTest {

  private static final int THREADS = 8;

  /** How the key's policy is replaced. */
  enum Change {
    /** {@link RateLimiter#updatePolicy}. */
    UPDATE_POLICY,
    /** {@link Plans#update} of the key's plan. */
    PLAN_UPDATE,
    /** The key's assignment moves it to another plan. */
    REASSIGNMENT
  }

  static Stream<Arguments> cases() {
    Policy[][] pairs = {
        // upgrade, one-CAS engine to one-CAS engine
        {Policy.of(Limit.perSecond(1000).withCapacity(20_000)),
            Policy.of(Limit.perSecond(2000).withCapacity(50_000))},
        // downgrade, one-CAS engine to a fractional interval
        {Policy.of(Limit.perSecond(1000).withCapacity(40_000)),
            Policy.of(Limit.perSecond(7).withCapacity(3_000))},
        // upgrade, fractional interval to one-CAS engine
        {Policy.of(Limit.perSecond(7).withCapacity(20_000)),
            Policy.of(Limit.perMinute(6000).withCapacity(30_000))},
        // downgrade, fractional to fractional
        {Policy.of(new Limit(40_000, 999_983, java.time.Duration.ofSeconds(7), 40_000)),
            Policy.of(Limit.perSecond(7).withCapacity(2_500))},
    };
    return Stream.of(pairs).flatMap(pair -> Stream.of(Change.values())
        .map(change -> Arguments.of(pair[0], pair[1], change)));
  }

  @ParameterizedTest(name = "{2}: {0} -> {1}")
  @MethodSource("cases")
  void decide_policyReplacedWhileEightThreadsHammerOneKey_admitsExactlyTheCarriedFigure(
      Policy p1, Policy p2, Change change) {
    long c1 = p1.maxPermitsPerRequest();
    long c2 = p2.maxPermitsPerRequest();
    ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - 3); // frozen; wraps if moved
    AtomicReference<String> assigned = new AtomicReference<>("one");
    Plans<String> plans = Plans.<String>builder().plan("one", p1).plan("two", p2)
        .assign(key -> assigned.get()).build();
    RateLimiter.Builder builder = change == Change.UPDATE_POLICY ? RateLimiter.builder(p1)
        : RateLimiter.builder(plans);
    Runnable replace = switch (change) {
      case UPDATE_POLICY -> null; // set below, once the limiter exists
      case PLAN_UPDATE -> () -> plans.update("one", p2);
      case REASSIGNMENT -> () -> assigned.set("two");
    };
    try (RateLimiter<String> limiter = builder.ticker(ticker).build()) {
      Runnable doReplace = replace != null ? replace : () -> limiter.updatePolicy(p2);
      LongAdder underP1 = new LongAdder();
      LongAdder underP2 = new LongAdder();
      LongAdder beforeConversion = new LongAdder(); // P1 admissions reporting >= C2 remaining
      long maxAttempts = 4 * (c1 + c2) + 10_000;
      ConcurrencyTest.together(THREADS, id -> {
        for (long i = 0; ; i++) {
          if (i >= maxAttempts) {
            throw new AssertionError("thread " + id + " was never refused under P2");
          }
          if (id == 0 && i == 50) {
            doReplace.run(); // inside the hammering: thread 0 after its 50th request
          }
          Decision d = limiter.decide("the-key", 1);
          if (d.limit() == c1) {
            if (d.allowed()) {
              underP1.increment();
              if (d.remaining() >= c2) {
                beforeConversion.increment();
              }
            }
          } else {
            assertThat(d.limit()).isEqualTo(c2);
            if (!d.allowed()) {
              return; // refused under P2 with the clock frozen: final
            }
            underP2.increment();
            assertThat(d.remaining()).as("P2 never holds more than C2").isLessThan(c2);
          }
        }
      });
      long total = underP1.sum() + underP2.sum();
      assertThat(total).as("P1's bound with the clock frozen").isLessThanOrEqualTo(c1);
      assertThat(underP2.sum()).as("P2's bound with the clock frozen").isLessThanOrEqualTo(c2);
      assertThat(total).as("admitted, %d under P1 (%d before the conversion), %d under P2",
          underP1.sum(), beforeConversion.sum(), underP2.sum())
          .isEqualTo(Math.min(c1, beforeConversion.sum() + c2));
      if (c2 >= c1) {
        assertThat(total).as("an upgrade admits exactly the first capacity").isEqualTo(c1);
      }
      // no lost state: the key is empty under P2, and refills at P2's rate from here
      assertThat(limiter.policy("the-key")).isEqualTo(p2);
      assertThat(limiter.availablePermits("the-key")).isZero();
      assertThat(limiter.size()).isEqualTo(1);
      ticker.advance(p2.limits().get(0).emissionInterval());
      Decision next = limiter.decide("the-key", 1);
      assertThat(next.allowed()).isTrue();
      assertThat(next.limit()).isEqualTo(c2);
      assertThat(next.remaining()).isZero();
    }
  }
}
