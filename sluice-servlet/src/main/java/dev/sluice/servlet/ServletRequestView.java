package dev.sluice.servlet;

import dev.sluice.http.RequestView;
import jakarta.servlet.http.HttpServletRequest;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;

/** A servlet request as the HTTP layer reads it. Made per request; not thread-safe. */
final class ServletRequestView implements RequestView {

  private final HttpServletRequest request;

  ServletRequestView(HttpServletRequest request) {
    this.request = request;
  }

  @Override
  public String method() {
    return request.getMethod();
  }

  /** The servlet path plus path info, which the container has decoded and normalized. */
  @Override
  public String path() {
    String servletPath = request.getServletPath();
    String pathInfo = request.getPathInfo();
    String p = servletPath == null ? "" : servletPath;
    if (pathInfo != null) {
      p = p + pathInfo;
    }
    return p.isEmpty() ? "/" : p;
  }

  @Override
  public List<String> headers(String name) {
    Enumeration<String> values = request.getHeaders(name);
    if (values == null || !values.hasMoreElements()) {
      return List.of();
    }
    String first = values.nextElement();
    if (!values.hasMoreElements()) {
      return first == null ? List.of() : List.of(first);
    }
    List<String> all = new ArrayList<>(2);
    all.add(first);
    while (values.hasMoreElements()) {
      all.add(values.nextElement());
    }
    return all;
  }

  @Override
  public String remoteAddress() {
    return request.getRemoteAddr();
  }

  @Override
  public String principal() {
    Principal p = request.getUserPrincipal();
    return p == null ? null : p.getName();
  }
}
