// Replays shared/crypto/conformance/workflow.json in the page against its own modules (loaded with
// their SRI hashes): each text, its reformatted twin and its tampered twin rebuild exactly the
// published payloads, the published signature verifies over the payload and not over the tampered
// one. Then parses `corpus` (texts the Java test also gives to shared/crypto's WorkflowDefinition)
// and returns each outcome — the payload, or the refusal's problem code — for the test to compare.
async (input) => {
  const wd = await import('/app/js/workflow-definition.js');
  const sig = await import('/app/js/signatures.js');
  const failures = [];
  let checked = 0;
  const fail = (i, what) => failures.push('workflow.json #' + i + ': ' + what);
  const vectors = JSON.parse(input.vectors).vectors;
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i];
    const payload = (text) => wd.workflowPayload(v.workspace_id, v.version, v.signer_device_id, wd.parseDefinition(text));
    for (const [k, want] of [['yaml', v.payload], ['same_yaml', v.payload], ['tampered_yaml', v.tampered_payload]]) {
      checked++;
      try {
        const got = payload(v[k]);
        if (got !== want) fail(i, k + ' rebuilt ' + got);
      } catch (e) {
        fail(i, k + ' refused: ' + e.message);
      }
    }
    checked++;
    if (!(await sig.verifyText(v.signer_public_key, v.payload, v.signature))) fail(i, 'the signature does not verify');
    checked++;
    if (await sig.verifyText(v.signer_public_key, v.tampered_payload, v.signature)) fail(i, 'the tampered payload verifies');
    checked++;
    const signer = await sig.importEd25519Seed(v.signer_private_key);
    if ((await sig.signText(signer, v.payload)) !== v.signature) fail(i, 'signing the payload gives another signature');
  }
  const outcomes = input.corpus.map((text) => {
    try {
      return wd.workflowPayload(input.workspace, 7, input.signer, wd.parseDefinition(text));
    } catch (e) {
      return 'refused:' + (e.problem || 'not a format error: ' + e.message);
    }
  });
  return { failures, checked, outcomes };
}
