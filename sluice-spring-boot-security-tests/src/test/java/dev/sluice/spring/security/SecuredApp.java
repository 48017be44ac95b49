package dev.sluice.spring.security;

import java.security.Principal;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** A Spring MVC application behind Spring Security's HTTP Basic, with two users. */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import(SecuredApp.Hello.class)
class SecuredApp {

  @Bean
  SecurityFilterChain security(HttpSecurity http) throws Exception {
    http.authorizeHttpRequests(a -> a.anyRequest().authenticated())
        .httpBasic(Customizer.withDefaults())
        .csrf(c -> c.disable());
    return http.build();
  }

  @Bean
  InMemoryUserDetailsManager users() {
    return new InMemoryUserDetailsManager(
        User.withUsername("alice").password("{noop}a-secret").roles("USER").build(),
        User.withUsername("bob").password("{noop}b-secret").roles("USER").build());
  }

  @RestController
  static class Hello {
    @GetMapping("/api/hello")
    String hello(Principal principal) {
      return "hello " + principal.getName();
    }
  }
}
