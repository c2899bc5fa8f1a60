// offer.js - shared by mediad's test pages: send pc's offer (non-trickle, with
// its relay candidates) to the test's /offer bridge to mediad and apply the
// answer. Returns { id, answer } or throws mediad's error.
window.offerToMediad = async (pc) => {
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    setTimeout(resolve, 8000);
  });
  const res = await fetch('/offer', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sdp: pc.localDescription.sdp }) });
  const answer = await res.json();
  if (!answer.ok) throw new Error(`mediad: ${answer.error}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  return { id: answer.id, answer: answer.sdp };
};
