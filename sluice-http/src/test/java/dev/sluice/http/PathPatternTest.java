package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PathPatternTest {

  @ParameterizedTest(name = "{0} ~ {1}: {2}")
  @CsvSource({
      "/hello, /hello, true",
      "/hello, /hello/, false",
      "/hello, /hello2, false",
      "/**, /, true",
      "/**, /a/b/c, true",
      "/api/**, /api, true",
      "/api/**, /api/, true",
      "/api/**, /api/a/b, true",
      "/api/**, /apis, false",
      "/users/*/avatar, /users/42/avatar, true",
      "/users/*/avatar, /users/4/2/avatar, false",
      "/users/*, /users/, true",
      "/a/**/z, /a/b/c/z, true",
      "/a/**/z, /a/z, true",
      "/a/**/z, /a/zz, false",
      "/a/**/z, /a/b/c/y, false",
      "/**/z, /z, true",
      "/**/z, /x/y/z, true",
      "/a/**/b/**/c, /a/b/c, true",
      "/a/**/b/**/c, /a/x/b/y/z/c, true",
      "/a/**/b/**/c, /a/x/c/b, false",
      "/*a*a*a*b, /aaaab, true",
      "/*a*a*a*b, /aaaaa, false",
      "/files/*.*.*.zip, /files/a.b.c.zip, true",
      "/files/*.*.*.zip, /files/a.b.zip, false",
      "/*.json, /x.json, true",
      "/*.json, /d/x.json, false",
      "/v*/items/**, /v2/items/7, true",
      "/v*/items/**, /v2/item, false",
      "/a.b, /aXb, false",
  })
  void matches_pattern_expected(String pattern, String path, boolean expected) {
    assertThat(PathPattern.compile(pattern).matches(path)).isEqualTo(expected);
  }

  @Test
  void compile_malformed_refused() {
    assertThatThrownBy(() -> PathPattern.compile("hello"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("\"hello\"");
    assertThatThrownBy(() -> PathPattern.compile("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PathPattern.compile("/a/***"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PathPattern.compile("/files**"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"/files**\"").hasMessageContaining("whole segment");
  }

  /**
   * The ReDoS regression: these patterns compiled to backtracking regexes took 24.5 s and 36 s
   * on these paths. The matcher's steps must stay within a small multiple of pattern x path
   * length, for every hostile shape, at every size (a quadratic or exponential matcher fails
   * the bound as the path grows).
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "'/files/*.*.*.zip', '/files/', '.', ''",
      "'/*a*a*a*b', '/', 'a', ''",
      "'/**/a/**/a/**/b', '', '/a', ''",
      "'/*/*/*/*/x', '', '/y', ''",
      "'/**/*a*a*/**/b', '', '/aaaa', '/c'",
  })
  void glob_hostilePaths_stepsBoundedByPatternTimesPath(
      String pattern, String head, String unit, String tail) {
    PathPattern p = PathPattern.compile(pattern);
    for (int n : new int[] {10, 100, 1_000, 10_000}) {
      String path = head + unit.repeat(n) + tail;
      long[] steps = new long[1];
      boolean matched = p.glob(path, steps);
      assertThat(matched).as("%s ~ %d characters", pattern, path.length()).isFalse();
      long bound = 2L * (pattern.length() + 1) * (path.length() + 1);
      assertThat(steps[0]).as("steps for %s on a path of %d characters", pattern, path.length())
          .isLessThanOrEqualTo(bound);
    }
  }
}
