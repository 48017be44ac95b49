package dev.sluice.gateway;

import dev.sluice.FailureMode;
import dev.sluice.Limit;
import dev.sluice.Policy;
import dev.sluice.Ticker;
import dev.sluice.http.HeaderGroup;
import dev.sluice.spi.RateStoreFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.cloud.gateway.config.GatewayAutoConfiguration;
import org.springframework.cloud.gateway.support.ConfigurationService;
import org.springframework.context.annotation.Bean;
import org.springframework.core.ResolvableType;
import org.springframework.core.env.Environment;

/**
 * Provides the {@code sluiceRateLimiter} bean ({@link SluiceRateLimiter}) when Spring Cloud
 * Gateway (server WebFlux) is on the classpath, for route filters to name:
 * {@code rate-limiter: "#{@sluiceRateLimiter}"}. Before Gateway's own configuration, whose
 * {@code RequestRateLimiter} filter exists only when a {@code RateLimiter} bean does.
 *
 * <p>Buckets live in memory, or in the application's {@link RateStoreFactory} bean if it has one
 * (a {@code RedisStore.Factory} shares them across gateway nodes); a {@link Ticker} bean, if any,
 * is the in-memory store's clock (for tests). Properties, all optional:
 * <ul>
 *   <li>{@code sluice.gateway.name}: the limiters' name (default {@code gateway});</li>
 *   <li>{@code sluice.gateway.failure-mode}: {@code local} (default), {@code open} or
 *       {@code closed};</li>
 *   <li>{@code sluice.gateway.headers}: the header groups, from {@code xratelimit},
 *       {@code ietf}, {@code retry-after} (default all three; {@code none} for none);</li>
 *   <li>{@code sluice.plans.<name>}: a list of limits {@code {permits, per, burst}} that
 *       routes name with {@code sluice-rate-limiter.plan}.</li>
 * </ul>
 */
@AutoConfiguration(before = GatewayAutoConfiguration.class)
@ConditionalOnClass({org.springframework.cloud.gateway.filter.ratelimit.RateLimiter.class,
    org.springframework.web.reactive.DispatcherHandler.class})
public final class SluiceGatewayAutoConfiguration {

  /** The bean's name, as route filters refer to it. */
  public static final String BEAN_NAME = "sluiceRateLimiter";

  /** Created by Spring. */
  public SluiceGatewayAutoConfiguration() {}

  /**
   * The rate limiter.
   *
   * @param configurationService Gateway's, which binds route filter arguments
   * @param stores the application's store factory, if any
   * @param tickers the application's ticker, if any
   * @param environment the properties
   * @return the limiter, closed with the context
   */
  @Bean(name = BEAN_NAME, destroyMethod = "close")
  @ConditionalOnMissingBean(name = BEAN_NAME)
  public SluiceRateLimiter sluiceRateLimiter(ConfigurationService configurationService,
      ObjectProvider<RateStoreFactory> stores, ObjectProvider<Ticker> tickers,
      Environment environment) {
    Binder binder = Binder.get(environment);
    SluiceRateLimiter.Builder b = SluiceRateLimiter.builder(configurationService);
    binder.bind("sluice.gateway.name", String.class).ifBound(b::name);
    binder.bind("sluice.gateway.failure-mode", String.class)
        .ifBound(mode -> b.failureMode(failureMode(mode)));
    binder.bind("sluice.gateway.headers", Bindable.listOf(String.class))
        .ifBound(groups -> b.headers(headerGroups(groups)));
    ResolvableType plansType = ResolvableType.forClassWithGenerics(Map.class,
        ResolvableType.forClass(String.class), ResolvableType.forClassWithGenerics(List.class,
            ResolvableType.forClassWithGenerics(Map.class, String.class, String.class)));
    binder.bind("sluice.plans", Bindable.<Map<String, List<Map<String, String>>>>of(plansType))
        .ifBound(plans -> plans.forEach((name, limits) -> b.plan(name, plan(name, limits))));
    stores.ifAvailable(b::store);
    tickers.ifAvailable(b::ticker);
    return b.build();
  }

  static FailureMode failureMode(String text) {
    String t = text.trim().toUpperCase(Locale.ROOT);
    for (FailureMode m : FailureMode.values()) {
      if (m.name().equals(t)) {
        return m;
      }
    }
    throw new IllegalArgumentException("sluice.gateway.failure-mode (" + text
        + ") must be one of local, open, closed");
  }

  static Set<HeaderGroup> headerGroups(List<String> names) {
    Set<HeaderGroup> groups = EnumSet.noneOf(HeaderGroup.class);
    for (String n : names) {
      switch (n.trim().toLowerCase(Locale.ROOT)) {
        case "xratelimit", "x-ratelimit" -> groups.add(HeaderGroup.X_RATELIMIT);
        case "ietf" -> groups.add(HeaderGroup.IETF);
        case "retry-after" -> groups.add(HeaderGroup.RETRY_AFTER);
        case "none" -> { }
        default -> throw new IllegalArgumentException("sluice.gateway.headers (" + n
            + ") must be among xratelimit, ietf, retry-after, none");
      }
    }
    return groups;
  }

  /** One plan's limits, each {@code {permits, per, burst}}; the path and bound in every error. */
  static Policy plan(String name, List<Map<String, String>> limits) {
    if (limits.isEmpty() || limits.size() > Policy.MAX_LIMITS) {
      throw new IllegalArgumentException("sluice.plans." + name + " has " + limits.size()
          + " limits: between 1 and " + Policy.MAX_LIMITS);
    }
    List<Limit> list = new ArrayList<>(limits.size());
    for (int i = 0; i < limits.size(); i++) {
      String path = "sluice.plans." + name + "[" + i + "].";
      Map<String, String> l = limits.get(i);
      long permits = number(path + "permits", l.get("permits"));
      String perText = l.get("per");
      if (perText == null) {
        throw new IllegalArgumentException(path + "per is missing: a positive duration (1s, 1m)");
      }
      Duration per;
      try {
        per = DurationStyle.detectAndParse(perText.trim());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(path + "per (" + perText
            + ") must be a positive duration (1s, 1m)", e);
      }
      String burstText = l.get("burst");
      try {
        Limit limit = Limit.of(permits, per);
        list.add(burstText == null ? limit
            : limit.withCapacity(number(path + "burst", burstText)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(path.substring(0, path.length() - 1) + ": "
            + e.getMessage(), e);
      }
    }
    return new Policy(list);
  }

  private static long number(String path, String text) {
    if (text == null) {
      throw new IllegalArgumentException(path + " is missing: a whole number, at least 1");
    }
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(path + " (" + text + ") must be a whole number", e);
    }
  }
}
