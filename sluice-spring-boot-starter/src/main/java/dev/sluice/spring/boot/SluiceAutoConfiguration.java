package dev.sluice.spring.boot;

import dev.sluice.RateLimitListener;
import dev.sluice.servlet.RateLimitFilter;
import dev.sluice.servlet.RejectionHandler;
import java.util.List;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Sluice's auto-configuration: the {@link Sluice} limits from the {@code sluice.*} properties
 * ({@link SluiceProperties}) and, in front of it, the servlet filter in a servlet application or
 * the {@code WebFilter} of {@code sluice-webflux} in a reactive one. Off with
 * {@code sluice.enabled=false}. Each web stack, the actuator, metrics, live
 * reconfiguration and {@code @RateLimited} have a configuration of their own, each active when
 * its classes are present.
 */
@AutoConfiguration
@ConditionalOnProperty(prefix = "sluice", name = "enabled", havingValue = "true",
    matchIfMissing = true)
@EnableConfigurationProperties(SluiceProperties.class)
@Import({SluiceMetricsConfiguration.class, SluiceMethodConfiguration.class})
public class SluiceAutoConfiguration {

  /** Created by Spring. */
  public SluiceAutoConfiguration() {}

  /**
   * The limits, built from the properties; a bad value stops the application.
   *
   * @param properties the {@code sluice.*} properties
   * @param beans the application's beans (for its Redis client)
   * @param listeners the listener receiving decisions (the metrics binding), if any
   * @return the limits
   */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public Sluice sluice(SluiceProperties properties, ListableBeanFactory beans,
      ObjectProvider<RateLimitListener> listeners) {
    Settings.of(properties); // the properties are checked before any store is opened
    StoreChoice store = StoreChoice.of(properties, beans);
    try {
      return Sluice.create(properties, store.factory(), store.description(),
          listeners.getIfUnique(), store.closer(), store.breakers());
    } catch (RuntimeException | Error e) {
      try {
        store.closer().close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** Live changes: limits follow the environment when Spring Cloud announces a change. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.cloud.context.environment.EnvironmentChangeEvent")
  public static class Refresh {

    /** Created by Spring. */
    public Refresh() {}

    /**
     * Applies changed {@code sluice.*} properties on an {@code EnvironmentChangeEvent}.
     *
     * @param sluice the limits
     * @param environment the application's environment
     * @return the listener
     */
    @Bean
    public ApplicationListener<?> sluiceRefresher(Sluice sluice,
        ConfigurableEnvironment environment) {
      return new SluiceRefresher(sluice, environment);
    }
  }

  /** The servlet filter (Spring MVC, or any servlet application). */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
  @ConditionalOnClass({jakarta.servlet.Filter.class, FilterRegistrationBean.class})
  public static class Servlet {

    /** Created by Spring. */
    public Servlet() {}

    /**
     * Answers {@link RateLimitedException} with 429 and a problem, in Spring MVC.
     *
     * @return the handler
     */
    @Bean
    @ConditionalOnClass(name = "org.springframework.web.servlet.DispatcherServlet")
    public RateLimitedExceptionHandler sluiceRateLimitedExceptionHandler() {
      return new RateLimitedExceptionHandler();
    }

    /**
     * The filter, ordered by {@code sluice.filter.order} (default after Spring Security's
     * chain), on every path; exempt paths are the limiter's business.
     *
     * @param sluice the limits
     * @param handler writes refusals (default: the RFC 9457 problem)
     * @return the filter's registration
     */
    @Bean
    @Conditional(HasRules.class)
    public FilterRegistrationBean<jakarta.servlet.Filter> sluiceFilter(Sluice sluice,
        ObjectProvider<RejectionHandler> handler) {
      RateLimitFilter filter = RateLimitFilter.of(sluice.httpLimiter(),
          handler.getIfUnique(RejectionHandler::problemJson));
      FilterRegistrationBean<jakarta.servlet.Filter> reg =
          new FilterRegistrationBean<>(new SluiceFilter(filter));
      reg.setName("sluiceFilter");
      reg.setOrder(sluice.properties().filter().order());
      reg.addUrlPatterns("/*");
      // a request queued by max-wait resumes on an ASYNC dispatch, which the filter serves
      reg.setDispatcherTypes(jakarta.servlet.DispatcherType.REQUEST,
          jakarta.servlet.DispatcherType.ASYNC);
      return reg;
    }
  }

  /** The WebFlux filter (a reactive application with {@code sluice-webflux} on the class path). */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
  @ConditionalOnClass(name = {"dev.sluice.webflux.RateLimitWebFilter",
      "org.springframework.web.server.WebFilter"})
  public static class Reactive {

    /** Created by Spring. */
    public Reactive() {}

    /**
     * The WebFlux filter over the same limiter, ordered by {@code sluice.filter.order} (default
     * after Spring Security's {@code WebFilterChainProxy}, -100). It does not queue: a rule with
     * {@code max-wait} stops the application, naming the property.
     *
     * @param sluice the limits
     * @param writer writes refusals (default: the RFC 9457 problem)
     * @return the filter
     * @throws IllegalArgumentException naming the first rule's {@code max-wait} above 0s
     */
    @Bean
    @Conditional(HasRules.class)
    public dev.sluice.webflux.RateLimitWebFilter sluiceWebFilter(Sluice sluice,
        ObjectProvider<dev.sluice.webflux.RejectionWriter> writer) {
      List<SluiceProperties.RuleProperties> rules = sluice.properties().rules();
      for (int i = 0; i < rules.size(); i++) {
        java.time.Duration wait = rules.get(i).maxWait();
        if (wait != null && !wait.isZero()) {
          throw new IllegalArgumentException("sluice.rules[" + i + "].max-wait must be 0s in a"
              + " reactive application (the WebFlux filter does not queue requests yet), was "
              + wait);
        }
      }
      dev.sluice.webflux.RateLimitWebFilter.Builder b =
          dev.sluice.webflux.RateLimitWebFilter.builder(sluice.httpLimiter())
              .order(sluice.properties().filter().order());
      writer.ifUnique(b::rejectionWriter);
      return b.build();
    }
  }
}
