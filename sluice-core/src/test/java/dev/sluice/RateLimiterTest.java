package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The keyed limiter: buckets are created lazily, one per key actually used; keys are
 * independent; reading the available permits creates nothing; the asynchronous path gives the
 * same decisions; closing forgets everything.
 */
class RateLimiterTest {

  private static final long S = 1_000_000_000L;

  static List<Policy> policies() {
    return List.of(
        Policy.of(Limit.perSecond(10).withCapacity(50)),
        Policy.of(Limit.perSecond(7)),
        Policy.of(Limit.perSecond(10), Limit.perMinute(100)));
  }

  private static RateLimiter<String> limiter(Policy policy, Ticker ticker) {
    return RateLimiter.builder(policy).ticker(ticker).build();
  }

  @Test
  void size_growsOnlyWithKeysUsed() {
    ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - S);
    try (RateLimiter<String> limiter = limiter(Policy.of(Limit.perSecond(10)), ticker)) {
      assertThat(limiter.size()).isZero();
      assertThat(limiter.tryAcquire("a")).isTrue();
      assertThat(limiter.size()).isEqualTo(1);
      for (int i = 0; i < 5; i++) {
        limiter.tryAcquire("a");
        limiter.decide("a", 1);
      }
      assertThat(limiter.size()).isEqualTo(1);
      limiter.decide("b", 3);
      limiter.decideAsync("c", 1).toCompletableFuture().join();
      assertThat(limiter.size()).isEqualTo(3);
      // keys are compared with equals
      limiter.tryAcquire(new String(new char[] {'a'}));
      assertThat(limiter.size()).isEqualTo(3);
      for (int i = 0; i < 1000; i++) {
        limiter.tryAcquire("k" + i);
      }
      assertThat(limiter.size()).isEqualTo(1003);
    }
  }

  @ParameterizedTest
  @MethodSource("policies")
  void availablePermits_unknownKey_reportsAFreshBucketAndCreatesNone(Policy policy) {
    ManualTicker ticker = new ManualTicker(-7);
    try (RateLimiter<String> limiter = limiter(policy, ticker)) {
      for (int i = 0; i < 100; i++) {
        assertThat(limiter.availablePermits("nobody-" + i)).isEqualTo(policy.maxPermitsPerRequest());
      }
      assertThat(limiter.size()).isZero();
    }
    Policy slowStart = Policy.of(Limit.perSecond(10).withCapacity(50).withInitialPermits(5));
    try (RateLimiter<String> limiter = limiter(slowStart, ticker)) {
      assertThat(limiter.availablePermits("x")).isEqualTo(5);
      assertThat(limiter.size()).isZero();
      ticker.advance(Duration.ofSeconds(1));
      // it did not start counting at the read: a key first used now starts at 5 again
      assertThat(limiter.availablePermits("x")).isEqualTo(5);
      assertThat(limiter.decide("x", 6).allowed()).isFalse();
      assertThat(limiter.decide("x", 5).allowed()).isTrue();
    }
  }

  @ParameterizedTest
  @MethodSource("policies")
  void decide_drainingOneKey_leavesTheOthersUntouched(Policy policy) {
    ManualTicker ticker = new ManualTicker(Long.MIN_VALUE);
    long cap = policy.maxPermitsPerRequest();
    try (RateLimiter<String> limiter = limiter(policy, ticker)) {
      limiter.tryAcquire("b", 1);
      assertThat(limiter.decide("a", cap).allowed()).isTrue();
      Decision denied = limiter.decide("a", 1);
      assertThat(denied.allowed()).isFalse();
      assertThat(denied.retryAfterNanos()).isPositive();
      assertThat(limiter.availablePermits("a")).isZero();
      assertThat(limiter.availablePermits("b")).isEqualTo(cap - 1);
      assertThat(limiter.availablePermits("c")).isEqualTo(cap);
      assertThat(limiter.decide("c", cap).allowed()).isTrue();
      // "a" refills on its own schedule, exactly when its decision said
      ticker.advance(denied.retryAfterNanos() - 1);
      assertThat(limiter.tryAcquire("a")).isFalse();
      ticker.advance(1);
      assertThat(limiter.tryAcquire("a")).isTrue();
    }
  }

  /**
   * Each key of the limiter behaves exactly as its own {@link TokenBucket} created at the key's
   * first use, over random schedules on a few keys (long enough for full buckets to expire from
   * the store and come back: lossless).
   */
  @ParameterizedTest
  @MethodSource("policies")
  void decide_randomScheduleOverKeys_eachKeyEqualsItsOwnTokenBucket(Policy policy) {
    Random rnd = new Random(policy.hashCode());
    ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - 30 * S);
    long cap = policy.maxPermitsPerRequest();
    long fill = policy.limits().stream().mapToLong(l -> l.fillTime().toNanos()).max().orElseThrow();
    Map<String, TokenBucket> buckets = new HashMap<>();
    try (RateLimiter<String> limiter = limiter(policy, ticker)) {
      for (int i = 0; i < 5_000; i++) {
        ticker.advance(switch (rnd.nextInt(6)) {
          case 0 -> 0;
          case 1 -> (long) (rnd.nextDouble() * 2 * fill);
          default -> (long) (rnd.nextDouble() * fill / 20);
        });
        String key = "key-" + rnd.nextInt(6);
        TokenBucket bucket = buckets.computeIfAbsent(key, k -> TokenBucket.of(policy, ticker));
        long permits = rnd.nextInt(10) == 0 ? cap + 1 : 1 + rnd.nextInt((int) Math.min(cap, 4));
        String where = "step " + i + " " + key + " permits=" + permits;
        switch (rnd.nextInt(4)) {
          case 0 -> assertThat(limiter.tryAcquire(key, permits)).as(where)
              .isEqualTo(bucket.tryAcquire(permits));
          case 1 -> assertThat(limiter.availablePermits(key)).as(where)
              .isEqualTo(bucket.availablePermits());
          case 2 -> assertThat(limiter.decideAsync(key, permits).toCompletableFuture().join())
              .as(where).isEqualTo(bucket.decide(permits));
          default -> assertThat(limiter.decide(key, permits)).as(where)
              .isEqualTo(bucket.decide(permits));
        }
      }
      assertThat(limiter.size()).isBetween(0L, 6L);
    }
  }

  @ParameterizedTest
  @MethodSource("policies")
  void decideAsync_sameSchedule_equalsDecideAndIsAlreadyComplete(Policy policy) {
    ManualTicker t1 = new ManualTicker(123);
    ManualTicker t2 = new ManualTicker(123);
    Random rnd = new Random(7);
    try (RateLimiter<Integer> sync = limiter2(policy, t1);
        RateLimiter<Integer> async = limiter2(policy, t2)) {
      for (int i = 0; i < 500; i++) {
        long step = (long) (rnd.nextDouble() * 200_000_000L);
        t1.advance(step);
        t2.advance(step);
        int key = rnd.nextInt(3);
        long permits = 1 + rnd.nextInt((int) policy.maxPermitsPerRequest() + 2);
        CompletableFuture<Decision> later = async.decideAsync(key, permits).toCompletableFuture();
        assertThat(later).isDone();
        assertThat(later.join()).as("step " + i).isEqualTo(sync.decide(key, permits));
      }
    }
  }

  private static RateLimiter<Integer> limiter2(Policy policy, Ticker ticker) {
    return RateLimiter.builder(policy).ticker(ticker).build();
  }

  @Test
  void close_forgetsBucketsIsIdempotentAndNeverAdmitsAfterwardsUnlessOpen() {
    ManualTicker ticker = new ManualTicker();
    RateLimiter<String> limiter = limiter(Policy.of(Limit.perSecond(10)), ticker);
    limiter.tryAcquire("a");
    limiter.tryAcquire("b");
    assertThat(limiter.size()).isEqualTo(2);
    limiter.close();
    limiter.close();
    assertThat(limiter.size()).isZero();
    Decision after = limiter.decide("a", 1);
    assertThat(after.allowed()).isFalse();
    assertThat(after.source()).isNotEqualTo(Decision.Source.STORE);
    assertThat(limiter.tryAcquire("c")).isFalse();
    assertThat(limiter.decideAsync("c", 1).toCompletableFuture().join().allowed()).isFalse();
    assertThat(limiter.size()).isZero();

    RateLimiter<String> open = RateLimiter.builder(Limit.perSecond(1)).ticker(ticker)
        .failureMode(FailureMode.OPEN).build();
    open.close();
    assertThat(open.decide("a", 1).source()).isEqualTo(Decision.Source.FAILURE_OPEN);
  }

  @Test
  void accessors_returnWhatWasBuilt() {
    Policy policy = Policy.of(Limit.perSecond(10), Limit.perHour(1000));
    try (RateLimiter<String> limiter = RateLimiter.builder(policy).name("api.v1").build()) {
      assertThat(limiter.policy()).isEqualTo(policy);
      assertThat(limiter.name()).isEqualTo("api.v1");
    }
    try (RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(1)).build()) {
      assertThat(limiter.name()).isEqualTo("default");
      assertThat(limiter.policy()).isEqualTo(Policy.of(Limit.perSecond(1)));
    }
  }
}
