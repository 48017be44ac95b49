package dev.sluice.gateway;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.context.annotation.Bean;
import reactor.core.publisher.Mono;

/** The gateway under test: auto-configuration, the routes of application.yml, a key resolver. */
@SpringBootConfiguration
@EnableAutoConfiguration
class GatewayTestApp {

  /** The client is named by the X-Client header; none resolves no key (Gateway answers 403). */
  @Bean
  KeyResolver clientKeyResolver() {
    return exchange -> Mono.justOrEmpty(exchange.getRequest().getHeaders().getFirst("X-Client"));
  }
}
