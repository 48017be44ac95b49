package dev.sluice.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.Decision;
import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.RateLimiter;
import dev.sluice.spi.contract.SwitchableStoreFactory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class SluiceMetricsTest {

  private final MeterRegistry registry = new SimpleMeterRegistry();
  private final SluiceMetrics metrics = new SluiceMetrics(registry);
  private final ManualTicker ticker = new ManualTicker(123);

  private double count(String name, String... tags) {
    var c = registry.find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void decisions_countedByResult_equalTheTrafficSent() {
    RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(10))
        .name("api").ticker(ticker).listener(metrics).build();
    metrics.bind(limiter);
    int allowed = 0;
    int denied = 0;
    for (int i = 0; i < 25; i++) {
      if (limiter.tryAcquire("a")) {
        allowed++;
      } else {
        denied++;
      }
      Decision d = limiter.decide("b", 3);
      if (d.allowed()) {
        allowed++;
      } else {
        denied++;
      }
    }
    assertThat(allowed).isEqualTo(10 + 3);
    assertThat(count("sluice.decisions", "limiter", "api", "result", "allowed")).isEqualTo(allowed);
    assertThat(count("sluice.decisions", "limiter", "api", "result", "denied")).isEqualTo(denied);
    assertThat(registry.find("sluice.decision.latency").tag("limiter", "api").timer().count())
        .isEqualTo(50);
    assertThat(registry.find("sluice.keys").tag("limiter", "api").gauge().value()).isEqualTo(2);
    assertThat(registry.find("sluice.evictions").tag("limiter", "api").functionCounter().count())
        .isEqualTo(limiter.evictions());
    assertThat(count("sluice.backend.errors", "limiter", "api")).isZero();
  }

  @Test
  void storeDown_eachFailureMode_countedAsBackendErrorAndFailureModeDecision() {
    for (FailureMode mode : FailureMode.values()) {
      SwitchableStoreFactory stores = SwitchableStoreFactory.create();
      stores.down().set(true);
      String name = "m-" + mode.name().toLowerCase(java.util.Locale.ROOT);
      RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(2))
          .name(name).ticker(ticker).failureMode(mode).listener(metrics)
          .store(stores).build();
      for (int i = 0; i < 5; i++) {
        limiter.decide("k", 1);
      }
      stores.down().set(false);
      limiter.decide("k", 1);

      String tag = mode.name().toLowerCase(java.util.Locale.ROOT);
      assertThat(count("sluice.backend.errors", "limiter", name)).as(mode.name()).isEqualTo(5);
      double fmAllowed = count("sluice.failure_mode.decisions", "limiter", name, "mode", tag, "result", "allowed");
      double fmDenied = count("sluice.failure_mode.decisions", "limiter", name, "mode", tag, "result", "denied");
      switch (mode) {
        case OPEN -> assertThat(fmAllowed).isEqualTo(5);
        case CLOSED -> assertThat(fmDenied).isEqualTo(5);
        case LOCAL -> {
          assertThat(fmAllowed).isEqualTo(2);
          assertThat(fmDenied).isEqualTo(3);
        }
      }
      assertThat(count("sluice.decisions", "limiter", name, "result", "allowed")).isEqualTo(1);
    }
  }

  @Test
  void bind_storeStateLosses_countedByStateLostCounter() {
    SwitchableStoreFactory stores = SwitchableStoreFactory.create();
    RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(2))
        .name("lossy").ticker(ticker).listener(metrics).store(stores).build();
    metrics.bind(limiter);
    assertThat(registry.find("sluice.store.state.lost").tag("limiter", "lossy")
        .functionCounter().count()).isZero();
    stores.stateLosses().set(3);
    assertThat(limiter.stateLosses()).isEqualTo(3);
    assertThat(registry.find("sluice.store.state.lost").tag("limiter", "lossy")
        .functionCounter().count()).isEqualTo(3);
  }

  @Test
  void bind_storeLiveNodes_shownByNodesGauge() {
    SwitchableStoreFactory stores = SwitchableStoreFactory.create();
    RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(2))
        .name("fleet").ticker(ticker).listener(metrics).store(stores).build();
    metrics.bind(limiter);
    assertThat(registry.find("sluice.store.nodes").tag("limiter", "fleet").gauge().value())
        .isEqualTo(1.0);
    stores.liveNodes().set(3);
    assertThat(limiter.liveNodes()).isEqualTo(3);
    assertThat(registry.find("sluice.store.nodes").tag("limiter", "fleet").gauge().value())
        .isEqualTo(3.0);
  }

  @Test
  void bind_storeThatCannotCountKeys_registersNoKeysGauge() {
    RateLimiter<String> limiter = RateLimiter.builder(Limit.perSecond(2))
        .name("uncounted").ticker(ticker).listener(metrics)
        .store(SwitchableStoreFactory.create().uncounted()).build();
    metrics.bind(limiter);
    limiter.decide("k", 1);
    assertThat(registry.find("sluice.keys").tag("limiter", "uncounted").gauge()).isNull();
    assertThat(registry.find("sluice.evictions").tag("limiter", "uncounted").functionCounter())
        .isNotNull();
    assertThat(count("sluice.decisions", "limiter", "uncounted", "result", "allowed")).isEqualTo(1);
  }

  /**
   * A limiter in shadow mode counts under {@code shadow=true}: its would-be refusals as denied
   * (the requests went through), and the failure mode's answers too; an enforcing limiter has
   * no {@code shadow=true} series at all, and the shadow one's {@code shadow=false} stay 0.
   */
  @Test
  void shadowDecisions_taggedShadowTrue_wouldBeRefusalsCountedAsDenied() {
    SwitchableStoreFactory stores = SwitchableStoreFactory.create();
    RateLimiter<String> shadow = RateLimiter.builder(Limit.perMinute(3))
        .name("trial").ticker(ticker).shadow(true).failureMode(FailureMode.CLOSED)
        .listener(metrics).store(stores).build();
    RateLimiter<String> enforcing = RateLimiter.builder(Limit.perMinute(3))
        .name("api").ticker(ticker).listener(metrics).build();
    for (int i = 0; i < 5; i++) {
      assertThat(shadow.tryAcquire("k")).isTrue();
      enforcing.tryAcquire("k");
    }
    stores.down().set(true);
    assertThat(shadow.decide("k", 1).allowed()).isTrue();
    assertThat(count("sluice.decisions", "limiter", "trial", "result", "allowed", "shadow", "true"))
        .isEqualTo(3);
    assertThat(count("sluice.decisions", "limiter", "trial", "result", "denied", "shadow", "true"))
        .isEqualTo(2);
    assertThat(count("sluice.failure_mode.decisions", "limiter", "trial", "mode", "closed",
        "result", "denied", "shadow", "true")).isEqualTo(1);
    assertThat(count("sluice.decisions", "limiter", "trial", "shadow", "false")).isZero();
    assertThat(registry.find("sluice.decision.latency").tag("limiter", "trial").timer().count())
        .isEqualTo(6);
    assertThat(count("sluice.decisions", "limiter", "api", "result", "allowed", "shadow", "false"))
        .isEqualTo(3);
    assertThat(count("sluice.decisions", "limiter", "api", "result", "denied", "shadow", "false"))
        .isEqualTo(2);
    assertThat(registry.find("sluice.decisions").tags("limiter", "api", "shadow", "true")
        .counters()).as("no shadow series for an enforcing limiter").isEmpty();
    // every series of a meter has the same tag keys (Prometheus requires it), and none is a key
    for (var meter : registry.find("sluice.decisions").meters()) {
      assertThat(meter.getId().getTags()).extracting(t -> t.getKey())
          .containsExactly("limiter", "result", "shadow");
    }
  }

  /** The near-limit counter counts exactly the admissions at or below 20% of the capacity. */
  @Test
  void nearLimit_countsTheAdmissionsAtOrBelowTheFraction_taggedByShadow() {
    RateLimiter<String> enforcing = RateLimiter.builder(Limit.perMinute(10))
        .name("api").ticker(ticker).listener(metrics).build();
    RateLimiter<String> shadow = RateLimiter.builder(Limit.perMinute(10)).nearLimit(0.5)
        .name("trial").ticker(ticker).shadow(true).listener(metrics).build();
    for (int i = 0; i < 12; i++) {
      enforcing.tryAcquire("k"); // 8, 9, 10 leave 2, 1, 0: three; the two refused count none
      shadow.tryAcquire("k"); // 5 to 10 leave 5 to 0: six
    }
    assertThat(count("sluice.near_limit", "limiter", "api", "shadow", "false")).isEqualTo(3);
    assertThat(count("sluice.near_limit", "limiter", "trial", "shadow", "true")).isEqualTo(6);
    assertThat(count("sluice.near_limit", "limiter", "trial", "shadow", "false")).isZero();
  }
}
