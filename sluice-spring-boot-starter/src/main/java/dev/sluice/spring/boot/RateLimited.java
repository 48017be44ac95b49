package dev.sluice.spring.boot;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Limits calls of a Spring bean's method (or of every method of a bean class) by a rule of
 * {@code sluice.rules}: its plan or limits, with buckets of their own (separate from the HTTP
 * requests the rule matches). A call refused is not made: it throws
 * {@link RateLimitedException}, which Spring MVC answers with a 429 problem.
 *
 * <pre>{@code
 * @RateLimited(rule = "reports", key = "spel:#customer.id")
 * public Report build(Customer customer) { ... }
 * }</pre>
 *
 * <p>Applied by a Spring AOP advisor (no AspectJ weaving): calls through the bean's proxy are
 * limited, calls from the bean to itself are not.
 */
@Target({ElementType.METHOD, ElementType.TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface RateLimited {

  /**
   * The rule whose plan or limits apply, by name.
   *
   * @return a rule of {@code sluice.rules}
   */
  String rule();

  /**
   * Whose bucket a call draws on: {@code spel:EXPRESSION} over the arguments ({@code #p0},
   * {@code #a0}, {@code #args}, and their names when compiled with {@code -parameters}), or a
   * fixed key; default one bucket for every call.
   *
   * @return the key
   */
  String key() default "";

  /**
   * Permits each call takes.
   *
   * @return at least 1
   */
  long cost() default 1;
}
