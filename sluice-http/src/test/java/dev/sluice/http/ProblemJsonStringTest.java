package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProblemJsonStringTest {

  @Test
  void jsonString_controlAndQuoteCharacters_escaped() {
    StringBuilder sb = new StringBuilder();
    ProblemJson.string(sb, "a\"b\\c\n\u0000\u2028");
    assertThat(sb.toString()).isEqualTo("\"a\\\"b\\\\c\\u000a\\u0000\\u2028\"");
  }
}
