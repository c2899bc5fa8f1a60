// speaker.js - the active speaker of an SFU call. mediad tells it from the
// audio levels browsers put in their packets (RFC 6464) and signald sends it
// to every device as call.speaker {call, user, conn} (docs/PROTOCOL.md), conn
// null when nobody speaks any more. The speaker's tile gets the class
// "speaker" (a highlighted border) and the grid "has-speaker", which shows
// that tile large at its head (call.css).
let current = { call: null, conn: null };

// call.speaker for the call we are in.
export function noteSpeaker(d) {
  current = { call: d.call, conn: d.conn ?? null };
}

// The conn of the call's speaker, or null.
export function speakerOf(callId) {
  return current.call === callId ? current.conn : null;
}

// Mark the tiles (conn -> {el}) of call callId in grid.
export function markSpeaker(grid, callId, tiles) {
  const conn = speakerOf(callId);
  for (const [c, tl] of tiles) tl.el.classList.toggle('speaker', c === conn);
  grid.classList.toggle('has-speaker', conn !== null && tiles.has(conn));
}
