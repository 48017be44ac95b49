package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The near-limit signal and shadow mode, with a frozen {@link ManualTicker}: the near-limit event
 * fires for exactly the admissions that leave the binding limit at or below the fraction of its
 * capacity; a limiter in shadow mode decides and takes exactly as an enforcing one, reports each
 * would-be refusal, and lets every request through.
 */
class ShadowAndNearLimitTest {

  /** What a limiter told its listener, in order. */
  static final class Recorder implements RateLimitListener {
    final List<String> events = new ArrayList<>();

    @Override
    public void onDecision(String limiter, boolean allowed, Decision.Source source, long nanos) {
      events.add((allowed ? "allowed" : "denied"));
    }

    @Override
    public void onShadowDecision(
        String limiter, boolean allowed, Decision.Source source, long nanos) {
      events.add("shadow " + (allowed ? "allowed" : "denied"));
    }

    @Override
    public void onNearLimit(String limiter, long remaining, long capacity) {
      events.add("near " + remaining + "/" + capacity);
    }

    List<String> near() {
      return events.stream().filter(e -> e.startsWith("near")).toList();
    }
  }

  @Test
  void nearLimit_default_firesForEachAdmissionLeavingTwentyPercentOrLessAndNeverForARefusal() {
    Recorder r = new Recorder();
    try (RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10))
        .ticker(new ManualTicker()).listener(r).build()) {
      for (int i = 0; i < 12; i++) {
        if (i % 2 == 0) {
          limiter.decide("k", 1);
        } else {
          limiter.tryAcquire("k");
        }
      }
      assertThat(r.events).containsExactly("allowed", "allowed", "allowed", "allowed",
          "allowed", "allowed", "allowed", "allowed", "near 2/10", "allowed", "near 1/10",
          "allowed", "near 0/10", "denied", "denied");
    }
  }

  /**
   * For every fraction, the event fires at exactly the remaining counts at or below the fraction
   * of the capacity, read as the decimal it is written as: 0.29 of 100 is 29 (in binary 0.29 is
   * a little less, and 0.29 * 100 is 28.999999999999996 in doubles).
   */
  @ParameterizedTest
  @ValueSource(doubles = {0.01, 0.1, 0.2, 0.25, 0.29, 0.3, 0.57, 0.7, 0.99, 0.999})
  void nearLimit_anyFraction_firesExactlyAtOrBelowTheFractionOfTheCapacity(double fraction) {
    for (long capacity : new long[] {1, 3, 7, 10, 100, 1000}) {
      Recorder r = new Recorder();
      try (RateLimiter<String> limiter = RateLimiter.builder(Limit.perMinute(capacity))
          .ticker(new ManualTicker()).nearLimit(fraction).listener(r).build()) {
        List<String> expected = new ArrayList<>();
        long threshold = BigDecimal.valueOf(fraction).multiply(BigDecimal.valueOf(capacity))
            .setScale(0, RoundingMode.FLOOR).longValueExact();
        for (long left = capacity - 1; left >= 0; left--) {
          assertThat(limiter.tryAcquire("k")).isTrue();
          if (left <= threshold) {
            expected.add("near " + left + "/" + capacity);
          }
        }
        assertThat(limiter.tryAcquire("k")).isFalse();
        assertThat(r.near()).as("fraction %s of %d", fraction, capacity)
            .containsExactlyElementsOf(expected);
      }
    }
  }

  /** Several limits: the event is about the binding limit (the fewest permits left) and names its capacity. */
  @Test
  void nearLimit_severalLimits_judgesTheBindingLimitAgainstItsOwnCapacity() {
    Recorder r = new Recorder();
    ManualTicker t = new ManualTicker(Long.MAX_VALUE - 500_000_000L);
    try (RateLimiter<String> limiter = RateLimiter.builder(
        Policy.of(Limit.perSecond(10), Limit.perMinute(12))).ticker(t).listener(r).build()) {
      assertThat(limiter.tryAcquire("k", 7)).isTrue(); // 3 and 5 left: 3 of 10 is above 20%
      assertThat(limiter.tryAcquire("k", 1)).isTrue(); // 2 of 10
      assertThat(limiter.tryAcquire("k", 1)).isTrue(); // 1 of 10
      t.advance(Duration.ofSeconds(1)); // 10 of 10 again, 3.2 of 12
      assertThat(limiter.tryAcquire("k", 1)).isTrue(); // 9 of 10, 2 of 12: binding, 2 <= 2.4
      assertThat(r.near()).containsExactly("near 2/10", "near 1/10", "near 2/12");
    }
  }

  @Test
  void shadow_decidesAndTakesExactlyAsEnforcing_countsWouldBeRefusals_letsEveryRequestThrough() {
    ManualTicker t = new ManualTicker(Long.MAX_VALUE - 2);
    Recorder heard = new Recorder();
    Policy policy = Policy.of(Limit.perSecond(7).withCapacity(3));
    try (RateLimiter<String> shadow = RateLimiter.builder(policy).ticker(t).shadow(true)
            .listener(heard).build();
        RateLimiter<String> enforcing = RateLimiter.builder(policy).ticker(t).build()) {
      assertThat(shadow.shadow()).isTrue();
      assertThat(enforcing.shadow()).isFalse();
      List<String> expected = new ArrayList<>();
      long[] sizes = {1, 1, 2, 1, 1, 5, 1};
      for (int i = 0; i < sizes.length; i++) {
        if (i == 4) {
          t.advance(Duration.ofMillis(150)); // one permit (1/7 s) refills in both
        }
        Decision would = enforcing.decide("k", sizes[i]);
        Decision let = shadow.decide("k", sizes[i]);
        assertThat(let.allowed()).as("step %d", i).isTrue();
        assertThat(let.wouldRefuse()).as("step %d", i).isEqualTo(!would.allowed());
        assertThat(would.wouldRefuse()).isFalse();
        assertThat(let.remaining()).isEqualTo(would.remaining());
        assertThat(let.limit()).isEqualTo(would.limit());
        assertThat(let.retryAfter()).isEqualTo(would.retryAfter());
        assertThat(let.resetAfter()).isEqualTo(would.resetAfter());
        assertThat(let.canEverSucceed()).isEqualTo(would.canEverSucceed());
        assertThat(shadow.availablePermits("k")).as("took exactly what enforcing took")
            .isEqualTo(enforcing.availablePermits("k"));
        expected.add("shadow " + (would.allowed() ? "allowed" : "denied"));
        if (would.allowed() && would.remaining() <= 0.2 * 3) {
          expected.add("near " + would.remaining() + "/3");
        }
      }
      assertThat(heard.events).as("shadow decisions only, would-be refusals as denied")
          .containsExactlyElementsOf(expected);
      assertThat(heard.events).filteredOn(e -> e.equals("shadow denied")).hasSize(3);
      // the other entry points let through too, the boolean one without a listener as well
      assertThat(shadow.tryAcquire("k")).isTrue();
      assertThat(shadow.decideAsync("k", 1).toCompletableFuture().join().wouldRefuse()).isTrue();
      assertThat(enforcing.tryAcquire("k")).isFalse();
    }
    try (RateLimiter<String> quiet = RateLimiter.builder(Limit.perMinute(1))
        .ticker(new ManualTicker()).shadow(true).build()) {
      assertThat(quiet.tryAcquire("k")).isTrue();
      assertThat(quiet.tryAcquire("k")).isTrue();
      assertThat(quiet.decide("k", 1).wouldRefuse()).isTrue();
      assertThat(quiet.availablePermits("k")).isZero();
    }
  }
}
