package dev.sluice.spring.boot;

import dev.sluice.http.KeyResolver;
import dev.sluice.http.RequestView;
import jakarta.servlet.http.HttpServletRequest;
import java.util.Optional;
import org.springframework.expression.EvaluationContext;
import org.springframework.expression.Expression;
import org.springframework.expression.ExpressionException;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.expression.spel.support.SimpleEvaluationContext;

/**
 * The {@code spel:} expressions of keys and plans. They are evaluated in a
 * {@link SimpleEvaluationContext} (read-only data binding and instance methods: no type
 * references, no constructors, no bean access), with the variables {@code #request} (the
 * servlet request being decided, or null off a request thread), {@code #principal} (the
 * authenticated user's name, or null) and, for plans, {@code #key} (the key's value: the header's
 * value, the token, the principal's name, the address, or the key expression's result).
 */
final class Expressions {

  /** The prefix of the material a {@code spel:} key resolver returns. */
  static final String KEY_PREFIX = "spel:";

  private static final SpelExpressionParser PARSER = new SpelExpressionParser();

  /** The servlet request the filter is deciding on this thread. */
  private static final ThreadLocal<HttpServletRequest> CURRENT = new ThreadLocal<>();

  private Expressions() {}

  /** A parsed expression, with the property it came from for error messages. */
  record Compiled(String path, String text, Expression expression) {

    String evaluate(HttpServletRequest request, String principal, String key) {
      EvaluationContext ctx = SimpleEvaluationContext.forReadOnlyDataBinding()
          .withInstanceMethods().build();
      ctx.setVariable("request", request);
      ctx.setVariable("principal", principal);
      ctx.setVariable("key", key);
      Object v = expression.getValue(ctx);
      return v == null ? null : v.toString();
    }
  }

  static Compiled compile(String text, String path) {
    try {
      return new Compiled(path, text, PARSER.parseExpression(text.trim()));
    } catch (ExpressionException e) {
      throw new IllegalArgumentException(
          path + " must be a SpEL expression, was \"" + text + "\": " + e.getMessage(), e);
    }
  }

  /** The request being decided on this thread, set by the filter around its call. */
  static HttpServletRequest current() {
    return CURRENT.get();
  }

  static HttpServletRequest enter(HttpServletRequest request) {
    HttpServletRequest previous = CURRENT.get();
    CURRENT.set(request);
    return previous;
  }

  static void leave(HttpServletRequest previous) {
    if (previous == null) {
      CURRENT.remove();
    } else {
      CURRENT.set(previous);
    }
  }

  static String principal(HttpServletRequest request) {
    if (request == null || request.getUserPrincipal() == null) {
      return null;
    }
    return request.getUserPrincipal().getName();
  }

  static KeyResolver keyResolver(Compiled key) {
    return new KeyResolver() {
      @Override
      public Optional<String> resolve(RequestView view) {
        HttpServletRequest request = current();
        String principal = request != null ? principal(request) : view.principal();
        String v = key.evaluate(request, principal, null);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(KEY_PREFIX + v);
      }

      @Override
      public String describe() {
        return "a key (" + key.text() + ")";
      }
    };
  }
}
