package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad input is refused at the door, at build time where possible, with an exception whose message
 * names the offending value and the bound it breaks. Values just inside each bound are accepted.
 */
class BadInputTest {

  private static final Duration SECOND = Duration.ofSeconds(1);

  private static void refused(ThrowingCallable call, String... parts) {
    assertThatThrownBy(call).isInstanceOf(IllegalArgumentException.class)
        .satisfies(e -> {
          for (String part : parts) {
            assertThat(e.getMessage()).contains(part);
          }
        });
  }

  private static void nullRefused(ThrowingCallable call, String name) {
    assertThatThrownBy(call).isInstanceOf(NullPointerException.class).hasMessage(name);
  }

  // ---- Limit ----

  @ParameterizedTest
  @ValueSource(longs = {0, -1, Long.MIN_VALUE})
  void limit_zeroOrNegativeRefillPermits_refusedNamingValueAndBound(long permits) {
    refused(() -> new Limit(10, permits, SECOND, 10),
        "permits per period (" + permits + " per PT1S)", "at least 1");
    refused(() -> Limit.perSecond(permits), "permits per period (" + permits + " per PT1S)",
        "at least 1");
    refused(() -> Limit.perDay(permits), "permits per period (" + permits + " per PT24H)");
    assertThatThrownBy(() -> Limit.perSecond(permits)).message().doesNotContain("refill");
  }

  @Test
  void limit_zeroOrNegativePeriod_refusedNamingValueAndBound() {
    refused(() -> Limit.of(1, Duration.ZERO), "refillPeriod (PT0S)", "must be positive");
    refused(() -> Limit.of(1, Duration.ofNanos(-1)), "refillPeriod (PT-0.000000001S)", "positive");
    refused(() -> Limit.of(1, Duration.ofDays(-1)), "refillPeriod (PT-24H)", "positive");
  }

  @Test
  void limit_periodBeyondLongNanos_refusedNamingValueAndBound() {
    refused(() -> Limit.of(1, Duration.ofSeconds(Long.MAX_VALUE)),
        "refillPeriod (PT" + (Long.MAX_VALUE / 3600) + "H", "at most " + Long.MAX_VALUE + " ns");
  }

