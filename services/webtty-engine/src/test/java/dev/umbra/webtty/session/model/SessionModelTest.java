package dev.umbra.webtty.session.model;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.umbra.kit.auth.Role;
import dev.umbra.proto.webtty.JoinPolicy;
import dev.umbra.proto.webtty.KeyGrant;
import dev.umbra.proto.webtty.ParticipantRole;
import dev.umbra.proto.webtty.ServerPolicy;
import dev.umbra.proto.webtty.SignedMessage;
import dev.umbra.proto.webtty.TerminalSize;
import dev.umbra.proto.webtty.WebTtyReason;
import dev.umbra.webtty.session.model.SessionModel.Aftermath;
import dev.umbra.webtty.session.model.SessionModel.Phase;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The session model's rules (docs/webtty.md), read as a specification: lifecycle, control,
 * sequence, grants and shares, with no socket, bus or clock. The engine's end-to-end tests
 * (WebTtyEngineTest) check the same rules through real connections.
 */
class SessionModelTest {
  private static final UUID WS = UUID.fromString("00000000-0000-0000-0000-00000000000a");
  private static final ByteString OUTPUT_KEY = key(1);
  private static final ByteString INPUT_KEY = key(2);
  private static final ByteString OPENER_KEY = key(10);
  private static final ByteString VIEWER_KEY = key(11);
  private static final ByteString ADMIN_KEY = key(12);
  private static final ByteString STRANGER_KEY = key(13);
  private static final SignedMessage HELLO = signed("hello");
  private static final SignedMessage PROOF = signed("proof");
  private static final TerminalSize SIZE =
      TerminalSize.newBuilder().setCols(80).setRows(24).build();

  private final Participant opener =
      Participant.opener("p-opener", "alice", Role.MEMBER, "t1", "inst-a");

  // ---------------------------------------------------------------- lifecycle

