package dev.sluice.spring.boot;

import java.security.Principal;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.WebFilter;
import reactor.core.publisher.Mono;

/**
 * The reactive application the WebFlux tests start (with
 * {@code spring.main.web-application-type=reactive}): the endpoints of {@link TestApp}, and a
 * filter before the starter's that authenticates {@code X-User} as the exchange's principal,
 * given asynchronously as a security filter chain gives it.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@RestController
class ReactiveTestApp {

  @GetMapping({"/api/hello", "/open/hello", "/shadow/hello", "/other/hello", "/me/hello"})
  Mono<String> hello() {
    return Mono.just("hello");
  }

  @PostMapping("/api/hello")
  Mono<String> post() {
    return Mono.just("posted");
  }

  /** 200 with the right password, else 401: the charge-on rule counts the 401s only. */
  @PostMapping("/login")
  Mono<String> login(@RequestHeader(name = "X-Password", required = false) String password,
      ServerHttpResponse response) {
    if (!"secret".equals(password)) {
      response.setStatusCode(HttpStatus.UNAUTHORIZED);
      return Mono.just("no");
    }
    return Mono.just("welcome");
  }

  @GetMapping("/status/{code}")
  Mono<String> status(@PathVariable("code") int code, ServerHttpResponse response) {
    response.setStatusCode(HttpStatus.valueOf(code));
    return Mono.just("status " + code);
  }

  /** Before the starter's filter (-90), as Spring Security's chain (-100) is. */
  @Bean
  @Order(-100)
  WebFilter testAuthentication() {
    return (exchange, chain) -> {
      String user = exchange.getRequest().getHeaders().getFirst("X-User");
      if (user == null) {
        return chain.filter(exchange);
      }
      Principal p = () -> user;
      return chain.filter(exchange.mutate().principal(Mono.fromSupplier(() -> p)).build());
    };
  }
}
