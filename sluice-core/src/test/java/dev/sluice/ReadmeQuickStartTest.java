package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The README's library quick start, as written (with a manual ticker added to pin time). */
class ReadmeQuickStartTest {

  @Test
  void readmeQuickStart_compilesAndLimits() {
    ManualTicker ticker = new ManualTicker(Long.MAX_VALUE - 10);
    String clientId = "client-1";
    // --- README quick start (keep in sync; the README has no ticker line) ---
    RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10).withCapacity(50))
        .ticker(ticker).build();

    Decision d = limiter.decide(clientId, 1);
    assertThat(d.allowed()).isTrue();
    assertThat(d.remaining()).isEqualTo(49);

    RateLimiter<String> both = RateLimiter.builder(
        Policy.of(Limit.perSecond(10), Limit.perHour(1000))).ticker(ticker).build();
    assertThat(both.decide(clientId, 11).allowed()).isFalse();
    assertThat(both.decide(clientId, 10).allowed()).isTrue();

    limiter.refund(clientId, 1, Duration.ZERO);
    assertThat(limiter.availablePermits(clientId)).as("the refunded permit is back").isEqualTo(50);

    TokenBucket bucket = TokenBucket.of(Policy.of(Limit.perSecond(7)), ticker);
    boolean ok = bucket.tryAcquire();
    // --- end ---
    assertThat(ok).isTrue();
    assertThat(limiter.decide(clientId, 50).allowed()).isTrue();
    Decision refused = limiter.decide(clientId, 1);
    assertThat(refused.allowed()).isFalse();
    assertThat(refused.retryAfter()).contains(Duration.ofMillis(100));
    ticker.advance(Duration.ofMillis(100));
    assertThat(limiter.decide(clientId, 1).allowed()).isTrue();
  }
}