  @Test
  void aNewSessionAwaitsTheServersHelloWithItsOpenerInControl() {
    SessionModel s = opened(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(s.phase()).isEqualTo(Phase.AWAIT_HELLO);
    assertThat(s.phase().opening()).isTrue();
    assertThat(s.controllerId()).contains("p-opener");
    assertThat(s.roleOf(opener)).isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
  }

  @Test
  void theHandshakeIsHelloThenProofThenReady() {
    SessionModel s = opened(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(s.serverHello(HELLO)).isEqualTo(Decision.ACCEPTED);
    assertThat(s.phase()).isEqualTo(Phase.AWAIT_PROOF);
    assertThat(s.clientProof("p-opener", grants(), OPENER_KEY, key(99), key(98), PROOF))
        .isEqualTo(Decision.ACCEPTED);
    assertThat(s.phase()).isEqualTo(Phase.AWAIT_READY);
    assertThat(s.ready()).isEqualTo(Decision.ACCEPTED);
    assertThat(s.phase()).isEqualTo(Phase.LIVE);
    assertThat(s.serverHello()).isEqualTo(HELLO);
    assertThat(s.clientProof()).isEqualTo(PROOF);
    assertThat(s.opener().orElseThrow().keyIdHex()).isEqualTo(hex(OPENER_KEY));
  }

  @Test
  void handshakeStepsOutOfOrderAreProtocolViolations() {
    SessionModel s = opened(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(s.ready()).isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_UNEXPECTED));
    assertThat(s.clientProof("p-opener", grants(), OPENER_KEY, key(99), key(98), PROOF))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_UNEXPECTED));
    s.serverHello(HELLO);
    assertThat(s.serverHello(HELLO)).isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_UNEXPECTED));
  }

  @Test
  void onlyTheOpenerProves() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    join(s, "p-viewer", "bob", Role.MEMBER, VIEWER_KEY);

    assertThat(s.clientProof("p-viewer", grants(), VIEWER_KEY, key(99), key(98), PROOF))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_UNEXPECTED));
  }

  @Test
  void aProofNamesOneOutputKeyAndOneDifferentInputKey() {
    List<List<KeyGrant>> malformed =
        List.of(
            List.of(
                grant("output", OUTPUT_KEY, OPENER_KEY),
                grant("output", key(3), VIEWER_KEY),
                grant("input", INPUT_KEY, OPENER_KEY)),
            List.of(grant("output", OUTPUT_KEY, OPENER_KEY)),
            List.of(grant("input", INPUT_KEY, OPENER_KEY)),
            List.of(
                grant("output", OUTPUT_KEY, OPENER_KEY), grant("input", OUTPUT_KEY, OPENER_KEY)));
    for (List<KeyGrant> g : malformed) {
      SessionModel s = opened(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
      s.serverHello(HELLO);
      assertThat(s.clientProof("p-opener", g, OPENER_KEY, key(99), key(98), PROOF))
          .as("%s", g)
          .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_MALFORMED));
      assertThat(s.phase()).isEqualTo(Phase.AWAIT_PROOF);
    }
  }

  @Test
  void anOpenerWhoseKeyHasNoOutputGrantIsRefusedTheProof() {
    SessionModel s = opened(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    s.serverHello(HELLO);

    assertThat(s.clientProof("p-opener", grants(), STRANGER_KEY, key(99), key(98), PROOF))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_NO_GRANT));
  }

  @Test
  void nothingFlowsBeforeTheSessionIsLive() {
    SessionModel s = opened(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(s.output(OUTPUT_KEY)).isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_NOT_READY));
    assertThat(s.stdin("p-opener", INPUT_KEY, 1))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_NOT_READY));
    assertThat(s.resize("p-opener", SIZE))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_NOT_READY));
    assertThat(s.inputKey()).isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_NOT_READY));
    assertThat(s.share("p-opener")).isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_NOT_READY));
    assertThat(s.outputKey(List.of(), signed("epoch")))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_NOT_READY));
    assertThat(s.join(viewer("p-viewer", "bob", Role.MEMBER, VIEWER_KEY), false))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_LIVE));
  }

  @Test
  void anInputKeyDocumentIsTakenOnceTheProofIsAcceptedBeforeReady() {
    SessionModel s = opened(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    s.serverHello(HELLO);
    assertThat(s.inputKey())
        .as("before the proof")
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_NOT_READY));
    assertThat(s.clientProof("p-opener", grants(), OPENER_KEY, key(99), key(98), PROOF))
        .isEqualTo(Decision.ACCEPTED);

    // the daemon sends the reviewers' epoch-0 grant just before READY
    assertThat(s.inputKey()).isEqualTo(Decision.ACCEPTED);
    assertThat(s.phase()).isEqualTo(Phase.AWAIT_READY);
    assertThat(s.stdin("p-opener", INPUT_KEY, 1))
        .as("stdin still waits for READY")
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_NOT_READY));
    assertThat(s.ready()).isEqualTo(Decision.ACCEPTED);
    assertThat(s.inputKey()).isEqualTo(Decision.ACCEPTED);
    s.end();
    assertThat(s.inputKey()).isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_NOT_READY));
  }

  @Test
  void endingTheSessionRefusesLaterFrames() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(s.end()).isEqualTo(Phase.LIVE);
    assertThat(s.end()).as("ending twice is nothing").isEqualTo(Phase.ENDED);
    assertThat(s.output(OUTPUT_KEY)).isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_NOT_READY));
    assertThat(s.stdin("p-opener", INPUT_KEY, 1))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_NOT_READY));
    assertThat(s.serverHello(HELLO)).isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_UNEXPECTED));
    assertThat(s.ready()).isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_UNEXPECTED));
    assertThat(s.join(viewer("p-viewer", "bob", Role.MEMBER, VIEWER_KEY), false))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_LIVE));
    assertThat(s.leave("p-opener").orElseThrow().aftermath())
        .as("nothing more to end")
        .isEqualTo(Aftermath.NONE);
  }

  // ---------------------------------------------------------------- output, stdin, sequence

  @Test
  void theServersOutputIsUnderTheCurrentOutputKey() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(s.output(OUTPUT_KEY)).isEqualTo(Decision.ACCEPTED);
    assertThat(s.output(INPUT_KEY)).isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_WRONG_KEY_ID));
  }

  @Test
  void stdinIsNeverUnderTheOutputKey() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(s.stdin("p-opener", OUTPUT_KEY, 1))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_WRONG_KEY_ID));
    assertThat(s.stdin("p-opener", INPUT_KEY, 1)).isEqualTo(Decision.ACCEPTED);
  }

  @Test
  void aReplayedStdinCounterIsRejected() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(s.stdin("p-opener", INPUT_KEY, 5)).isEqualTo(Decision.ACCEPTED);
    assertThat(s.stdin("p-opener", INPUT_KEY, 5))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_REPLAYED));
    assertThat(s.stdin("p-opener", INPUT_KEY, 4))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_REPLAYED));
    assertThat(s.stdin("p-opener", INPUT_KEY, 6)).isEqualTo(Decision.ACCEPTED);
  }

  @Test
  void theSequenceNeverStepsBack() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(s.lastSequence()).isZero();
    long previous = 0;
    for (int i = 0; i < 1_000; i++) {
      long next = s.nextSequence();
      assertThat(next).isEqualTo(previous + 1);
      previous = next;
    }
    s.leave("p-opener");
    s.end();
    assertThat(s.nextSequence()).as("gapless even after the end").isEqualTo(1_001);
    assertThat(s.lastSequence()).isEqualTo(1_001);
  }

  @Test
  void aJoinerLearnsWhereTheSequenceStands() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    s.nextSequence();
    s.nextSequence();

    join(s, "p-viewer", "bob", Role.MEMBER, VIEWER_KEY);

    assertThat(s.lastSequence()).isEqualTo(2);
  }

  // ---------------------------------------------------------------- control

  @Test
  void aViewerCannotType() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    join(s, "p-viewer", "bob", Role.MEMBER, VIEWER_KEY);

    assertThat(s.stdin("p-viewer", INPUT_KEY, 1))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER));
    assertThat(s.resize("p-viewer", SIZE))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER));
  }

  @Test
  void aViewerCannotTakeControl() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    Participant bob = join(s, "p-viewer", "bob", Role.MEMBER, VIEWER_KEY);

    assertThat(s.takeControl("p-viewer")).isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_OWNER));
    assertThat(s.giveControl("p-viewer", "p-viewer"))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER));
    assertThat(s.roleOf(bob)).isEqualTo(ParticipantRole.PARTICIPANT_ROLE_VIEWER);
    assertThat(s.requestControl("p-viewer")).as("asking is allowed").isEqualTo(Decision.ACCEPTED);
  }

  @Test
  void theControllerAskingForControlIsIgnored() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(s.requestControl("p-opener")).isEqualTo(Decision.IGNORED);
  }

  @Test
  void theControllerHandsControlToAMemberWhoThenTypes() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    Participant bob = join(s, "p-viewer", "bob", Role.MEMBER, VIEWER_KEY);

    Decision d = s.giveControl("p-opener", "p-viewer");

    assertThat(d).isEqualTo(new Decision.ControlChanged(bob, s.opener().orElseThrow()));
    assertThat(s.roleOf(bob)).isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    assertThat(s.roleOf(s.opener().orElseThrow()))
        .isEqualTo(ParticipantRole.PARTICIPANT_ROLE_VIEWER);
    assertThat(s.stdin("p-viewer", INPUT_KEY, 1)).isEqualTo(Decision.ACCEPTED);
    assertThat(s.stdin("p-opener", INPUT_KEY, 1))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER));
  }

  @Test
  void controlGoesOnlyToAMemberOrAbove() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    join(s, "p-viewer", "bob", Role.VIEWER, VIEWER_KEY);

    assertThat(s.giveControl("p-opener", "p-viewer"))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_ALLOWED));
    assertThat(s.giveControl("p-opener", "p-nobody"))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_ALLOWED));
    assertThat(s.controllerId()).contains("p-opener");
  }

  @Test
  void theOpenerTakesControlBackWithoutHoldingIt() {
    SessionModel s = liveWithBobInControl();

    assertThat(s.takeControl("p-opener")).isInstanceOf(Decision.ControlChanged.class);
    assertThat(s.controllerId()).contains("p-opener");
  }

  @Test
  void theControllerLeavingLeavesNobodyInControl() {
    SessionModel s = liveWithBobInControl();

    var left = s.leave("p-viewer").orElseThrow();

    assertThat(left.controlDropped()).isTrue();
    assertThat(left.aftermath()).isEqualTo(Aftermath.NONE);
    assertThat(s.controllerId()).isEmpty();
    assertThat(s.stdin("p-opener", INPUT_KEY, 1))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER));
  }

  // ---------------------------------------------------------------- join, attach, leave

  @Test
  void aJoinNeedsAnOutputGrantForItsKey() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(s.join(viewer("p-x", "carol", Role.MEMBER, STRANGER_KEY), false))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NO_GRANT));
    assertThat(s.join(viewer("p-y", "carol", Role.MEMBER, INPUT_KEY), false))
        .as("an input grant alone (the server's) admits nobody")
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NO_GRANT));
  }

  @Test
  void theServersJoinPolicyDecidesWhoMayJoin() {
    assertThat(
            live(JoinPolicy.JOIN_POLICY_NOBODY)
                .join(viewer("p-v", "bob", Role.ADMIN, VIEWER_KEY), false))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_POLICY));
    assertThat(
            live(JoinPolicy.JOIN_POLICY_GRANTED_ADMINS)
                .join(viewer("p-v", "bob", Role.MEMBER, VIEWER_KEY), false))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_POLICY));
    assertThat(
            live(JoinPolicy.JOIN_POLICY_GRANTED_ADMINS)
                .join(viewer("p-v", "dan", Role.ADMIN, ADMIN_KEY), false))
        .isInstanceOf(Decision.Joined.class);
    assertThat(
            live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS)
                .join(viewer("p-v", "bob", Role.VIEWER, VIEWER_KEY), false))
        .isInstanceOf(Decision.Joined.class);
    assertThat(
            live(JoinPolicy.JOIN_POLICY_NOBODY)
                .join(viewer("p-2", "alice", Role.MEMBER, OPENER_KEY), false))
        .as("the opener joins a second time whatever the policy")
        .isInstanceOf(Decision.Joined.class);
  }

  @Test
  void aJoinerIsAViewerAndCannotJoinTwice() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    Participant bob = viewer("p-viewer", "bob", Role.MEMBER, VIEWER_KEY);

    assertThat(s.join(bob, false)).isEqualTo(new Decision.Joined(bob, false));
    assertThat(s.roleOf(bob)).isEqualTo(ParticipantRole.PARTICIPANT_ROLE_VIEWER);
    assertThat(s.join(bob, false))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_ALREADY_IN_SESSION));
  }

  @Test
  void onlyTheOpenerAttaches() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(s.join(viewer("p-viewer", "bob", Role.ADMIN, VIEWER_KEY), true))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_OWNER));
  }

  @Test
  void theOpenerLeavingBeforeTheSessionIsLiveEndsIt() {
    SessionModel s = opened(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    s.serverHello(HELLO);

    assertThat(s.leave("p-opener").orElseThrow().aftermath()).isEqualTo(Aftermath.END);
  }

  @Test
  void theOpenerLeavingALiveSessionAwaitsTheirReturnAndAttachingRestoresControl() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    join(s, "p-viewer", "bob", Role.MEMBER, VIEWER_KEY);

    var left = s.leave("p-opener").orElseThrow();
    assertThat(left.aftermath()).isEqualTo(Aftermath.AWAIT_OPENER);
    assertThat(left.controlDropped()).isTrue();
    assertThat(s.openerPresent()).isFalse();

    Participant back = viewer("p-back", "alice", Role.MEMBER, OPENER_KEY);
    assertThat(s.join(back, true)).isEqualTo(new Decision.Joined(back, true));
    assertThat(s.controllerId()).contains("p-back");
    assertThat(s.openerPresent()).isTrue();
  }

  @Test
  void attachingWhileSomeoneElseControlsLeavesControlWhereItIs() {
    SessionModel s = liveWithBobInControl();
    s.leave("p-opener");

    Participant back = viewer("p-back", "alice", Role.MEMBER, OPENER_KEY);
    assertThat(s.join(back, true)).isEqualTo(new Decision.Joined(back, false));
    assertThat(s.controllerId()).contains("p-viewer");
  }

  // ---------------------------------------------------------------- an edge instance's death

  @Test
  void theControllerBackOnANewConnectionTakesItsStaleEntrysPlaceAndControlWithoutAChange() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    assertThat(s.stdin("p-opener", INPUT_KEY, 7)).isEqualTo(Decision.ACCEPTED);

    // the instance of p-opener's connection died without a goodbye: the same member, key and
    // public key come back through another one
    Participant back =
        new Participant("p-back", "alice", Role.MEMBER, "t-2", "inst-c", hex(OPENER_KEY), key(99));
    assertThat(s.join(back, true))
        .isEqualTo(new Decision.Rejoined(back, opener.withKey(hex(OPENER_KEY), key(99)), 7));
    assertThat(s.controllerId()).contains("p-back");
    assertThat(s.participant("p-opener")).isEmpty();
    assertThat(s.participants()).extracting(Participant::id).containsExactly("p-back");
    // its stdin counter came along: a replay through the new connection is still refused
    assertThat(s.stdin("p-back", INPUT_KEY, 7))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_REPLAYED));
    assertThat(s.stdin("p-back", INPUT_KEY, 8)).isEqualTo(Decision.ACCEPTED);
    // the old connection's late goodbye finds nobody
    assertThat(s.leave("p-opener")).isEmpty();
    assertThat(s.controllerId()).contains("p-back");
  }

  @Test
  void aControllerWhoseLinkDroppedGetsControlBackOnItsFailoverRejoinWithoutAChange() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    join(s, "p-viewer", "bob", Role.MEMBER, VIEWER_KEY);

    // the goodbye of its dropped link arrives before it is back: the daemon is not told
    var left = s.leave("p-opener", true).orElseThrow();
    assertThat(left.controlDropped()).isFalse();
    assertThat(s.controllerId()).isEmpty();
    // meanwhile another key's failover ATTACH does not take the waiting control
    Participant other = viewer("p-other", "alice", Role.MEMBER, ADMIN_KEY);
    assertThat(s.join(other, true, true)).isEqualTo(new Decision.Joined(other, false));
    assertThat(s.stdin("p-viewer", INPUT_KEY, 1))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_CONTROLLER));

    // its key's failover re-join: controller again, no control change (the same input key)
    Participant back = viewer("p-back", "alice", Role.MEMBER, OPENER_KEY);
    assertThat(s.join(back, true, true)).isEqualTo(new Decision.Joined(back, false));
    assertThat(s.controllerId()).contains("p-back");
    assertThat(s.stdin("p-back", INPUT_KEY, 1)).isEqualTo(Decision.ACCEPTED);
  }

  @Test
  void aNewAttachOfTheOpenerAfterADroppedLinkTakesControlWithAChangeAsAfterADetach() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    s.leave("p-opener", true);

    // a new client (not failing over: it holds no input key yet) gets a fresh one from the daemon
    Participant fresh = viewer("p-new", "alice", Role.MEMBER, OPENER_KEY);
    assertThat(s.join(fresh, true, false)).isEqualTo(new Decision.Joined(fresh, true));
    assertThat(s.controllerId()).contains("p-new");
  }

  @Test
  void controlGivenOrTakenMeanwhileIsNotHandedBackToTheReturningKey() {
    SessionModel s = liveWithBobInControl();
    s.leave("p-viewer", true);
    assertThat(s.takeControl("p-opener")).isInstanceOf(Decision.ControlChanged.class);
    s.leave("p-opener", false); // a detach: control dropped, the daemon told

    Participant bob = viewer("p-bob", "bob", Role.MEMBER, VIEWER_KEY);
    assertThat(s.join(bob, false, true)).isEqualTo(new Decision.Joined(bob, false));
    assertThat(s.controllerId()).isEmpty();
  }

  @Test
  void nobodyElseTakesAStaleEntrysPlaceNotAnotherMemberWithItsKeyNorTheSameMemberWithAnotherKey() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    join(s, "p-viewer", "bob", Role.MEMBER, VIEWER_KEY);

    // bob claims alice's key id and public key (both public): he is not alice
    Participant bob =
        new Participant("p-bob", "bob", Role.MEMBER, "t-b", "inst-c", hex(OPENER_KEY), key(99));
    assertThat(s.join(bob, true)).isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NOT_OWNER));
    assertThat(s.join(bob, false)).isEqualTo(new Decision.Joined(bob, false));
    // alice with the same key id but another public key is another connection of hers, no more
    Participant other =
        new Participant("p-alt", "alice", Role.MEMBER, "t-a", "inst-c", hex(OPENER_KEY), key(97));
    assertThat(s.join(other, true)).isEqualTo(new Decision.Joined(other, false));
    assertThat(s.controllerId()).contains("p-opener");
    assertThat(s.participant("p-opener")).isPresent();
  }

  // ---------------------------------------------------------------- engine failover

  private static SessionModel resumed(ByteString controllerKey) {
    return SessionModel.resumed(
        "s-1",
        WS,
        "m-1",
        ServerPolicy.newBuilder().setJoin(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS).build(),
        new Resumption(
            "alice",
            1,
            SIZE,
            HELLO,
            PROOF,
            grants(),
            key(98),
            OUTPUT_KEY,
            null,
            List.of(),
            controllerKey == null ? "" : hex(controllerKey),
            42,
            signed("resume")));
  }

  @Test
  void aResumedSessionIsLiveWithNobodyPresentAndNumbersOnFromTheGap() {
    SessionModel s = resumed(OPENER_KEY);

    assertThat(s.phase()).isEqualTo(Phase.LIVE);
    assertThat(s.participants()).isEmpty();
    assertThat(s.controllerId()).isEmpty();
    assertThat(s.nextSequence()).isEqualTo(42);
    assertThat(s.resume()).contains(signed("resume"));
    assertThat(s.output(OUTPUT_KEY)).isEqualTo(Decision.ACCEPTED);
  }

  @Test
  void theKeyTheSignedResumeNamesGetsControlBackWithoutAControlChange() {
    SessionModel s = resumed(VIEWER_KEY);

    // the opener comes back first: no control (it would retire the returning controller's key)
    Participant alice = viewer("p-a", "alice", Role.MEMBER, OPENER_KEY);
    assertThat(s.join(alice, true)).isEqualTo(new Decision.Joined(alice, false));
    assertThat(s.controllerId()).isEmpty();
    // bob, whose key the daemon still takes input from: controller again, nothing to tell it
    Participant bob = viewer("p-b", "bob", Role.MEMBER, VIEWER_KEY);
    assertThat(s.join(bob, false)).isEqualTo(new Decision.Joined(bob, false));
    assertThat(s.controllerId()).contains("p-b");
    assertThat(s.roleOf(bob)).isEqualTo(ParticipantRole.PARTICIPANT_ROLE_CONTROLLER);
    assertThat(s.roleOf(alice)).isEqualTo(ParticipantRole.PARTICIPANT_ROLE_VIEWER);
  }

  @Test
  void aResumedSessionNobodyControlledGivesControlToTheReattachingOpenerAsUsual() {
    SessionModel s = resumed(null);

    Participant alice = viewer("p-a", "alice", Role.MEMBER, OPENER_KEY);
    assertThat(s.join(alice, true)).isEqualTo(new Decision.Joined(alice, true));
    assertThat(s.controllerId()).contains("p-a");
    // grants still decide who may come back
    assertThat(s.join(viewer("p-x", "carol", Role.MEMBER, STRANGER_KEY), false))
        .isEqualTo(Decision.refused(WebTtyReason.WEBTTY_REASON_NO_GRANT));
  }

  @Test
  void leavingTwiceIsNothing() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    join(s, "p-viewer", "bob", Role.MEMBER, VIEWER_KEY);

    assertThat(s.leave("p-viewer")).isPresent();
    assertThat(s.leave("p-viewer")).isEmpty();
    assertThat(s.participants()).extracting(Participant::id).containsExactly("p-opener");
  }

  @Test
  void aRevocationVoidsItsSubjectsParticipantsUpToTheOpener() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    Participant bob = join(s, "p-viewer", "bob", Role.MEMBER, VIEWER_KEY);
    join(s, "p-carol", "carol", Role.MEMBER, ADMIN_KEY);
    // bob again, from another device (another public key): a second participant, not a rejoin
    Participant bobAgain =
        new Participant("p-bob-2", "bob", Role.MEMBER, "t-b2", "inst-b", hex(VIEWER_KEY), key(50));
    assertThat(s.join(bobAgain, false)).isEqualTo(new Decision.Joined(bobAgain, false));

    assertThat(s.revokedBy("bob"::equals)).containsExactly(bob, bobAgain);
    assertThat(s.revokedBy("dave"::equals)).isEmpty();
    assertThat(s.revokedBy(subject -> true))
        .as("the opener came first: their revocation ends it all")
        .containsExactly(s.opener().orElseThrow());
  }

  // ---------------------------------------------------------------- shares

  @Test
  void onlyTheOpenerOrTheControllerMayShare() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    join(s, "p-viewer", "bob", Role.MEMBER, VIEWER_KEY);

    assertThat(s.share("p-viewer"))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_SHARE_REFUSED_NOT_CONTROLLER));
    assertThat(s.share("p-opener")).isEqualTo(Decision.ACCEPTED);
    s.giveControl("p-opener", "p-viewer");
    assertThat(s.share("p-viewer")).isEqualTo(Decision.ACCEPTED);
    assertThat(s.share("p-opener")).as("the opener, not controlling").isEqualTo(Decision.ACCEPTED);
  }

  @Test
  void aShareMovesTheOutputKeyAndAdmitsItsRecipients() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    ByteString next = key(4);
    SignedMessage epoch = signed("epoch-2");

    Decision d =
        s.outputKey(
            List.of(grant("output", next, OPENER_KEY), grant("output", next, STRANGER_KEY)), epoch);

    assertThat(d)
        .isEqualTo(new Decision.Shared(java.util.Set.of(hex(OPENER_KEY), hex(STRANGER_KEY))));
    assertThat(s.output(OUTPUT_KEY)).isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_WRONG_KEY_ID));
    assertThat(s.output(next)).isEqualTo(Decision.ACCEPTED);
    assertThat(s.outputKeyEpoch()).contains(epoch);
    assertThat(s.join(viewer("p-carol", "carol", Role.MEMBER, STRANGER_KEY), false))
        .isInstanceOf(Decision.Joined.class);
  }

  @Test
  void aShareMixingKeysOrRolesIsMalformedAndChangesNothing() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);

    assertThat(
            s.outputKey(
                List.of(grant("output", key(4), OPENER_KEY), grant("output", key(5), STRANGER_KEY)),
                signed("e")))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_MALFORMED));
    assertThat(s.outputKey(List.of(grant("input", key(4), STRANGER_KEY)), signed("e")))
        .isEqualTo(rejected(WebTtyReason.WEBTTY_REASON_MALFORMED));
    assertThat(s.output(OUTPUT_KEY)).isEqualTo(Decision.ACCEPTED);
    assertThat(s.outputKeyEpoch()).isEmpty();
    assertThat(s.join(viewer("p-carol", "carol", Role.MEMBER, STRANGER_KEY), false))
        .isEqualTo(refused(WebTtyReason.WEBTTY_REASON_NO_GRANT));
  }

  // ---------------------------------------------------------------- helpers

  private SessionModel opened(JoinPolicy join) {
    return new SessionModel(
        "s-1", WS, "srv-1", ServerPolicy.newBuilder().setJoin(join).build(), opener, 1_000L, SIZE);
  }

  /** A live session whose output key is granted to the opener, the viewer and the admin keys. */
  private SessionModel live(JoinPolicy join) {
    SessionModel s = opened(join);
    s.serverHello(HELLO);
    assertThat(s.clientProof("p-opener", grants(), OPENER_KEY, key(99), key(98), PROOF))
        .isEqualTo(Decision.ACCEPTED);
    s.ready();
    return s;
  }

  /** A live session where the opener handed control to bob, a member. */
  private SessionModel liveWithBobInControl() {
    SessionModel s = live(JoinPolicy.JOIN_POLICY_GRANTED_MEMBERS);
    join(s, "p-viewer", "bob", Role.MEMBER, VIEWER_KEY);
    assertThat(s.giveControl("p-opener", "p-viewer")).isInstanceOf(Decision.ControlChanged.class);
    return s;
  }

  private static Participant join(
      SessionModel s, String id, String subject, Role role, ByteString key) {
    Participant p = viewer(id, subject, role, key);
    assertThat(s.join(p, false)).isInstanceOf(Decision.Joined.class);
    return p;
  }

  private static Participant viewer(String id, String subject, Role role, ByteString key) {
    return new Participant(id, subject, role, "t-" + id, "inst-b", hex(key), ByteString.EMPTY);
  }

  private static List<KeyGrant> grants() {
    return List.of(
        grant("output", OUTPUT_KEY, OPENER_KEY),
        grant("output", OUTPUT_KEY, VIEWER_KEY),
        grant("output", OUTPUT_KEY, ADMIN_KEY),
        grant("input", INPUT_KEY, OPENER_KEY),
        grant("input", INPUT_KEY, INPUT_KEY));
  }

  private static KeyGrant grant(String role, ByteString payloadKey, ByteString recipient) {
    return KeyGrant.newBuilder()
        .setKeyRole(role)
        .setPayloadKeyId(payloadKey)
        .setRecipientKeyId(recipient)
        .build();
  }

  private static Decision rejected(WebTtyReason reason) {
    return new Decision.Rejected(reason);
  }

  private static Decision refused(WebTtyReason reason) {
    return new Decision.Refused(reason);
  }

  private static ByteString key(int n) {
    byte[] b = new byte[16];
    b[15] = (byte) n;
    return ByteString.copyFrom(b);
  }

  private static String hex(ByteString b) {
    return HexFormat.of().formatHex(b.toByteArray());
  }

  private static SignedMessage signed(String what) {
    return SignedMessage.newBuilder().setSignature(ByteString.copyFromUtf8(what)).build();
  }
}
