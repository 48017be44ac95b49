package dev.sluice.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.FailureMode;
import dev.sluice.http.HeaderGroup;
import dev.sluice.http.MissingKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The properties checked without Spring: credentials never reach what is shown. */
class SettingsTest {

  @Test
  void redisCredentials_neverInTheShapeShownByTheEndpoint() {
    SluiceProperties p = new SluiceProperties(true, SluiceProperties.Store.REDIS,
        new SluiceProperties.Redis("redis://app:s3cret@127.0.0.1:6379", Duration.ofMillis(50),
            "sluice", null),
        FailureMode.LOCAL, List.of(HeaderGroup.IETF), List.of(), List.of(), MissingKey.DENY,
        Map.of(), List.of(new SluiceProperties.RuleProperties("api", List.of("/api/**"),
            List.of(), "ip", null, List.of(new SluiceProperties.LimitProperties(5L,
                Duration.ofSeconds(1), null)), 1, false, Duration.ZERO, List.of())),
        new SluiceProperties.Filter(-90));
    String shape = Settings.of(p).shape();
    assertThat(shape).doesNotContain("s3cret").contains("redis://***@127.0.0.1:6379");
    assertThat(Settings.redact("redis://127.0.0.1:6379")).isEqualTo("redis://127.0.0.1:6379");
  }

  @Test
  void burstDefaultsToPermits() {
    assertThat(Settings.limit(new SluiceProperties.LimitProperties(7L, Duration.ofMinutes(1),
        null), "x").capacity()).isEqualTo(7);
  }
}
