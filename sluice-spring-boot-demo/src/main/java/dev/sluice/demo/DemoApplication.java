package dev.sluice.demo;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The Spring Boot demo: one endpoint, {@code GET /api/hello}, limited by the starter from
 * {@code application.yml}; {@code /actuator/sluice} shows the limits in force. Try:
 *
 * <pre>
 * curl -i -H 'X-API-Key: free-1' localhost:8080/api/hello   # 3 at once, then 429
 * curl -i -H 'X-API-Key: pro-1' localhost:8080/api/hello    # 10 at once
 * curl -s localhost:8080/actuator/sluice
 * </pre>
 */
@SpringBootApplication
@RestController
public class DemoApplication {

  /** Created by Spring. */
  public DemoApplication() {}

  /**
   * Starts the demo (port 8080; {@code --server.port=N} for another).
   *
   * @param args Spring Boot arguments
   */
  public static void main(String[] args) {
    SpringApplication.run(DemoApplication.class, args);
  }

  /**
   * The limited endpoint.
   *
   * @return a greeting
   */
  @GetMapping("/api/hello")
  public String hello() {
    return "hello\n";
  }
}
