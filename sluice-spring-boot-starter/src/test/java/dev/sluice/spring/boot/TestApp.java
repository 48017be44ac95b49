package dev.sluice.spring.boot;

import jakarta.servlet.http.HttpServletResponse;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/** The application the tests start: a few endpoints behind the starter's filter. */
@SpringBootConfiguration
@EnableAutoConfiguration
@RestController
@Import(Reports.class)
class TestApp {

  private final Reports reports;

  TestApp(Reports reports) {
    this.reports = reports;
  }

  @GetMapping("/reports/{customer}")
  String report(@PathVariable("customer") String customer) {
    return reports.build(customer);
  }

  @GetMapping({"/api/hello", "/open/hello", "/shadow/hello", "/other/hello", "/queued/hello"})
  String hello() {
    return "hello";
  }

  @PostMapping("/api/hello")
  String post() {
    return "posted";
  }

  /** 200 with the right password, else 401: the charge-on rule counts the 401s only. */
  @PostMapping("/login")
  String login(@RequestHeader(name = "X-Password", required = false) String password,
      HttpServletResponse response) {
    if (!"secret".equals(password)) {
      response.setStatus(401);
      return "no";
    }
    return "welcome";
  }

  @GetMapping("/status/{code}")
  String status(@PathVariable("code") int code, HttpServletResponse response) {
    response.setStatus(code);
    return "status " + code;
  }
}
