package dev.sluice.spring.boot;

import org.springframework.aop.Advisor;
import org.springframework.aop.config.AopConfigUtils;
import org.springframework.aop.support.ComposablePointcut;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.annotation.AnnotationMatchingPointcut;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.context.annotation.Role;
import org.springframework.core.type.AnnotationMetadata;

/**
 * {@link RateLimited} methods: an infrastructure advisor (Spring AOP proxies, no AspectJ), and
 * the auto-proxy creator that applies it if the application has none.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnClass(Advisor.class)
@Import(SluiceMethodConfiguration.ProxyCreator.class)
@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
public class SluiceMethodConfiguration {

  /** Created by Spring. */
  public SluiceMethodConfiguration() {}

  /**
   * The advisor of {@link RateLimited} methods and classes.
   *
   * @param sluice the limits, looked up at the first call
   * @return the advisor
   */
  @Bean
  @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
  public static Advisor sluiceRateLimitedAdvisor(ObjectProvider<Sluice> sluice) {
    ComposablePointcut pointcut =
        new ComposablePointcut(new AnnotationMatchingPointcut(null, RateLimited.class, true))
            .union(new AnnotationMatchingPointcut(RateLimited.class, true));
    return new DefaultPointcutAdvisor(pointcut, new RateLimitedInterceptor(sluice));
  }

  /** Registers an auto-proxy creator for infrastructure advisors, unless a stronger one exists. */
  static final class ProxyCreator implements ImportBeanDefinitionRegistrar {
    @Override
    public void registerBeanDefinitions(AnnotationMetadata metadata,
        BeanDefinitionRegistry registry) {
      AopConfigUtils.registerAutoProxyCreatorIfNecessary(registry);
    }
  }
}
