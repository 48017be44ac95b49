package dev.sluice.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.ManualTicker;
import dev.sluice.RateLimiter;
import dev.sluice.spi.contract.SwitchableStoreFactory;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * No meter is tagged per key: over every meter the binder registers, on every path (admitted,
 * refused, the store down under each failure mode), the tags are the limiter, the result,
 * the mode and whether it is a shadow decision, no tag value is a key, and the number of meters does not grow with the keys seen.
 */
class MeterTagsTest {

  static final Set<String> TAG_KEYS = Set.of("limiter", "result", "mode", "shadow");

  private final MeterRegistry registry = new SimpleMeterRegistry();
  private final SluiceMetrics metrics = new SluiceMetrics(registry);
  private final ManualTicker ticker = new ManualTicker(77);
  private final List<String> keysSeen = new ArrayList<>();

  @Test
  void everyMeter_everyPath_taggedByLimiterResultAndModeNeverByKey() {
    List<SwitchableStoreFactory> stores = new ArrayList<>();
    List<RateLimiter<String>> limiters = new ArrayList<>();
    for (FailureMode mode : FailureMode.values()) {
      SwitchableStoreFactory s = SwitchableStoreFactory.create();
      stores.add(s);
      RateLimiter<String> l = RateLimiter.builder(Limit.of(2, Duration.ofHours(1)))
          .name("t-" + mode.name().toLowerCase(java.util.Locale.ROOT)).ticker(ticker)
          .failureMode(mode).listener(metrics).store(s).build();
      metrics.bind(l);
      limiters.add(l);
    }
    traffic(limiters, stores, 10);
    int meters = registry.getMeters().size();
    traffic(limiters, stores, 1_000);
    assertThat(registry.getMeters()).as("meters after 1,000 more keys").hasSize(meters);

    assertThat(meters).isGreaterThanOrEqualTo(5);
    for (Meter m : registry.getMeters()) {
      assertThat(m.getId().getName()).startsWith("sluice.");
      for (Tag t : m.getId().getTags()) {
        assertThat(TAG_KEYS).as("tag %s of %s", t.getKey(), m.getId()).contains(t.getKey());
        assertThat(keysSeen).as("tag value %s of %s", t.getValue(), m.getId())
            .doesNotContain(t.getValue());
      }
    }
  }

  /** For each limiter, {@code n} new keys admitted and refused, then the same with the store down. */
  private void traffic(List<RateLimiter<String>> limiters, List<SwitchableStoreFactory> stores,
      int n) {
    for (int i = 0; i < limiters.size(); i++) {
      RateLimiter<String> l = limiters.get(i);
      for (int k = 0; k < n; k++) {
        String key = "key-" + keysSeen.size();
        keysSeen.add(key);
        for (int r = 0; r < 3; r++) {
          l.decide(key, 1); // 2 admitted, 1 refused
        }
        stores.get(i).down().set(true);
        l.decide(key, 1);
        l.decide(key + "-down", 1);
        keysSeen.add(key + "-down");
        stores.get(i).down().set(false);
      }
    }
  }
}
