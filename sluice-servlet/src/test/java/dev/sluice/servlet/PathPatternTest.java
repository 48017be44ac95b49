package dev.sluice.servlet;

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
      "/a/**/z, /a/z, false",
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
  }
}