  @Test
  void limit_rateAboveOnePerNanosecond_refusedNamingValueAndBound() {
    refused(() -> Limit.perSecond(1_000_000_001), "rate (1000000001 per PT1S)",
        "maximum of 1 permit per nanosecond (10^9 per second)");
    refused(() -> Limit.of(2, Duration.ofNanos(1)), "rate (2 per PT0.000000001S)", "1 permit per nanosecond");
    // exactly one per nanosecond is the bound, and is accepted
    assertThat(Limit.perSecond(1_000_000_000).emissionInterval()).isEqualTo(Duration.ofNanos(1));
    assertThat(Limit.of(1, Duration.ofNanos(1)).capacity()).isEqualTo(1);
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1, Limit.MAX_CAPACITY + 1, Long.MAX_VALUE})
  void limit_capacityOutOfRange_refusedNamingValueAndBound(long capacity) {
    refused(() -> new Limit(capacity, 1_000_000_000, SECOND, 0),
        "capacity (" + capacity + ")", "between 1 and 1000000000000000");
    refused(() -> Limit.perSecond(10).withCapacity(capacity), "capacity (" + capacity + ")",
        "between 1 and " + Limit.MAX_CAPACITY);
  }

  @Test
  void limit_capacityAtTheBounds_accepted() {
    assertThat(Limit.perSecond(1_000_000_000).withCapacity(Limit.MAX_CAPACITY).capacity())
        .isEqualTo(1_000_000_000_000_000L);
    assertThat(Limit.perSecond(10).withCapacity(1).initialPermits()).isEqualTo(1);
  }

  @Test
  void limit_initialPermitsOutOfRange_refusedNamingValueAndBound() {
    refused(() -> new Limit(10, 1, SECOND, -1), "initialPermits (-1)", "between 0 and capacity (10)");
    refused(() -> new Limit(10, 1, SECOND, 11), "initialPermits (11)", "between 0 and capacity (10)");
    refused(() -> Limit.perSecond(10).withInitialPermits(11), "initialPermits (11)", "capacity (10)");
    assertThat(Limit.perSecond(10).withInitialPermits(0).initialPermits()).isZero();
    assertThat(Limit.perSecond(10).withInitialPermits(10).initialPermits()).isEqualTo(10);
  }

  @Test
  void limit_fillTimeAbove2To62Nanos_refusedNamingValueAndBound() {
    // capacity 10^15 at one per second: 10^24 ns to fill
    refused(() -> new Limit(Limit.MAX_CAPACITY, 1, SECOND, 0),
        "time to fill an empty bucket (capacity 1000000000000000 at 1 per PT1S",
        "= 1000000000000000000000000 ns", "maximum of 4611686018427387904 ns");
    // one per 2^62 + 1 ns: just over; one per 2^62 ns: the bound itself, accepted
    refused(() -> Limit.of(1, Duration.ofNanos(Limit.MAX_FILL_NANOS + 1)),
        "= 4611686018427387905 ns", "maximum of 4611686018427387904 ns");
    assertThat(Limit.of(1, Duration.ofNanos(Limit.MAX_FILL_NANOS)).fillTime())
        .isEqualTo(Duration.ofNanos(1L << 62));
    // two hundred years per permit
    refused(() -> Limit.of(1, Duration.ofDays(200 * 365)), "time to fill", "4611686018427387904 ns");
  }

  @Test
  void limit_reducedNumeratorAbove2To31Minus1_refusedNamingValueAndBound() {
    refused(() -> new Limit(10, 3_000_000_001L, Duration.ofSeconds(4), 10),
        "rate (3000000001 per 4000000000 ns) cannot be exact",
        "in lowest terms its permits (3000000001) must be at most 2147483647");
    assertThatThrownBy(() -> new Limit(10, 3_000_000_001L, Duration.ofSeconds(4), 10)).message()
        .doesNotContain("reduces to 3000000001 per 4000000000 ns");
    // a rate that does reduce names its lowest terms
    refused(() -> new Limit(10, 4_294_967_302L, Duration.ofSeconds(6), 10),
        "in lowest terms its permits (2147483651 per 3000000000 ns) must be at most 2147483647");
    // 2^31 per 3 s shares no factor with 3 * 10^9 but 2^9: reduces to 4194304 per 5859375 ns
    assertThat(new Limit(10, 1L << 31, Duration.ofSeconds(3), 10).refillPermits()).isEqualTo(1L << 31);
    // 3 * 10^9 per 3 s reduces to 1 per ns; 2^31 - 1 per 7 s is the bound itself
    assertThat(new Limit(10, 3_000_000_000L, Duration.ofSeconds(3), 10).emissionInterval())
        .isEqualTo(Duration.ofNanos(1));
    assertThat(new Limit(10, Integer.MAX_VALUE, Duration.ofSeconds(7), 10).refillPermits())
        .isEqualTo(Integer.MAX_VALUE);
    // 2^31 + 3 shares no factor with 3 * 10^9 (2^31 + 1 would: it is a multiple of 3)
    refused(() -> new Limit(10, Integer.MAX_VALUE + 4L, Duration.ofSeconds(3), 10),
        "its permits (2147483651)", "at most 2147483647");
  }

  @Test
  void limit_nullPeriod_refusedNamingIt() {
    nullRefused(() -> Limit.of(1, null), "refillPeriod");
    nullRefused(() -> new Limit(1, 1, null, 1), "refillPeriod");
  }

  // ---- Policy ----

  @Test
  void policy_emptyOrTooMany_refusedNamingCountAndBound() {
    refused(Policy::of, "between 1 and 16 limits", "got 0");
    refused(() -> new Policy(List.of()), "between 1 and 16 limits, got 0");
    List<Limit> seventeen = Collections.nCopies(17, Limit.perSecond(1));
    refused(() -> new Policy(seventeen), "between 1 and 16 limits, got 17");
    assertThat(new Policy(Collections.nCopies(16, Limit.perSecond(1))).limits()).hasSize(16);
  }

  @Test
  void policy_nullListOrElement_refusedNamingIt() {
    nullRefused(() -> Policy.of((Limit[]) null), "limits");
    nullRefused(() -> new Policy(null), "limits");
    nullRefused(() -> Policy.of((Limit) null), "limits[0]");
    nullRefused(() -> Policy.of(Limit.perSecond(1), null), "limits[1]");
    nullRefused(() -> new Policy(Arrays.asList(Limit.perSecond(1), Limit.perMinute(1), null)), "limits[2]");
  }

  @Test
  void policy_copiesItsList() {
    List<Limit> limits = new ArrayList<>(List.of(Limit.perSecond(1)));
    Policy policy = new Policy(limits);
    limits.add(Limit.perMinute(1));
    assertThat(policy.limits()).hasSize(1);
    assertThatThrownBy(() -> policy.limits().add(Limit.perHour(1)))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  // ---- TokenBucket ----

  @Test
  void tokenBucket_nullLimitPolicyOrTicker_refusedNamingIt() {
    nullRefused(() -> TokenBucket.of((Limit) null), "limit");
    nullRefused(() -> TokenBucket.of(null, new ManualTicker()), "policy");
    nullRefused(() -> TokenBucket.of(Policy.of(Limit.perSecond(1)), null), "ticker");
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1, Long.MIN_VALUE})
  void tokenBucket_zeroOrNegativePermits_refusedNamingValueAndBound(long permits) {
    for (Policy policy : List.of(Policy.of(Limit.perSecond(10)), Policy.of(Limit.perSecond(7)))) {
      TokenBucket bucket = TokenBucket.of(policy, new ManualTicker());
      refused(() -> bucket.tryAcquire(permits), "permits (" + permits + ")", "at least 1");
      refused(() -> bucket.decide(permits), "permits (" + permits + ")", "at least 1");
      // and nothing was taken
      assertThat(bucket.availablePermits()).isEqualTo(policy.maxPermitsPerRequest());
    }
  }

  @Test
  void tokenBucket_moreThanCapacity_isADecisionNotAnError() {
    TokenBucket bucket = TokenBucket.of(Policy.of(Limit.perSecond(10)), new ManualTicker());
    assertThatCode(() -> bucket.decide(Long.MAX_VALUE)).doesNotThrowAnyException();
    assertThat(bucket.decide(11).canEverSucceed()).isFalse();
    assertThat(bucket.tryAcquire(11)).isFalse();
  }

  // ---- RateLimiter ----

  @Test
  void rateLimiter_nullKey_refusedNamingIt() {
    try (RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10))
        .ticker(new ManualTicker()).build()) {
      nullRefused(() -> limiter.tryAcquire(null), "key");
      nullRefused(() -> limiter.tryAcquire(null, 1), "key");
      nullRefused(() -> limiter.decide(null, 1), "key");
      nullRefused(() -> limiter.decideAsync(null, 1), "key");
      nullRefused(() -> limiter.availablePermits(null), "key");
      assertThat(limiter.size()).isZero();
    }
  }

  @ParameterizedTest
  @ValueSource(longs = {0, -1, Long.MIN_VALUE})
  void rateLimiter_zeroOrNegativePermits_refusedNamingValueAndBound(long permits) {
    try (RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10))
        .ticker(new ManualTicker()).build()) {
      refused(() -> limiter.tryAcquire("k", permits), "permits (" + permits + ")", "at least 1");
      refused(() -> limiter.decide("k", permits), "permits (" + permits + ")", "at least 1");
      // refused when called, not in the returned stage
      refused(() -> limiter.decideAsync("k", permits), "permits (" + permits + ")", "at least 1");
      // the refusals created no bucket
      assertThat(limiter.size()).isZero();
    }
  }

  @Test
  void rateLimiterBuilder_nullArguments_refusedNamingThem() {
    nullRefused(() -> RateLimiter.builder((Limit) null), "limit");
    nullRefused(() -> RateLimiter.builder((Policy) null), "policy");
    RateLimiter.Builder builder = RateLimiter.builder(Limit.perSecond(1));
    nullRefused(() -> builder.ticker(null), "ticker");
    nullRefused(() -> builder.store(null), "factory");
    nullRefused(() -> builder.name(null), "name");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "api limiter", "api/v1", "naïve", "a:b", "x\n",
      "12345678901234567890123456789012345678901234567890123456789012345"})
  void rateLimiterBuilder_badName_refusedNamingValueAndRule(String name) {
    refused(() -> RateLimiter.builder(Limit.perSecond(1)).name(name),
        "name (\"" + name + "\")", "1 to 64 characters from [A-Za-z0-9._-]");
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "api", "api.v1_login-2", "A9",
      "1234567890123456789012345678901234567890123456789012345678901234"})
  void rateLimiterBuilder_goodName_accepted(String name) {
    try (RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(1)).name(name).build()) {
      assertThat(limiter.name()).isEqualTo(name);
    }
  }

  // ---- Decision factories (for stores outside this module) ----

  @Test
  void decisionFactories_outOfRangeFields_refusedNamingValueAndBound() {
    Policy p = Policy.of(Limit.perSecond(10), Limit.perMinute(100));
    refused(() -> Decision.allowed(p, 0, -1, 0), "remaining (-1)", "from 0 to 10");
    refused(() -> Decision.allowed(p, 1, 101, 0), "remaining (101)", "from 0 to 100");
    refused(() -> Decision.allowed(p, 2, 0, 0), "bindingIndex (2)", "from 0 to 1");
    refused(() -> Decision.allowed(p, -1, 0, 0), "bindingIndex (-1)", "from 0 to 1");
    refused(() -> Decision.allowed(p, 0, 0, -1), "resetAfterNanos (-1)", "at least 0");
    refused(() -> Decision.denied(p, 0, 0, 0, 0), "retryAfterNanos (0)", "at least 1");
    refused(() -> Decision.exceedsCapacity(p, 0, -2, 0), "remaining (-2)", "from 0 to 10");
    assertThat(Decision.denied(p, 0, 0, 1, 0).retryAfter()).contains(Duration.ofNanos(1));
    assertThat(Decision.denied(p, 1, 0, 1, 0).bindingLimit()).contains(Limit.perMinute(100));
    assertThat(Decision.denied(p, 1, 0, 1, 0).limit()).isEqualTo(100);
  }

  @Test
  void manualTicker_nullDuration_refusedNamingIt() {
    nullRefused(() -> new ManualTicker().advance((Duration) null), "delta");
  }

  // ---- Plans, live changes, refunds, the near-limit fraction ----

  /**
   * A plan function that returns null, or a name that is not a plan, is an error naming what it
   * returned and the plans, on every entry point: never a default plan, never a shared bucket,
   * never an unlimited one. Other keys keep their own exact buckets.
   */
  @Test
  void plans_functionReturnsNullOrAnUnknownPlan_refusedNamingItAndThePlans_noBucket() {
    Plans<String> plans = Plans.<String>builder()
        .plan("free", Policy.of(Limit.perMinute(2)))
        .plan("pro", Policy.of(Limit.perMinute(10)))
        .assign(key -> key.startsWith("null") ? null : key.startsWith("gold") ? "gold" : "free")
        .build();
    try (RateLimiter<String> limiter = RateLimiter.builder(plans).ticker(new ManualTicker())
        .build()) {
      for (String key : List.of("null-1", "gold-1")) {
        String returned = key.startsWith("null") ? "returned null" : "returned \"gold\"";
        List<ThrowingCallable> calls = List.of(
            () -> limiter.tryAcquire(key), () -> limiter.decide(key, 1),
            () -> limiter.decideAsync(key, 1), () -> limiter.availablePermits(key),
            () -> limiter.refund(key, 1, Duration.ZERO), () -> limiter.policy(key));
        for (ThrowingCallable call : calls) {
          assertThatThrownBy(call).isInstanceOf(IllegalStateException.class)
              .hasMessageContaining(returned).hasMessageContaining("[free, pro]");
        }
      }
      assertThat(limiter.size()).as("no bucket for a key without a plan").isZero();
      assertThat(limiter.tryAcquire("a", 2)).isTrue();
      assertThat(limiter.tryAcquire("a")).isFalse();
      assertThat(limiter.tryAcquire("b", 2)).as("its own bucket, not a shared one").isTrue();
      assertThat(limiter.size()).isEqualTo(2);
    }
  }

  @Test
  void plansBuilder_badInput_refusedNamingValueAndRule() {
    Policy p = Policy.of(Limit.perSecond(1));
    assertThatThrownBy(() -> Plans.<String>builder().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("at least one plan");
    assertThatThrownBy(() -> Plans.<String>builder().plan("a", p).plan("b", p).build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("[a, b]")
        .hasMessageContaining("need an assignment");
    refused(() -> Plans.<String>builder().plan("a", p).plan("a", p), "plan \"a\"", "twice");
    refused(() -> Plans.<String>builder().plan("free plan", p),
        "plan name (\"free plan\")", "1 to 64 characters from [A-Za-z0-9._-]");
    nullRefused(() -> Plans.<String>builder().plan(null, p), "name");
    nullRefused(() -> Plans.<String>builder().plan("a", null), "policy");
    nullRefused(() -> Plans.<String>builder().assign(null), "assign");
    nullRefused(() -> RateLimiter.builder((Plans<?>) null), "plans");
    Plans<String> one = Plans.<String>builder().plan("only", p).build();
    assertThat(one.policyFor("any")).isEqualTo(p);
    refused(() -> one.update("other", p), "plan \"other\"", "[only]");
    refused(() -> one.policy("other"), "plan \"other\"", "[only]");
    nullRefused(() -> one.update("only", null), "policy");
    assertThat(one.policy("only")).as("a refused update changes nothing").isEqualTo(p);
  }

  @Test
  void updatePolicy_nullOrOnALimiterWithPlans_refused() {
    try (RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(1)).build()) {
      nullRefused(() -> limiter.updatePolicy(null), "newPolicy");
      assertThat(limiter.policy()).isEqualTo(Policy.of(Limit.perSecond(1)));
    }
    Plans<String> plans = Plans.<String>builder().plan("only", Policy.of(Limit.perSecond(1)))
        .build();
    try (RateLimiter<String> limiter = RateLimiter.builder(plans).name("api").build()) {
      assertThatThrownBy(() -> limiter.updatePolicy(Policy.of(Limit.perSecond(2))))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("api")
          .hasMessageContaining("Plans.update");
    }
  }

  /**
   * A refund of 0, or of more than the key's current policy lets a request take (its smallest
   * capacity), is refused naming the value and the bound, and gives nothing back; the bound
   * follows a live change and each key's plan.
   */
  @Test
  void refund_zeroOrAboveTheCurrentCapacity_refusedNamingValueAndBound_nothingGivenBack() {
    ManualTicker t = new ManualTicker();
    try (RateLimiter<String> limiter = RateLimiter.builder(Limit.perMinute(5)).ticker(t).build()) {
      assertThat(limiter.tryAcquire("k", 5)).isTrue();
      refused(() -> limiter.refund("k", 0, Duration.ZERO), "permits to refund (0)", "from 1 to 5");
      refused(() -> limiter.refund("k", 6, Duration.ZERO), "permits to refund (6)", "from 1 to 5");
      refused(() -> limiter.refund("k", 1, Duration.ofNanos(-1)), "heldFor (PT-0.000000001S)",
          "at least 0");
      assertThat(limiter.availablePermits("k")).isZero();
      limiter.updatePolicy(Policy.of(Limit.perMinute(3), Limit.perMinute(100)));
      refused(() -> limiter.refund("k", 4, Duration.ZERO), "permits to refund (4)", "from 1 to 3");
      assertThat(limiter.availablePermits("k")).isZero();
      assertThat(limiter.refund("k", 3, Duration.ZERO)).isTrue();
      assertThat(limiter.availablePermits("k")).isEqualTo(3);
    }
    Plans<String> plans = Plans.<String>builder()
        .plan("free", Policy.of(Limit.perMinute(2)))
        .plan("pro", Policy.of(Limit.perMinute(10)))
        .assign(key -> key.startsWith("pro") ? "pro" : "free").build();
    try (RateLimiter<String> limiter = RateLimiter.builder(plans).ticker(t).build()) {
      assertThat(limiter.tryAcquire("pro-1", 10)).isTrue();
      assertThat(limiter.refund("pro-1", 10, Duration.ZERO)).isTrue();
      refused(() -> limiter.refund("free-1", 3, Duration.ZERO), "permits to refund (3)",
          "from 1 to 2");
      assertThat(limiter.size()).as("a refused refund creates no bucket").isEqualTo(1);
    }
  }

  @ParameterizedTest
  @ValueSource(doubles = {0, -0.0, 1, -0.1, 1.5, -1, Double.NaN, Double.POSITIVE_INFINITY,
      Double.NEGATIVE_INFINITY})
  void nearLimit_outsideZeroToOne_refusedNamingValueAndBound(double fraction) {
    refused(() -> RateLimiter.builder(Limit.perSecond(1)).nearLimit(fraction),
        "nearLimit (" + fraction + ")", "strictly between 0 and 1");
  }

  @ParameterizedTest
  @ValueSource(doubles = {Double.MIN_VALUE, 0.01, 0.2, 0.5, 0.99, 0.9999999999999999})
  void nearLimit_insideZeroToOne_accepted(double fraction) {
    assertThatCode(() -> RateLimiter.builder(Limit.perSecond(1)).nearLimit(fraction).build()
        .close()).doesNotThrowAnyException();
  }
}
