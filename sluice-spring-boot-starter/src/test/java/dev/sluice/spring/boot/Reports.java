package dev.sluice.spring.boot;

import org.springframework.stereotype.Service;

/** A bean whose method is limited by the "api" rule's plans, keyed by its argument. */
@Service
class Reports {

  @RateLimited(rule = "api", key = "spel:#p0")
  public String build(String customer) {
    return "report for " + customer;
  }

  /** Not annotated: never limited. */
  public String free(String customer) {
    return "free for " + customer;
  }
}
