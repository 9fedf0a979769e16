package dev.umbra.kit.bus;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OwnUnsubscribesTest {

  @Test
  void aReplyToOurOwnUnsubscribeIsOursExactlyOnce() {
    OwnUnsubscribes own = new OwnUnsubscribes();
    own.sent(1, "ch");
    own.sent(1, "ch");
    assertThat(own.answered(1, "ch")).isTrue();
    assertThat(own.answered(1, "ch")).isTrue();
    assertThat(own.answered(1, "ch")).as("a third sunsubscribe was not ours").isFalse();
  }

  @Test
  void aSunsubscribeNobodySentIsNotOurs() {
    OwnUnsubscribes own = new OwnUnsubscribes();
    own.sent(1, "a");
    assertThat(own.answered(1, "b")).isFalse();
    assertThat(own.answered(1, "a")).isTrue();
  }

  @Test
  void aNewConnectionOwesNoRepliesOfTheOneItReplaced() {
    OwnUnsubscribes own = new OwnUnsubscribes();
    own.sent(1, "ch");
    assertThat(own.answered(2, "ch")).as("the new connection never sent it").isFalse();
    assertThat(own.answered(1, "ch")).isFalse();
  }
}
