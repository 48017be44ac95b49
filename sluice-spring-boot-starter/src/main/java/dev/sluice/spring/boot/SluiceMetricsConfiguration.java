package dev.sluice.spring.boot;

import dev.sluice.RateLimitListener;
import dev.sluice.http.Rule;
import dev.sluice.micrometer.SluiceMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The decisions' meters ({@link SluiceMetrics}: {@code sluice.decisions}, {@code sluice.keys}...,
 * tagged by rule) in the application's {@link MeterRegistry}, when Micrometer and
 * sluice-micrometer are on the class path and the application has a registry.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass({MeterRegistry.class, SluiceMetrics.class})
public class SluiceMetricsConfiguration {

  /** Created by Spring. */
  public SluiceMetricsConfiguration() {}

  /**
   * The listener the rules report to, or none without a registry.
   *
   * @param registry the application's registry
   * @return the listener, or null (no bean) without a registry
   */
  @Bean
  public RateLimitListener sluiceMetricsListener(ObjectProvider<MeterRegistry> registry) {
    MeterRegistry r = registry.getIfUnique();
    return r == null ? null : new SluiceMetrics(r);
  }

  /**
   * Binds the meters each rule's limiter keeps itself (keys held, evictions).
   *
   * @param sluice the limits
   * @param listener the listener, if it is the metrics binding
   * @return the binder, run once every singleton exists
   */
  @Bean
  public SmartInitializingSingleton sluiceMetricsBinder(ObjectProvider<Sluice> sluice,
      ObjectProvider<RateLimitListener> listener) {
    return () -> {
      Sluice s = sluice.getIfAvailable();
      if (s != null && s.hasRules() && listener.getIfUnique() instanceof SluiceMetrics m) {
        for (Rule r : s.httpLimiter().rules()) {
          m.bind(s.httpLimiter().limiter(r.name()));
        }
      }
    };
  }
}
