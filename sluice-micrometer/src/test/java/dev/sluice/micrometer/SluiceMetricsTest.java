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
}
