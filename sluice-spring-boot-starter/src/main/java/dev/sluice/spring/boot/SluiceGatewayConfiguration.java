package dev.sluice.spring.boot;

import dev.sluice.Ticker;
import dev.sluice.gateway.SluiceGatewayAutoConfiguration;
import dev.sluice.gateway.SluiceRateLimiter;
import dev.sluice.http.HeaderGroup;
import java.util.EnumSet;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.cloud.gateway.support.ConfigurationService;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;

/**
 * Spring Cloud Gateway from the same {@code sluice.*} properties: with {@code sluice-gateway} and
 * Gateway (server WebFlux) on the class path, the {@code sluiceRateLimiter} bean that
 * {@code RequestRateLimiter} route filters name ({@code rate-limiter: "#{@sluiceRateLimiter}"})
 * is built from the starter's limits rather than from {@code sluice-gateway}'s own
 * auto-configuration: its buckets live in the starter's store ({@code sluice.store}: memory, or
 * the Redis store with its deny cache and breaker, shared across gateway nodes), it answers by
 * {@code sluice.failure-mode} when the store cannot, writes the {@code sluice.headers} groups,
 * and routes name the plans of {@code sluice.plans} ({@code sluice-rate-limiter.plan: pro}),
 * checked at startup with the starter's messages. {@code sluice.gateway.name} still names the
 * limiters (default {@code gateway}). Ordered before Gateway's configuration, whose
 * {@code RequestRateLimiter} filter exists only when a {@code RateLimiter} bean does.
 *
 * <p>Route limits are fixed at startup: a live change of {@code sluice.plans} reaches the rules
 * ({@code sluice.rules}), not routes already built.
 */
@AutoConfiguration(after = SluiceAutoConfiguration.class,
    beforeName = {"dev.sluice.gateway.SluiceGatewayAutoConfiguration",
        "org.springframework.cloud.gateway.config.GatewayAutoConfiguration"})
@ConditionalOnClass(name = {"dev.sluice.gateway.SluiceRateLimiter",
    "org.springframework.cloud.gateway.config.GatewayAutoConfiguration",
    "org.springframework.web.reactive.DispatcherHandler"})
@ConditionalOnBean(Sluice.class)
public class SluiceGatewayConfiguration {

  /** Created by Spring. */
  public SluiceGatewayConfiguration() {}

  /**
   * The Gateway rate limiter over the starter's store, failure mode, headers and plans.
   *
   * @param configurationService Gateway's, which binds route filter arguments
   * @param sluice the starter's limits
   * @param tickers the application's ticker, if any (the in-memory store's clock, for tests)
   * @param environment for {@code sluice.gateway.name}
   * @return the limiter, closed with the context (the store stays the starter's)
   */
  @Bean(name = SluiceGatewayAutoConfiguration.BEAN_NAME, destroyMethod = "close")
  @ConditionalOnMissingBean(name = SluiceGatewayAutoConfiguration.BEAN_NAME)
  public SluiceRateLimiter sluiceRateLimiter(ConfigurationService configurationService,
      Sluice sluice, ObjectProvider<Ticker> tickers, Environment environment) {
    SluiceRateLimiter.Builder b = SluiceRateLimiter.builder(configurationService)
        .store(sluice.storeFactory())
        .failureMode(sluice.failureMode())
        .headers(sluice.headerGroups().isEmpty() ? EnumSet.noneOf(HeaderGroup.class)
            : EnumSet.copyOf(sluice.headerGroups()));
    Binder.get(environment).bind("sluice.gateway.name", String.class).ifBound(b::name);
    sluice.planPolicies().forEach(b::plan);
    tickers.ifAvailable(b::ticker);
    return b.build();
  }
}
