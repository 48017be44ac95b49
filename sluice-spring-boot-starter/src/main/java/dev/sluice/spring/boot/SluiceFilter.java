package dev.sluice.spring.boot;

import dev.sluice.servlet.RateLimitFilter;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;

/**
 * The servlet filter the starter registers: {@link RateLimitFilter} over the application's
 * {@link Sluice}, with the request made visible to {@code spel:} keys and plans while it
 * decides.
 */
final class SluiceFilter implements Filter {

  private final RateLimitFilter delegate;

  SluiceFilter(RateLimitFilter delegate) {
    this.delegate = delegate;
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    HttpServletRequest previous =
        Expressions.enter(req instanceof HttpServletRequest h ? h : null);
    try {
      delegate.doFilter(req, res, chain);
    } finally {
      Expressions.leave(previous);
    }
  }
}
