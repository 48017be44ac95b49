package dev.sluice.servlet;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A path pattern: {@code /hello} matches itself; {@code *} matches within one segment
 * ({@code /users/*}{@code /avatar}); {@code /**} at the end matches the prefix and everything
 * under it ({@code /api/**} matches {@code /api}, {@code /api/} and {@code /api/a/b});
 * {@code /**} alone matches every path. Matched against the servlet path plus path info, which
 * the container has already decoded and normalized, so {@code /api/%2e%2e/health} cannot pass
 * for {@code /health}.
 */
final class PathPattern {

  private enum Kind { ALL, EXACT, PREFIX, REGEX }

  private final String text;
  private final Kind kind;
  private final String literal;
  private final Pattern regex;

  private PathPattern(String text, Kind kind, String literal, Pattern regex) {
    this.text = text;
    this.kind = kind;
    this.literal = literal;
    this.regex = regex;
  }

  static PathPattern compile(String text) {
    Objects.requireNonNull(text, "pattern");
    if (text.isEmpty() || text.charAt(0) != '/' || text.contains("***")) {
      throw new IllegalArgumentException(
          "path pattern \"" + text + "\" must start with '/' and use only * and ** as wildcards");
    }
    if (text.equals("/**")) {
      return new PathPattern(text, Kind.ALL, null, null);
    }
    String head = text.endsWith("/**") ? text.substring(0, text.length() - 3) : null;
    if (head != null && head.indexOf('*') < 0) {
      return new PathPattern(text, Kind.PREFIX, head, null);
    }
    if (text.indexOf('*') < 0) {
      return new PathPattern(text, Kind.EXACT, text, null);
    }
    StringBuilder re = new StringBuilder();
    String body = head != null ? head : text;
    int i = 0;
    while (i < body.length()) {
      int star = body.indexOf('*', i);
      if (star < 0) {
        re.append(Pattern.quote(body.substring(i)));
        break;
      }
      if (star > i) {
        re.append(Pattern.quote(body.substring(i, star)));
      }
      if (star + 1 < body.length() && body.charAt(star + 1) == '*') {
        re.append(".*");
        i = star + 2;
      } else {
        re.append("[^/]*");
        i = star + 1;
      }
    }
    if (head != null) {
      re.append("(?:/.*)?");
    }
    return new PathPattern(text, Kind.REGEX, null, Pattern.compile(re.toString()));
  }

  boolean matches(String path) {
    switch (kind) {
      case ALL:
        return true;
      case EXACT:
        return path.equals(literal);
      case PREFIX:
        return path.startsWith(literal)
            && (path.length() == literal.length() || path.charAt(literal.length()) == '/');
      default:
        return regex.matcher(path).matches();
    }
  }

  @Override
  public String toString() {
    return text;
  }
}
