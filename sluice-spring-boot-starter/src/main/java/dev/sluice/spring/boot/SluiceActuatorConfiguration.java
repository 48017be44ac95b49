package dev.sluice.spring.boot;

import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.core.type.AnnotationMetadata;

/**
 * Sluice in the actuator: the {@code /actuator/sluice} endpoint, the store's health contributor
 * ({@code sluice}, on Boot 4's or Boot 3's Health API) and the decisions' meters, bound to the
 * application's Micrometer registry ({@link SluiceMetricsConfiguration}). Each part is active when its classes are present.
 */
@AutoConfiguration(after = SluiceAutoConfiguration.class)
@ConditionalOnBean(Sluice.class)
public class SluiceActuatorConfiguration {

  /** Created by Spring. */
  public SluiceActuatorConfiguration() {}

  /** The endpoint. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(Endpoint.class)
  @ConditionalOnAvailableEndpoint(endpoint = SluiceEndpoint.class)
  public static class EndpointConfiguration {

    /** Created by Spring. */
    public EndpointConfiguration() {}

    /**
     * The endpoint.
     *
     * @param sluice the limits
     * @return the endpoint
     */
    @Bean
    @ConditionalOnMissingBean
    public SluiceEndpoint sluiceEndpoint(Sluice sluice) {
      return new SluiceEndpoint(sluice);
    }
  }

  /** The health contributor, on whichever Health API is present. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
  @Import(HealthRegistrar.class)
  public static class HealthConfiguration {

    /** Created by Spring. */
    public HealthConfiguration() {}
  }

  /** Registers the health contributor (see {@link HealthBridge}). */
  static final class HealthRegistrar implements ImportBeanDefinitionRegistrar, BeanFactoryAware {

    private BeanFactory beans;

    @Override
    public void setBeanFactory(BeanFactory beanFactory) throws BeansException {
      this.beans = beanFactory;
    }

    @Override
    public void registerBeanDefinitions(AnnotationMetadata metadata,
        BeanDefinitionRegistry registry) {
      HealthBridge.register(registry, beans, HealthRegistrar.class.getClassLoader());
    }
  }
}
