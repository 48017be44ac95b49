package dev.sluice;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The README's plans example, as written (with a manual ticker added to pin time). */
class ReadmePlansTest {

  @Test
  void readmePlans_compilesAndBehavesAsTheReadmeSays() {
    ManualTicker ticker = new ManualTicker(1_000_000_000L);
    Map<String, String> tierOf = new ConcurrentHashMap<>(Map.of("acme", "pro"));
    String customer = "acme";
    Duration heldFor = Duration.ZERO;
    // --- README plans (keep in sync; the README has no ticker lines) ---
    Plans<String> plans = Plans.<String>builder()
        .plan("free", Policy.of(Limit.perSecond(10)))
        .plan("pro", Policy.of(Limit.perSecond(100).withCapacity(500)))
        .assign(c -> tierOf.getOrDefault(c, "free"))   // fast, no I/O
        .build();
    RateLimiter<String> limiter = RateLimiter.builder(plans).ticker(ticker).build();

    assertThat(limiter.decide(customer, 1).remaining()).isEqualTo(499);
    assertThat(limiter.decide("someone", 1).remaining()).isEqualTo(9);

    plans.update("pro", Policy.of(Limit.perSecond(200)));   // live: every pro key, next decision
    // carried: 499 permits, capped at the new capacity of 200
    assertThat(limiter.decide(customer, 1).remaining()).isEqualTo(199);
    limiter.refund(customer, 1, heldFor);                    // that request should not count
    assertThat(limiter.availablePermits(customer)).isEqualTo(200);

    RateLimiter<String> trial = RateLimiter.builder(Policy.of(Limit.perSecond(5)))
        .shadow(true).ticker(ticker).build();                // decides, never refuses
    for (int i = 0; i < 5; i++) {
      assertThat(trial.decide(customer, 1).wouldRefuse()).isFalse();
    }
    Decision sixth = trial.decide(customer, 1);
    boolean wouldRefuse = sixth.wouldRefuse();
    // --- end ---
    assertThat(wouldRefuse).isTrue();
    assertThat(sixth.allowed()).isTrue();
  }
}
