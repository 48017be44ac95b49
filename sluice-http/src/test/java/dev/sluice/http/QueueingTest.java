package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.http.HttpLimiterTest.Req;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Queueing rules ({@link Rule.Builder#maxWait}) over a plain request view and a manual ticker:
 * timelines at fixed instants, each wait to the nanosecond.
 */
class QueueingTest {

  private static final long MS = 1_000_000L;
  private static final Req GET = Req.get("/x");

  /** 10 per second (one permit every 100 ms), capacity 1, waiting up to {@code maxWait}. */
  private static HttpLimiter tenPerSecond(ManualTicker t, Duration maxWait) {
    return HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("q", Limit.perSecond(10).withCapacity(1)).maxWait(maxWait).build())
        .build();
  }

  /** One step of a timeline: advance, decide, expect a status and a wait (-1: refused). */
  private record Step(long advanceNanos, long expectedWait, String retryAfter) {}

  @ParameterizedTest
  @ValueSource(longs = {0, 123_456_789L, Long.MAX_VALUE - 150 * MS})
  void queue_timeline_waitsToTheNanosecondInOrderAndRefusesBeyondMaxWait(long start) {
    ManualTicker t = new ManualTicker(start);
    List<Step> steps = List.of(
        new Step(0, 0, null),                  // the bucket's one permit
        new Step(0, 100 * MS, null),           // queued behind it: one interval
        new Step(0, 200 * MS, null),           // and behind that one
        new Step(0, -1, "1"),                  // 300 ms > 250 ms: refused, nothing taken
        new Step(30 * MS, -1, "1"),            // at 30 ms: 270 ms > 250 ms
        new Step(20 * MS, 250 * MS, null),     // at 50 ms: due at 300 ms, exactly maxWait
        new Step(100 * MS - 1, -1, "1"),       // 1 ns before 150 ms: 1 ns beyond maxWait
        new Step(1, 250 * MS, null),           // at 150 ms: due at 400 ms, exactly maxWait
        new Step(250 * MS, 100 * MS, null));   // at 400 ms: the last queued is due, next at 500
    try (HttpLimiter limiter = tenPerSecond(t, Duration.ofMillis(250))) {
      int i = 0;
      for (Step s : steps) {
        t.advance(s.advanceNanos);
        Verdict v = limiter.decide(GET);
        if (s.expectedWait < 0) {
          assertThat(v.allowed()).as("step %d refused", i).isFalse();
          assertThat(v.rejection().orElseThrow().status()).isEqualTo(429);
          assertThat(v.header("Retry-After")).as("step %d", i).isEqualTo(s.retryAfter);
          assertThat(v.waitNanos()).isZero();
        } else {
          assertThat(v.allowed()).as("step %d allowed", i).isTrue();
          assertThat(v.waitNanos()).as("step %d wait", i).isEqualTo(s.expectedWait);
          assertThat(v.header("X-RateLimit-Remaining")).as("step %d served state", i)
              .isEqualTo("0");
          assertThat(v.header("Retry-After")).isNull();
        }
        i++;
      }
    }
  }

  @Test
  void maxWait_exactlyTheWait_grantedOneNanosecondBelow_refusedAndTakesNothing() {
    ManualTicker t = new ManualTicker(Long.MAX_VALUE - 10 * MS);
    try (HttpLimiter exact = tenPerSecond(t, Duration.ofMillis(100));
        HttpLimiter below = tenPerSecond(t, Duration.ofNanos(100 * MS - 1))) {
      assertThat(exact.decide(GET).waitNanos()).isZero();
      assertThat(below.decide(GET).waitNanos()).isZero();
      Verdict atBound = exact.decide(GET);
      assertThat(atBound.allowed()).isTrue();
      assertThat(atBound.waitNanos()).isEqualTo(100 * MS);
      Verdict beyond = below.decide(GET);
      assertThat(beyond.allowed()).isFalse();
      assertThat(beyond.rejection().orElseThrow().reason())
          .isEqualTo(Rejection.Reason.QUOTA_EXCEEDED);
      t.advance(100 * MS);
      assertThat(below.availablePermits(GET, "q")).as("the refusal took nothing").hasValue(1);
      assertThat(exact.availablePermits(GET, "q")).as("the reservation is used").hasValue(0);
    }
  }

  @Test
  void permitsAboveCapacity_definiteRefusal_neverQueued() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("q", Limit.perSecond(10).withCapacity(2)).permits(3)
            .maxWait(Duration.ofDays(1)).build())
        .build()) {
      Verdict v = limiter.decide(GET);
      assertThat(v.allowed()).isFalse();
      assertThat(v.rejection().orElseThrow().reason())
          .isEqualTo(Rejection.Reason.EXCEEDS_CAPACITY);
      assertThat(v.header("Retry-After")).isNull();
      assertThat(v.waitNanos()).isZero();
      assertThat(limiter.availablePermits(GET, "q")).hasValue(2);
    }
  }

  @Test
  void twoRules_oneRefuses_theQueuedReservationIsCancelled() {
    ManualTicker t = new ManualTicker(Long.MAX_VALUE - 500 * MS);
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("queue", Limit.perSecond(1).withCapacity(1))
            .maxWait(Duration.ofSeconds(10)).build())
        .rule(Rule.builder("strict", Limit.perHour(1)).paths("/strict/**").build())
        .build()) {
      Req strict = Req.get("/strict/a");
      assertThat(limiter.decide(strict).waitNanos()).isZero(); // both take their one permit
      Verdict refused = limiter.decide(strict); // queue would wait 1 s; strict refuses
      assertThat(refused.allowed()).isFalse();
      assertThat(refused.rejection().orElseThrow().rules()).containsExactly("strict");
      assertThat(refused.waitNanos()).isZero();
      // The queue rule's reservation was given back: the next request waits 1 s, not 2 s.
      Verdict next = limiter.decide(GET);
      assertThat(next.allowed()).isTrue();
      assertThat(next.waitNanos()).isEqualTo(1_000 * MS);
    }
  }

  @Test
  void twoRules_bothQueue_waitIsTheLongerAndCancelGivesBothBack() {
    ManualTicker t = new ManualTicker(777);
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("fast", Limit.perSecond(10).withCapacity(1))
            .maxWait(Duration.ofSeconds(1)).build())
        .rule(Rule.builder("slow", Limit.perSecond(2).withCapacity(1))
            .maxWait(Duration.ofSeconds(1)).build())
        .build()) {
      limiter.decide(GET);
      Verdict queued = limiter.decide(GET);
      assertThat(queued.waitNanos()).isEqualTo(500 * MS);
      assertThat(queued.cancel()).isTrue();
      assertThat(queued.cancel()).as("once").isFalse();
      assertThat(queued.await()).as("cancelled").isFalse();
      Verdict again = limiter.decide(GET);
      assertThat(again.waitNanos()).as("the same place in both queues").isEqualTo(500 * MS);
    }
  }

  @Test
  void cancel_onceDue_givesNothingBack() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = tenPerSecond(t, Duration.ofSeconds(1))) {
      limiter.decide(GET);
      Verdict queued = limiter.decide(GET);
      t.advance(100 * MS);
      assertThat(queued.cancel()).isFalse();
      assertThat(queued.await()).as("due: goes on at once").isTrue();
      assertThat(limiter.decide(GET).waitNanos()).as("its permit stays used").isEqualTo(100 * MS);
    }
  }

  @Test
  void await_interrupted_cancelsAndKeepsTheFlag() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = tenPerSecond(t, Duration.ofSeconds(1))) {
      limiter.decide(GET);
      Verdict queued = limiter.decide(GET);
      Thread.currentThread().interrupt();
      try {
        assertThat(queued.await()).isFalse();
        assertThat(Thread.currentThread().isInterrupted()).isTrue();
      } finally {
        Thread.interrupted();
      }
      assertThat(limiter.decide(GET).waitNanos()).as("given back").isEqualTo(100 * MS);
    }
  }

  @Test
  void whenDue_completesTrueOnlyOnceTheTickerReachesTheDueInstant() throws Exception {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = tenPerSecond(t, Duration.ofSeconds(1))) {
      assertThat(limiter.decide(GET).whenDue().toCompletableFuture().getNow(false)).isTrue();
      Verdict queued = limiter.decide(GET);
      CompletableFuture<Boolean> due = queued.whenDue().toCompletableFuture();
      assertThat(due).isNotDone(); // the manual ticker has not moved: not due
      t.advance(100 * MS);
      assertThat(due.get(30, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void whenDue_futureCancelled_cancelsTheVerdict() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = tenPerSecond(t, Duration.ofSeconds(1))) {
      limiter.decide(GET);
      Verdict queued = limiter.decide(GET);
      queued.whenDue().toCompletableFuture().cancel(false);
      assertThat(limiter.decide(GET).waitNanos()).as("given back").isEqualTo(100 * MS);
    }
  }

  @Test
  void shadowRule_wouldQueue_neverDelaysAndIsNoShadowRefusal() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("trial", Limit.perSecond(10).withCapacity(1)).shadow(true)
            .maxWait(Duration.ofMillis(150)).build())
        .build()) {
      assertThat(limiter.decide(GET).shadowRefusals()).isEmpty();
      Verdict wouldWait = limiter.decide(GET);
      assertThat(wouldWait.waitNanos()).isZero();
      assertThat(wouldWait.shadowRefusals()).isEmpty();
      Verdict wouldRefuse = limiter.decide(GET); // taken as if enforcing: 200 ms > 150 ms
      assertThat(wouldRefuse.allowed()).isTrue();
      assertThat(wouldRefuse.waitNanos()).isZero();
      assertThat(wouldRefuse.shadowRefusals()).containsExactly("trial");
    }
  }

  @Test
  void chargeOn_queuedRequestNotCharged_getsItsPermitBackMeasuredFromItsDueInstant() {
    ManualTicker t = new ManualTicker();
    try (HttpLimiter limiter = HttpLimiter.builder().ticker(t)
        .rule(Rule.builder("login", Limit.perSecond(10).withCapacity(1)).chargeOn(401)
            .maxWait(Duration.ofSeconds(1)).build())
        .build()) {
      limiter.decide(GET).complete(401);
      Verdict queued = limiter.decide(GET);
      assertThat(queued.waitNanos()).isEqualTo(100 * MS);
      t.advance(100 * MS); // due, served, answered at once with a status not charged
      queued.complete(200);
      assertThat(limiter.availablePermits(GET, "login")).hasValue(1);
    }
  }

  @Test
  void maxWait_badInput_namesTheValue() {
    Rule.Builder b = Rule.builder("q", Limit.perSecond(1));
    assertThatThrownBy(() -> b.maxWait(Duration.ofNanos(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("rule \"q\": maxWait (PT-0.000000001S) must be at least 0");
    assertThatThrownBy(() -> b.maxWait(null)).isInstanceOf(NullPointerException.class)
        .hasMessageContaining("wait");
    assertThat(b.build().maxWait()).isEqualTo(Duration.ZERO);
    assertThat(b.maxWait(Duration.ofSeconds(2)).build().toString()).contains("max wait PT2S");
  }
}
