package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.spi.RateStore;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The 1/N share that LOCAL fallback enforces, and the limiter using it. */
class SharesTest {

  @Test
  void of_oneNode_isThePolicyItself() {
    Policy p = Policy.of(Limit.perSecond(40).withCapacity(20));
    assertThat(Shares.of(p, 1)).isSameAs(p);
  }

  @Test
  void of_threeNodes_dividesCapacityAndRateExactly() {
    Limit share = Shares.of(Limit.perSecond(40).withCapacity(20), 3);
    assertThat(share.capacity()).isEqualTo(6);
    assertThat(share.initialPermits()).isEqualTo(6);
    // 40/s over 3: 40 per 3 s in lowest terms, 13 1/3 per second, exact
    assertThat(share.refillPermits() * 3_000_000_000L)
        .isEqualTo(40 * share.refillPeriod().toNanos());
  }

  @Test
  void of_moreNodesThanCapacity_keepsOnePermit() {
    Limit share = Shares.of(Limit.perSecond(2), 5);
    assertThat(share.capacity()).isEqualTo(1);
    assertThat(share.initialPermits()).isEqualTo(1);
  }

  @Test
  void of_partialInitialPermits_dividedAndCapped() {
    Limit share = Shares.of(Limit.perSecond(10).withCapacity(30).withInitialPermits(7), 3);
    assertThat(share.capacity()).isEqualTo(10);
    assertThat(share.initialPermits()).isEqualTo(2);
  }

  @Test
  void of_multiLimit_dividesEachLimitBySameN() {
    Policy share = Shares.of(Policy.of(Limit.perSecond(10), Limit.perHour(1000)), 4);
    assertThat(share.limits()).hasSize(2);
    assertThat(share.limits().get(0).capacity()).isEqualTo(2);
    assertThat(share.limits().get(1).capacity()).isEqualTo(250);
    // 1000/h in lowest terms is 1 per 3.6 s; a quarter of it, 1 per 14.4 s
    assertThat(share.limits().get(1).refillPermits()).isEqualTo(1);
    assertThat(share.limits().get(1).refillPeriod()).isEqualTo(Duration.ofMillis(14_400));
  }

  @Test
  void of_slowestLimitManyNodes_clampedToTheFillBound() {
    // 1 per 2^62 ns already takes the longest fill: its share cannot be slower, so it stays
    Limit slowest = new Limit(1, 1, Duration.ofNanos(Limit.MAX_FILL_NANOS), 1);
    Limit share = Shares.of(slowest, 1_000);
    assertThat(share.refillPeriod().toNanos()).isEqualTo(Limit.MAX_FILL_NANOS);
    assertThat(Shares.of(
        new Limit(Limit.MAX_CAPACITY, 1_000_000_000, Duration.ofSeconds(1), Limit.MAX_CAPACITY),
        Long.MAX_VALUE)
        .capacity()).isEqualTo(1);
  }

  @Test
  void of_zeroNodes_refusedNamingTheValue() {
    assertThatThrownBy(() -> Shares.of(Policy.of(Limit.perSecond(1)), 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nodes (0)");
  }

  @Test
  void of_fractionalRates_sumOfSharesIsTheRate() {
    for (long n = 1; n <= 50; n++) {
      Limit share = Shares.of(Limit.perSecond(7).withCapacity(100), n);
      // n shares of r'/P' each: n * r' / P' == 7 / 1 s
      assertThat(java.math.BigInteger.valueOf(n * share.refillPermits())
          .multiply(java.math.BigInteger.valueOf(1_000_000_000L)))
          .isEqualTo(java.math.BigInteger.valueOf(7 * share.refillPeriod().toNanos()));
      assertThat(n * share.capacity()).isLessThanOrEqualTo(Math.max(100, n));
    }
  }

  /** A store that is always down and reports a node count. */
  private static final class DownStore implements RateStore<String> {
    final AtomicLong nodes = new AtomicLong(1);

    @Override
    public Decision decide(String key, Policy policy, long permits) {
      throw new dev.sluice.spi.StoreUnavailableException("down");
    }

    @Override
    public long availablePermits(String key, Policy policy) {
      throw new dev.sluice.spi.StoreUnavailableException("down");
    }

    @Override
    public long liveNodes() {
      return nodes.get();
    }

    @Override
    public long size() {
      return -1;
    }

    @Override
    public void close() {}
  }

  private static RateLimiter<String> limiter(DownStore store, ManualTicker ticker) {
    return RateLimiter.builder(Limit.perSecond(40).withCapacity(20)).ticker(ticker)
        .failureMode(FailureMode.LOCAL)
        .store(new dev.sluice.spi.RateStoreFactory() {
          @Override
          @SuppressWarnings("unchecked")
          public <T> RateStore<T> create(String name, Policy policy, Ticker t) {
            return (RateStore<T>) store;
          }
        }).build();
  }

  @Test
  void decide_storeDownThreeNodes_localAdmitsAThirdAndRefillsAtAThird() {
    ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - 10_000_000_000L);
    DownStore store = new DownStore();
    store.nodes.set(3);
    RateLimiter<String> limiter = limiter(store, ticker);
    int admitted = 0;
    for (int i = 0; i < 40; i++) {
      Decision d = limiter.decide("k", 1);
      assertThat(d.source()).isEqualTo(Decision.Source.LOCAL_FALLBACK);
      admitted += d.allowed() ? 1 : 0;
    }
    assertThat(admitted).isEqualTo(6);
    assertThat(limiter.availablePermits("k")).isZero();
    // 40/3 per second: 3 s earn exactly 40 permits, capped at the share's capacity of 6
    ticker.advance(Duration.ofMillis(75));
    assertThat(limiter.availablePermits("k")).isEqualTo(1);
    ticker.advance(Duration.ofMillis(149));
    assertThat(limiter.availablePermits("k")).isEqualTo(2);
    ticker.advance(Duration.ofSeconds(3));
    assertThat(limiter.availablePermits("k")).isEqualTo(6);
  }

  @Test
  void decide_storeDownOneNode_localEnforcesTheWholePolicy() {
    ManualTicker ticker = new ManualTicker(0);
    RateLimiter<String> limiter = limiter(new DownStore(), ticker);
    int admitted = 0;
    for (int i = 0; i < 40; i++) {
      admitted += limiter.decide("k", 1).allowed() ? 1 : 0;
    }
    assertThat(admitted).isEqualTo(20);
  }

  @Test
  void decide_nodeCountGrows_bucketKeepsNoMoreThanTheNewShare() {
    ManualTicker ticker = new ManualTicker(-7_000_000_000L);
    DownStore store = new DownStore();
    RateLimiter<String> limiter = limiter(store, ticker);
    assertThat(limiter.decide("k", 1).allowed()).isTrue();
    assertThat(limiter.availablePermits("k")).isEqualTo(19);
    store.nodes.set(4);
    // carry-over: the bucket keeps its 19 permits capped at the new capacity, 20/4
    int admitted = 0;
    for (int i = 0; i < 40; i++) {
      admitted += limiter.decide("k", 1).allowed() ? 1 : 0;
    }
    assertThat(admitted).isEqualTo(5);
  }
}
