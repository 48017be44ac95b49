package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.RateLimiter;
import dev.sluice.http.HttpLimiterTest.Req;
import java.time.Duration;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

/**
 * Charge-on rules over a plain request view and a manual ticker: taken before the response,
 * given back after it when the status does not match; while pending, the permits count.
 */
class ChargeOnTest {

  private static final Req LOGIN = Req.get("/login");

  private static HttpLimiter limiter(ManualTicker t, long capacity) {
    return HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("login", Limit.perHour(capacity)).chargeOn(401, 403).build())
        .build();
  }

  @Test
  void chargeOn_statusesThatDoNotMatch_neverExhaustTheRule() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = limiter(t, 2)) {
      for (int i = 0; i < 10; i++) {
        Verdict v = limiter.decide(LOGIN);
        assertThat(v.allowed()).as("request %d", i).isTrue();
        v.complete(i % 2 == 0 ? 200 : 404);
      }
      assertThat(limiter.availablePermits(LOGIN, "login")).hasValue(2);
    }
  }

  @Test
  void chargeOn_matchingStatuses_chargedExactlyAtCapacity() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = limiter(t, 2)) {
      limiter.decide(LOGIN).complete(401);
      limiter.decide(LOGIN).complete(200); // given back
      limiter.decide(LOGIN).complete(403);
      Verdict refused = limiter.decide(LOGIN);
      assertThat(refused.allowed()).isFalse();
      assertThat(refused.rejection().orElseThrow().status()).isEqualTo(429);
      refused.complete(429); // a refused request holds nothing: nothing to give back
      assertThat(limiter.availablePermits(LOGIN, "login")).hasValue(0);
    }
  }

  @Test
  void chargeOn_pendingResponse_holdsItsPermitUntilCompleted() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = limiter(t, 1)) {
      Verdict pending = limiter.decide(LOGIN);
      assertThat(pending.allowed()).isTrue();
      assertThat(pending.header("X-RateLimit-Remaining")).as("counted while pending")
          .isEqualTo("0");
      assertThat(limiter.decide(LOGIN).allowed()).as("concurrent, while pending").isFalse();
      pending.complete(200);
      assertThat(limiter.decide(LOGIN).allowed()).as("after the 200").isTrue();
    }
  }

  @Test
  void complete_calledAgain_givesBackOnce() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = limiter(t, 2)) {
      Verdict first = limiter.decide(LOGIN);
      limiter.decide(LOGIN); // still pending: 0 left
      first.complete(200);
      first.complete(200);
      first.complete(500);
      assertThat(limiter.availablePermits(LOGIN, "login")).as("one permit back, not two")
          .hasValue(1);
    }
  }

  @Test
  void complete_racingThreads_givesBackOnce() throws Exception {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = limiter(t, 8)) {
      for (int round = 0; round < 50; round++) {
        Verdict[] held = new Verdict[8];
        for (int i = 0; i < held.length; i++) {
          held[i] = limiter.decide(LOGIN);
        }
        Verdict v = held[0];
        Thread[] threads = new Thread[4];
        for (int i = 0; i < threads.length; i++) {
          threads[i] = new Thread(() -> v.complete(200));
          threads[i].start();
        }
        for (Thread th : threads) {
          th.join(10_000);
        }
        assertThat(limiter.availablePermits(LOGIN, "login")).as("round %d", round).hasValue(1);
        for (int i = 1; i < held.length; i++) {
          held[i].complete(200);
        }
        assertThat(limiter.availablePermits(LOGIN, "login")).hasValue(8);
      }
    }
  }

  /** The refund is the core's: never more than taken, less the refill earned while pending. */
  @Test
  void chargeOn_longPending_givesBackLessTheRefillEarned() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("login", Limit.of(1, Duration.ofSeconds(10)).withCapacity(3))
            .chargeOn(401).build())
        .build()) {
      Verdict a = limiter.decide(LOGIN);
      limiter.decide(LOGIN).complete(401); // 1 left
      t.advance(Duration.ofSeconds(4)); // 1.4 left
      a.complete(200); // 10 s of refill less the 4 s held: 2.0
      assertThat(limiter.availablePermits(LOGIN, "login")).hasValue(2);
      t.advance(Duration.ofMillis(9_999));
      assertThat(limiter.availablePermits(LOGIN, "login"))
          .as("2.9999: a whole-permit refund would have left 3").hasValue(2);
      t.advance(Duration.ofMillis(1));
      assertThat(limiter.availablePermits(LOGIN, "login")).hasValue(3);
    }
  }

  @Test
  void chargeOn_besideAnEnforcedRule_onlyTheChargeOnRuleGivesBack() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("all", Limit.perHour(5)).build())
        .rule(Rule.builder("failures", Limit.perHour(5)).chargeOn(s -> s >= 500).build())
        .build()) {
      limiter.decide(LOGIN).complete(200);
      limiter.decide(LOGIN).complete(503);
      assertThat(limiter.availablePermits(LOGIN, "all")).hasValue(3);
      assertThat(limiter.availablePermits(LOGIN, "failures")).hasValue(4);
    }
  }

  @Test
  void chargeOn_refusedByAnotherRule_givenBackAtOnce() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("all", Limit.perHour(1)).build())
        .rule(Rule.builder("failures", Limit.perHour(5)).chargeOn(401).build())
        .build()) {
      limiter.decide(LOGIN).complete(401);
      Verdict refused = limiter.decide(LOGIN);
      assertThat(refused.allowed()).isFalse();
      assertThat(limiter.availablePermits(LOGIN, "failures")).as("all-or-nothing").hasValue(4);
      refused.complete(401); // nothing held: charges nothing more
      assertThat(limiter.availablePermits(LOGIN, "failures")).hasValue(4);
    }
  }

  @Test
  void chargeOn_overAShadowLimiter_wouldRefuseTakesNothingToGiveBack() {
    ManualTicker t = new ManualTicker();
    RateLimiter<String> shadow = RateLimiter.builder(Limit.perHour(1)).name("s").ticker(t)
        .shadow(true).build();
    try (shadow; HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder(shadow).chargeOn(401).build()).build()) {
      limiter.decide(LOGIN).complete(401); // charged: 0 left
      Verdict over = limiter.decide(LOGIN);
      assertThat(over.allowed()).isTrue();
      assertThat(over.shadowRefusals()).containsExactly("s");
      over.complete(200); // took nothing: must not give back the first request's permit
      assertThat(limiter.availablePermits(LOGIN, "s")).hasValue(0);
    }
  }

  @Test
  void complete_withoutChargeOnRule_changesNothing() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("r", Limit.perHour(2)).build()).build()) {
      limiter.decide(LOGIN).complete(200);
      assertThat(limiter.availablePermits(LOGIN, "r")).hasValue(1);
      Verdict.UNLIMITED.complete(200);
    }
  }

  @Test
  void chargeOn_badStatuses_refusedNamingValueAndBound() {
    Rule.Builder b = Rule.builder("r", Limit.perHour(2));
    assertThatThrownBy(() -> b.chargeOn())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at least one status").hasMessageContaining("100 to 599");
    assertThatThrownBy(() -> b.chargeOn(401, 99))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("chargeOn status (99) must be from 100 to 599");
    assertThatThrownBy(() -> b.chargeOn(600))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("chargeOn status (600) must be from 100 to 599");
    assertThatThrownBy(() -> b.chargeOn((int[]) null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> b.chargeOn((IntPredicate) null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void complete_statusOutOfRange_refusedNamingValueAndBound() {
    try (HttpLimiter limiter = limiter(new ManualTicker(), 2)) {
      Verdict v = limiter.decide(LOGIN);
      assertThatThrownBy(() -> v.complete(0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("status (0) must be from 100 to 599");
      assertThatThrownBy(() -> v.complete(600)).isInstanceOf(IllegalArgumentException.class);
      v.complete(200); // a bad call settles nothing: this one still gives back
      assertThat(limiter.availablePermits(LOGIN, "login")).hasValue(2);
    }
  }
}
